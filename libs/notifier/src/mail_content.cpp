// The facts of each mail kind (mail_content.hpp). One function per kind; each fills
// template values and attachments from rows read in the caller's transaction.
#include "mail_content.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/faxes.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/users.hpp"
#include "faxbridge/document/export.hpp"

namespace faxbridge::notifier {
namespace {

using nlohmann::json;

constexpr int kThumbnailWidth = 400;  // pixels: a first page readable beside the text
constexpr const char* kThumbnailCid = "page1";

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

// "2026-12-02T08:30:05Z" -> "2026-12-02 08:30 UTC"
std::string readable_time(const std::string& iso) {
  if (iso.size() < 16) return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
}

std::string now_text() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

void common(MailContent& m, const db::SettingsSnapshot& s) {
  const auto company = s.get_string("company.name");
  m.values.fields["COMPANY_NAME"] = company;
  if (!company.empty()) m.values.sections.insert("COMPANY");
  m.values.fields["DATE"] = now_text();
}

void set_reference(MailContent& m, const std::string& reference) {
  m.values.fields["REFERENCE"] = reference;
  if (!reference.empty()) m.values.sections.insert("HAS_REFERENCE");
}

void set_subject(MailContent& m, const std::string& subject, const std::string& reference) {
  m.values.fields["SUBJECT"] = subject;
  m.values.fields["SUBJECT_OR_REFERENCE"] = subject.empty() ? reference : subject;
}

void set_error(MailContent& m, const json& error) {
  m.values.fields["ERROR_CODE"] = str(error, "code");
  m.values.fields["ERROR_TEXT"] = str(error, "message");
}

std::optional<std::string> thumbnail_of(db::Tx& tx, std::optional<std::int64_t> document_id) {
  if (!document_id) return std::nullopt;
  auto doc = db::documents::get(tx, *document_id);
  if (!doc) return std::nullopt;
  // A preview that cannot be drawn leaves the mail without it: the fax itself is attached
  // or in the inbox, and a thumbnail is never a reason to hold a mail back.
  auto png = document::fax_page_png(doc->bytes, 0, kThumbnailWidth);
  if (!png) return std::nullopt;
  return *png;
}

void add_thumbnail(MailContent& m, std::optional<std::string> png) {
  if (!png) return;
  m.inline_images.push_back({"page1.png", "image/png", std::move(*png), kThumbnailCid});
  m.values.sections.insert("HAS_THUMBNAIL");
  m.values.fields["THUMBNAIL_CID"] = kThumbnailCid;
}

std::string file_stem(const std::string& reference, std::int64_t id) {
  std::string stem = "fax-" + (reference.empty() ? std::to_string(id) : reference);
  return stem;
}

// The file a fax-to-email mail attaches: the format the router wrote when it routed the
// fax, else today's setting; the TIFF when the PDF will never come (said in the mail).
struct AttachmentChoice {
  std::optional<std::int64_t> document_id;  // none: the user attaches nothing
  std::string media_type = "image/tiff";
  std::string name;
  std::optional<std::string> pdf_error;     // the PDF failed: the TIFF goes instead
};

Result<AttachmentChoice> choose_attachment(const db::notifications::ReceivedFaxFacts& fax, const json& payload,
                                           const db::SettingsSnapshot& s) {
  std::string format = str(payload, "format");
  if (format.empty()) format = s.get_string("incoming.attachment_format");
  const bool attach = !payload.contains("attach") || !payload["attach"].is_boolean() || payload["attach"].get<bool>();
  const std::string stem = file_stem(fax.reference, fax.id);
  AttachmentChoice c;
  c.name = stem + ".tif";
  if (!attach) return c;
  if (format != "pdf") {
    c.document_id = fax.tiff_document_id;
  } else if (fax.pdf_document_id) {
    c.document_id = fax.pdf_document_id;
    c.media_type = "application/pdf";
    c.name = stem + ".pdf";
  } else if (fax.pdf_error_code) {
    c.document_id = fax.tiff_document_id;
    c.pdf_error = *fax.pdf_error_code;
  } else {
    return Error(Code::k_notification_waiting, "The PDF of received fax " + std::to_string(fax.id) +
                                                    " is not made yet; the mail waits for the document converter.");
  }
  return c;
}

template <typename T>
const T* find_in(const std::map<std::int64_t, T>& m, std::int64_t id) {
  auto it = m.find(id);
  return it == m.end() ? nullptr : &it->second;
}

Result<void> fax_to_email(db::Tx& tx, const db::NotificationRow& row, const json& payload,
                          const db::SettingsSnapshot& s, const BatchFacts& facts, MailContent& m) {
  if (!row.received_fax_id) return Error(Code::k_notification_no_recipient, "The notification names no received fax.");
  db::notifications::ReceivedFaxFacts fax;
  if (const auto* known = find_in(facts.received_faxes, *row.received_fax_id)) {
    fax = *known;
  } else {
    auto read = db::notifications::received_fax_facts(tx, *row.received_fax_id);
    if (!read) return read.error();
    fax = std::move(*read);
  }
  m.values.fields["CALLER"] = fax.caller_number.empty() ? "unknown" : fax.caller_number;
  m.values.fields["REMOTE_STATION_ID"] = fax.remote_station_id;
  if (!fax.remote_station_id.empty()) m.values.sections.insert("REMOTE_STATION");
  m.values.fields["CALLED"] = fax.called_number;
  m.values.fields["PAGES"] = std::to_string(fax.pages);
  m.values.fields["DURATION"] = duration_words(fax.duration_s);
  m.values.fields["RECEIVED_AT"] = readable_time(fax.started_at);
  set_reference(m, fax.reference);
  auto choice = choose_attachment(fax, payload, s);
  if (!choice) return choice.error();
  if (choice->pdf_error) {
    m.values.sections.insert("PDF_MISSING");
    m.values.fields["PDF_ERROR"] = *choice->pdf_error;
  }
  if (choice->document_id) {
    // Read in base64, as the mail carries it (mail::Part::base64).
    mail::Part file{choice->name, choice->media_type, "", ""};
    if (const auto* known = find_in(facts.files_base64, *choice->document_id)) {
      file.base64 = known->bytes;
    } else {
      auto doc = db::documents::get_base64(tx, *choice->document_id);
      if (!doc) return doc.error();
      file.base64 = std::move(doc->bytes);
    }
    m.attachments.push_back(std::move(file));
    m.values.sections.insert("HAS_ATTACHMENT");
    m.values.fields["FORMAT"] = choice->media_type == "application/pdf" ? "PDF" : "TIFF";
    m.values.fields["ATTACHMENT_NAME"] = choice->name;
  } else {
    m.values.sections.insert("NO_ATTACHMENT");
  }
  if (s.get_bool("incoming.attach_thumbnail")) add_thumbnail(m, thumbnail_of(tx, fax.tiff_document_id));
  return ok();
}

Result<void> job_facts(db::Tx& tx, const db::NotificationRow& row, const db::SettingsSnapshot& s, MailContent& m,
                       bool with_attempts) {
  if (!row.job_id) return Error(Code::k_notification_no_recipient, "The notification names no fax job.");
  auto fax = db::faxes::get(tx, *row.job_id);
  if (!fax) return fax.error();
  const std::string reference = fax->reference.value_or("");
  set_reference(m, reference);
  set_subject(m, fax->subject, reference);
  m.values.fields["RECIPIENT"] = fax->recipient_number;
  m.values.fields["RECIPIENT_NAME"] = fax->recipient_name;
  if (!fax->recipient_name.empty()) m.values.sections.insert("RECIPIENT_NAMED");
  m.values.fields["PAGES_SENT"] = std::to_string(fax->pages_sent);
  m.values.fields["PAGE_COUNT"] = fax->page_count ? std::to_string(*fax->page_count) : "?";
  m.values.fields["COMPLETED_AT"] = readable_time(fax->completed_at.value_or(fax->updated_at));
  if (fax->scheduled_at) {
    m.values.sections.insert("SCHEDULED");
    m.values.fields["SCHEDULED_AT"] = readable_time(*fax->scheduled_at);
  }
  if (fax->state == "partially_sent") m.values.sections.insert("PARTIAL");
  else m.values.sections.insert("FAILED");
  if (fax->error_code) {
    m.values.fields["ERROR_CODE"] = *fax->error_code;
    m.values.fields["ERROR_TEXT"] = fax->error_detail.value_or("");
  }
  if (!with_attempts) return ok();
  auto attempts = db::attempts::for_job(tx, *row.job_id);
  if (!attempts) return attempts.error();
  auto& list = m.values.lists["ATTEMPTS"];
  for (const auto& a : *attempts) {
    list.push_back({{"NUMBER", std::to_string(a.attempt_no)},
                    {"STARTED_AT", readable_time(a.started_at)},
                    {"RESULT", attempt_words(a, m.language)}});
  }
  if (s.get_bool("incoming.attach_thumbnail")) {
    auto job = db::jobs::get(tx, *row.job_id);
    if (job) add_thumbnail(m, thumbnail_of(tx, job->pages_document_id));
  }
  return ok();
}

}  // namespace

std::string duration_words(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return std::to_string(s) + " s";
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

std::string attempt_words(const db::AttemptRecord& a, const std::string& language) {
  const bool it = language == "it";
  if (!a.outcome) return it ? "in corso" : "in progress";
  std::string w;
  switch (*a.outcome) {
    case db::Outcome::kSent: w = it ? "inviato" : "sent"; break;
    case db::Outcome::kPartiallySent: w = it ? "inviato in parte" : "partially sent"; break;
    case db::Outcome::kBusy: w = it ? "occupato" : "busy"; break;
    case db::Outcome::kNoAnswer: w = it ? "nessuna risposta" : "no answer"; break;
    case db::Outcome::kRejected: w = it ? "rifiutato" : "rejected"; break;
    case db::Outcome::kFailed: w = it ? "non riuscito" : "failed"; break;
    case db::Outcome::kCancelled: w = it ? "annullato" : "cancelled"; break;
    case db::Outcome::kInterrupted: w = it ? "interrotto" : "interrupted"; break;
  }
  if (a.pages_sent > 0) w += ", " + std::to_string(a.pages_sent) + (it ? " pagine" : (a.pages_sent == 1 ? " page" : " pages"));
  if (a.sip_status && *a.sip_status >= 300) w += " (SIP " + std::to_string(*a.sip_status) + ")";
  if (a.t30_text && !a.t30_text->empty() && *a.outcome != db::Outcome::kSent) w += ": " + *a.t30_text;
  if (a.error_code && *a.outcome != db::Outcome::kSent) w += " [" + *a.error_code + "]";
  return w;
}

Result<BatchFacts> read_batch_facts(db::Tx& tx, const std::vector<db::NotificationRow>& rows,
                                    const db::SettingsSnapshot& s) {
  BatchFacts facts;
  std::vector<std::int64_t> user_ids, fax_ids;
  for (const auto& row : rows) {
    if (row.channel == "webhook") continue;
    if (row.user_id) user_ids.push_back(*row.user_id);
    if (row.kind == "fax_to_email" && row.received_fax_id) fax_ids.push_back(*row.received_fax_id);
  }
  auto users = db::users::get_all(tx, user_ids);
  if (!users) return users.error();
  for (auto& u : *users) facts.users.emplace(u.id, std::move(u));
  auto faxes = db::notifications::received_fax_facts_all(tx, fax_ids);
  if (!faxes) return faxes.error();
  for (auto& f : *faxes) facts.received_faxes.emplace(f.id, std::move(f));
  std::vector<std::int64_t> file_ids;
  for (const auto& row : rows) {
    if (row.channel == "webhook" || row.kind != "fax_to_email" || !row.received_fax_id) continue;
    const auto* fax = find_in(facts.received_faxes, *row.received_fax_id);
    if (!fax) continue;
    const auto& payload = facts.payloads.emplace(row.id, json::parse(row.payload_json, nullptr, false)).first->second;
    auto choice = choose_attachment(*fax, payload, s);
    if (choice && choice->document_id) file_ids.push_back(*choice->document_id);
  }
  auto files = db::documents::get_base64_all(tx, file_ids);
  if (!files) return files.error();
  for (auto& d : *files) facts.files_base64.emplace(d.id, std::move(d));
  return facts;
}

Result<MailContent> load_mail_content(db::Tx& tx, const db::NotificationRow& row, const db::SettingsSnapshot& s,
                                      const BatchFacts& facts) {
  MailContent m;
  m.template_name = row.kind;
  const auto parsed = facts.payloads.find(row.id);  // read_batch_facts parsed it, when it looked at the row
  json own;
  const json& payload = parsed != facts.payloads.end() ? parsed->second : (own = json::parse(row.payload_json, nullptr, false));
  if (row.user_id) {
    std::optional<db::User> user;
    if (const auto* known = find_in(facts.users, *row.user_id)) {
      user = *known;
    } else if (auto read = db::users::get(tx, *row.user_id)) {
      user = std::move(*read);
    }
    if (user) {
      m.language = user->language;
      m.values.fields["USER_NAME"] = user->display_name.empty() ? user->username : user->display_name;
    }
  }
  if (const auto l = str(payload, "language"); !l.empty()) m.language = l;
  common(m, s);
  const json error = payload.is_object() && payload.contains("error") ? payload["error"] : json();
  if (row.kind == "fax_to_email") {
    if (auto r = fax_to_email(tx, row, payload, s, facts, m); !r) return r.error();
  } else if (row.kind == "return_receipt" || row.kind == "failure_receipt") {
    // Receipts answer the sender's request, as replies do: RFC 3834 auto-replied.
    m.auto_submitted = "auto-replied";
    if (auto r = job_facts(tx, row, s, m, true); !r) return r.error();
    if (!error.is_null() && m.values.fields["ERROR_TEXT"].empty()) set_error(m, error);
  } else if (row.kind == "enqueued_receipt") {
    m.auto_submitted = "auto-replied";
    if (auto r = job_facts(tx, row, s, m, false); !r) return r.error();
  } else if (row.kind == "send_refused" || row.kind == "ingest_refused") {
    // Replies to a sender's own request: RFC 3834 auto-replied.
    m.auto_submitted = "auto-replied";
    m.in_reply_to = str(payload, "in_reply_to");
    set_error(m, error);
    std::string reference = str(payload, "reference"), subject = str(payload, "subject");
    if (row.job_id) {
      auto fax = db::faxes::get(tx, *row.job_id);
      if (fax) {
        if (reference.empty()) reference = fax->reference.value_or("");
        if (subject.empty()) subject = fax->subject;
      }
    }
    set_reference(m, reference);
    set_subject(m, subject, reference);
  } else if (row.kind == "failed_incoming_call") {
    m.values.fields["CALLER"] = str(payload, "caller").empty() ? "unknown" : str(payload, "caller");
    m.values.fields["CALLED"] = str(payload, "called");
    m.values.fields["ERROR_CODE"] = str(payload, "error_code");
    m.values.fields["RECEIVED_AT"] = m.values.fields["DATE"];
    if (row.received_fax_id) {
      auto fax = db::notifications::received_fax_facts(tx, *row.received_fax_id);
      if (fax) m.values.fields["RECEIVED_AT"] = readable_time(fax->started_at);
    }
  } else if (row.kind == "admin_alert") {
    m.values.fields["ALERT_CODE"] = str(error, "code");
    m.values.fields["ALERT_MESSAGE"] = str(error, "message");
    m.values.fields["ALERT_INTERVAL"] = std::to_string(s.get_int("notifications.admin_alert_interval_min"));
    m.alert_cause = str(payload, "cause");
    if (m.alert_cause.empty()) m.alert_cause = str(error, "code");
    if (m.alert_cause.empty()) m.alert_cause = "unknown";
    std::string reference = str(payload, "reference");
    if (reference.empty() && row.job_id) {
      auto fax = db::faxes::get(tx, *row.job_id);
      if (fax) reference = fax->reference.value_or("");
    }
    set_reference(m, reference);
  } else {
    return Error(Code::k_notification_no_recipient, "The notifier has no mail for the kind " + row.kind + ".");
  }
  return m;
}

}  // namespace faxbridge::notifier
