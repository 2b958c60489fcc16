// DESIGN: POST /api/v1/faxes, the submission. The body is JSON with the ids of files
// uploaded before (POST /files), or multipart/form-data with the same fields as text
// parts and the files themselves; a multipart body is turned into the JSON it stands
// for, so both are validated by one reader and errors name the same JSON pointers.
// A broadcast is one job per recipient, all written in ONE transaction with the
// uploads, the audit event and the stored answer: a bad number at position 7 of 10 is
// a 422 naming /to/6 and nothing is written. The order of the checks is the order a
// client fixes them in: the body (422, before the database is asked anything but the
// dial plan), then the Idempotency-Key, then in the transaction the sender's right to
// send (403), the files (404 file.not_found: only the caller's own uploads) and the
// cover page (404 cover_page.not_found).
//
// Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header): the key is
// claimed in its own short transaction before the work (idempotency_keys, status 0 =
// in flight), so a twin request arriving meanwhile finds the claim and answers 409
// api.idempotency_in_progress instead of writing the broadcast twice; the unique
// (user, key) row makes that safe under any concurrency, since the second INSERT
// waits for the first's commit. The answer is stored in the jobs' transaction, so
// either both the jobs and their answer exist or neither does. The same key with the
// same request (the SHA-256 of its canonical form: the parsed JSON re-serialised with
// sorted keys; for multipart, the fields and each file's hash) replays the first
// answer byte for byte; with another request it is 422 api.idempotency_key_reused. A
// request that fails gives its key up, so the client can fix it and retry with the
// same key. Keys live idempotency_lifetime (24 h) per user.
#include "fax_submit.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "fax_json.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/db/queue.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/settings.hpp"
#include "uploads.hpp"

namespace faxbridge::webapi {

Result<db::User> sending_user(db::Tx& tx, std::int64_t user_id) {
  auto user = db::users::get(tx, user_id);
  if (!user) return user;
  if (!user->enable_send) {
    return Error(Code::k_auth_send_not_enabled,
                 "Sending faxes is not enabled for this account; ask an administrator to enable it.");
  }
  return user;
}

void announce_submitted(Context& cx, const std::vector<std::int64_t>& job_ids) {
  if (cx.announcer == nullptr) return;
  const std::string stage = db::conversion_queue().stage();
  for (auto id : job_ids) cx.announcer->work(stage, id);
}

std::optional<TimePoint> parse_date_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y, mo, d, h, mi, s;
  if (text.size() < 20) return std::nullopt;
  const std::string t(text);
  int used = 0;
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 || used != 19) {
    return std::nullopt;
  }
  // TimePoint counts nanoseconds in 64 bits: it ends in 2262.
  if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < t.size() && t[at] == '.') {
    ++at;
    int digits = 0;
    while (at < t.size() && std::isdigit(static_cast<unsigned char>(t[at]))) {
      if (digits < 6) micros = micros * 10 + (t[at] - '0');
      ++digits;
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  int offset_minutes = 0;
  if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
    ++at;
  } else if (at + 6 == t.size() && (t[at] == '+' || t[at] == '-') && t[at + 3] == ':') {
    const int oh = std::atoi(t.substr(at + 1, 2).c_str()), om = std::atoi(t.substr(at + 4, 2).c_str());
    if (!std::isdigit(static_cast<unsigned char>(t[at + 1])) || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (oh * 60 + om) * (t[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != t.size()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                         std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;  // 30 February
  const auto days = std::chrono::sys_days(date);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      days.time_since_epoch() + std::chrono::hours(h) + std::chrono::minutes(mi - offset_minutes) +
      std::chrono::seconds(s) + std::chrono::microseconds(micros)));
}

namespace {

constexpr std::size_t kMaxRecipients = 1000;
constexpr std::size_t kMaxFiles = 20;  // a fax of more documents is a mistake (and a long call)
constexpr std::size_t kMaxLabels = 20;
// A fax scheduled further ahead is a typo in the year more often than a plan.
constexpr auto kMaxScheduleAhead = std::chrono::hours(24 * 366);
// A claim still "in flight" after this long belongs to a request whose process died.
constexpr auto kAbandonedClaim = std::chrono::seconds(120);

struct Recipient {
  std::string number;     // as given
  std::string canonical;  // normalised
  std::string name;
  std::string company;
};

struct FaxRequest {
  std::vector<Recipient> to;
  std::vector<std::int64_t> files;
  std::optional<std::string> cover_page;
  std::string subject;
  std::string note;
  std::string resolution = "fine";
  std::string priority = "normal";
  std::optional<TimePoint> send_at;
  std::optional<int> max_attempts;
  std::optional<int> retry_interval_s;
  std::vector<std::string> labels;
  std::optional<std::string> client_reference;
};

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

// Reads and checks the body; `uploads` files come with it (multipart).
std::optional<api::Problem> read_request(const nlohmann::json& raw, const DialPlan& plan, TimePoint now,
                                         std::size_t uploads, FaxRequest& out,
                                         const std::vector<std::string>& repeated = {}) {
  // `to` takes numbers and {number, name, company} objects; the strings become objects
  // so one reader checks both, and a bad string is reported at /to/N itself.
  nlohmann::json body = raw;
  std::vector<bool> to_was_string;
  if (body.is_object()) {
    auto it = body.find("to");
    if (it != body.end() && it->is_array() && it->size() <= kMaxRecipients) {
      // Fields::each calls back for the objects only: one flag per object, in order.
      for (std::size_t i = 0; i < it->size(); ++i) {
        auto& e = (*it)[i];
        const bool was_string = e.is_string();
        if (was_string) e = nlohmann::json{{"number", e.get<std::string>()}};
        if (e.is_object()) to_was_string.push_back(was_string);
      }
    }
  }
  api::Fields f(body);
  for (const auto& name : repeated) f.reject(name, Code::k_api_field_invalid, "Give this field once.");
  std::size_t index = 0;
  f.each("to", api::Items{1, kMaxRecipients}, [&](api::Fields& r) {
    const bool as_string = index < to_was_string.size() && to_was_string[index];
    ++index;
    Recipient rec;
    r.required("number", rec.number, api::Text{1, 64});
    r.optional("name", rec.name, api::Text{0, 200});
    r.optional("company", rec.company, api::Text{0, 200});
    if (!rec.number.empty()) {
      auto n = normalize_phone(rec.number, plan);
      if (!n) {
        r.reject(as_string ? "" : "number", n.error().code, n.error().message);
      } else {
        rec.canonical = n->canonical;
      }
    }
    out.to.push_back(std::move(rec));
  });
  f.list("files", out.files, api::Items{0, kMaxFiles}, api::Range{1, std::numeric_limits<std::int64_t>::max()});
  f.optional("cover_page", out.cover_page, api::Text{0, 64});
  f.optional("subject", out.subject, api::Text{0, 200});
  f.optional("note", out.note, api::Text{0, 2000});
  f.optional("resolution", out.resolution, api::OneOf{{"fine", "standard"}});
  f.optional("priority", out.priority, api::OneOf{{"low", "normal", "high"}});
  std::optional<std::string> send_at;
  f.optional("send_at", send_at, api::Text{1, 64});
  f.optional("max_attempts", out.max_attempts, api::Range{1, 100});
  f.optional("retry_interval_s", out.retry_interval_s, api::Range{10, 86400});
  f.list("labels", out.labels, api::Items{0, kMaxLabels}, api::Text{1, 64});
  f.optional("client_reference", out.client_reference, api::Text{1, 128});
  if (send_at) {
    out.send_at = parse_date_time(*send_at);
    if (!out.send_at) {
      f.reject("send_at", Code::k_api_field_invalid,
               "Must be an RFC 3339 date-time with a time zone, like 2026-12-01T09:30:00Z.");
    } else if (*out.send_at > now + kMaxScheduleAhead) {
      f.reject("send_at", Code::k_api_field_out_of_range, "Must be within a year from now.");
    }
  }
  for (const auto& l : out.labels) {
    if (has_control(l)) {
      f.reject("labels", Code::k_api_field_invalid, "Labels must not contain control characters (newlines, tabs).");
      break;
    }
  }
  if (out.client_reference && has_control(*out.client_reference)) {
    f.reject("client_reference", Code::k_api_field_invalid, "Must not contain control characters.");
  }
  if (out.files.size() + uploads == 0 && f.ok()) {
    f.reject("files", Code::k_api_field_required,
             "Give at least one document: the ids of uploaded files, or files in parts named \"file\".");
  }
  if (out.files.size() + uploads > kMaxFiles) {
    f.reject("files", Code::k_api_field_too_long, "A fax takes at most " + std::to_string(kMaxFiles) + " documents.");
  }
  return f.finish();
}

// A multipart body as the JSON it stands for. `to` and `files` are repeatable and
// comma-separated, `labels` repeatable; numbers stay strings when they do not parse,
// so the reader reports their type.
nlohmann::json form_as_json(const api::MultipartForm& form, std::vector<std::string>& repeated) {
  nlohmann::json body = nlohmann::json::object();
  auto split = [](const std::string& v) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= v.size()) {
      auto comma = v.find(',', at);
      if (comma == std::string::npos) comma = v.size();
      auto item = v.substr(at, comma - at);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) out.push_back(item);
      at = comma + 1;
    }
    return out;
  };
  auto as_integer = [](const std::string& v) -> nlohmann::json {
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return v;
    }
    return std::stoll(v);
  };
  for (const auto& [name, value] : form.fields) {
    if (name == "to" || name == "files") {
      auto& list = body[name];
      if (list.is_null()) list = nlohmann::json::array();
      for (const auto& item : split(value)) list.push_back(name == "files" ? as_integer(item) : nlohmann::json(item));
    } else if (name == "labels") {
      body[name].push_back(value);
    } else {
      if (body.contains(name) && std::find(repeated.begin(), repeated.end(), name) == repeated.end()) {
        repeated.push_back(name);
      }
      body[name] = (name == "max_attempts" || name == "retry_interval_s") ? as_integer(value) : nlohmann::json(value);
    }
  }
  return body;
}

std::optional<api::Problem> check_idempotency_key(const std::string& key) {
  const bool printable = std::all_of(key.begin(), key.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
  if (key.empty() || key.size() > 255 || !printable) {
    return api::Problem(Code::k_api_bad_request,
                        "The Idempotency-Key header must be 1 to 255 printable ASCII characters (a UUID is a good key).");
  }
  return std::nullopt;
}

api::Reply submit(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  const TimePoint now = cx.clock.now();

  // The body, and for multipart its files (in temp files until the commit).
  nlohmann::json multipart_body;
  std::vector<std::string> repeated;
  std::optional<api::MultipartForm> form;
  std::vector<InspectedUpload> uploads;
  if (req.is_multipart()) {
    auto read = req.multipart(upload_sinks(upload_directory(cx.upload_directory)));
    if (!read) return std::move(read).problem();
    form = std::move(*read);
    multipart_body = form_as_json(*form, repeated);
  }
  const nlohmann::json& body = form ? multipart_body : req.json();

  auto plan_settings = cx.pool.transact([&](db::Tx& tx) { return db::settings::load(tx); });
  if (!plan_settings) return plan_settings.error();
  DialPlan plan;
  plan.country_code = plan_settings->get_string("routing.country_code");
  if (const auto p = plan_settings->get_string("routing.international_prefix"); !p.empty()) {
    plan.international_prefix = p;
  }
  FaxRequest fax;
  if (auto problem = read_request(body, plan, now, form ? form->files.size() : 0, fax, repeated)) return *problem;
  if (form) {
    for (std::size_t i = 0; i < form->files.size(); ++i) {
      auto u = inspect_upload(form->files[i], form->files.size() == 1 ? "/file" : "/file/" + std::to_string(i));
      if (!u) return std::move(u).problem();
      uploads.push_back(std::move(*u));
    }
  }

  // Idempotency-Key: claimed before the work, in its own transaction.
  const auto key = req.header("Idempotency-Key");
  if (key) {
    if (auto problem = check_idempotency_key(*key)) return *problem;
    std::string canonical = "POST /api/v1/faxes\n" + body.dump();
    for (const auto& u : uploads) canonical += "\nfile " + u.sha256_hex + " " + u.filename;
    const auto hash = sha256_hex(canonical);
    auto claim = cx.pool.transact([&](db::Tx& tx) -> Result<db::IdempotencyClaim> {
      // Expired keys go a few at a time with the claims (indexed by created_at), so the
      // table stays the size of a day's keys without a timer.
      if (auto purged = db::idempotency::purge(tx, cx.idempotency_lifetime, 20); !purged) return purged.error();
      return db::idempotency::claim(tx, caller.user_id, *key, hash, cx.idempotency_lifetime, kAbandonedClaim);
    });
    if (!claim) return claim.error();
    switch (claim->kind) {
      case db::IdempotencyClaim::Kind::kClaimed: break;
      case db::IdempotencyClaim::Kind::kReplay: {
        auto stored = nlohmann::json::parse(claim->response, nullptr, false);
        return api::Response::json(stored, claim->status).with_header("Idempotent-Replayed", "true");
      }
      case db::IdempotencyClaim::Kind::kInProgress:
        return api::Problem(Code::k_api_idempotency_in_progress,
                            "A request with this Idempotency-Key is still being processed; retry in a moment to get "
                            "its answer.");
      case db::IdempotencyClaim::Kind::kReused:
        return api::Problem(Code::k_api_idempotency_key_reused,
                            "This Idempotency-Key was used with another request in the last 24 hours; use a new key "
                            "for a new fax.");
    }
  }

  std::optional<api::Problem> refused;  // set with the error that rolls the transaction back
  const std::string source = caller.method == api::AuthMethod::kSession ? "web" : "api";
  struct Made {
    std::vector<std::int64_t> ids;
    std::string answer;  // the JSON body
  };
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<Made> {
    refused.reset();
    auto user = sending_user(tx, caller.user_id);
    if (!user) return user.error();
    if (!fax.files.empty()) {
      auto owned = db::files::owned(tx, caller.user_id, fax.files);
      if (!owned) return owned.error();
      for (std::size_t i = 0; i < fax.files.size(); ++i) {
        if (std::find(owned->begin(), owned->end(), fax.files[i]) == owned->end()) {
          const auto detail = "You have no uploaded file with the id " + std::to_string(fax.files[i]) +
                              "; upload it with POST /api/v1/files and send its id.";
          refused = api::Problem(Code::k_file_not_found, detail);
          refused->errors.push_back({"/files/" + std::to_string(i), Code::k_file_not_found, detail});
          return Error(Code::k_file_not_found, detail);
        }
      }
    }
    if (fax.cover_page && !fax.cover_page->empty()) {
      auto exists = db::faxes::cover_page_exists(tx, *fax.cover_page, user->language);
      if (!exists) return exists.error();
      if (!*exists) {
        const auto detail = "There is no cover page named \"" + *fax.cover_page +
                            "\"; leave cover_page out for the default one, or \"\" for none.";
        refused = api::Problem(Code::k_cover_page_not_found, detail);
        refused->errors.push_back({"/cover_page", Code::k_cover_page_not_found, detail});
        return Error(Code::k_cover_page_not_found, detail);
      }
    }
    std::vector<std::int64_t> documents = fax.files;
    for (const auto& u : uploads) {
      auto f = db::files::create(tx, caller.user_id, u.filename, u.media_type, u.pages, u.bytes);
      if (!f) return f.error();
      documents.push_back(f->id);
    }
    std::vector<db::NewJob> jobs;
    jobs.reserve(fax.to.size());
    for (const auto& r : fax.to) {
      db::NewJob n;
      n.source = source;
      n.sender_user_id = caller.user_id;
      n.recipient_number = r.number;
      n.recipient_canonical = r.canonical;
      n.recipient_name = r.name;
      n.recipient_company = r.company;
      n.subject = fax.subject;
      n.note = fax.note;
      n.cover_page_name = fax.cover_page;
      n.resolution = fax.resolution;
      n.priority = priority_value(fax.priority);
      n.scheduled_at = fax.send_at;
      n.max_attempts = fax.max_attempts;
      n.retry_interval_s = fax.retry_interval_s;
      n.document_ids = documents;
      jobs.push_back(std::move(n));
    }
    auto ids = db::faxes::create(tx, jobs, fax.labels, fax.client_reference, caller.username);
    if (!ids) return ids.error();
    auto records = db::faxes::get_many(tx, *ids);
    if (!records) return records.error();
    Made out{*ids, faxes_json(*records)};
    auto a = db::audit::record(tx, {caller.user_id, caller.username, "fax.create", "fax_job",
                                    std::to_string(ids->front()),
                                    nlohmann::json({{"jobs", *ids}, {"documents", documents}}).dump(),
                                    req.remote_address()});
    if (!a) return a.error();
    if (key) {
      if (auto c = db::idempotency::complete(tx, caller.user_id, *key, 201, out.answer); !c) return c.error();
    }
    return out;
  });
  if (!made) {
    if (key) {
      // Given up, so the client can fix the request and retry with the same key.
      auto released = cx.pool.transact([&](db::Tx& tx) { return db::idempotency::release(tx, caller.user_id, *key); });
      if (!released) log::warn("webapi.idempotency_release_failed", {{"request_id", req.request_id()}});
    }
    if (refused) return *refused;
    return made.error();
  }
  announce_submitted(cx, made->ids);
  log::info("webapi.faxes_submitted", {{"request_id", req.request_id()}, {"user_id", caller.user_id},
                                       {"jobs", static_cast<std::int64_t>(made->ids.size())}});
  return api::Response::text(std::move(made->answer), "application/json", 201);
}

}  // namespace

std::vector<api::Route> fax_submit_routes(Context& cx) {
  return {{"POST", "/api/v1/faxes", api::kFaxUser, api::BodyKind::kJsonOrMultipart,
           [&cx](api::Request& r) { return submit(cx, r); }}};
}

}  // namespace faxbridge::webapi
