// DESIGN: see faxbridge/apijson/fax_json.hpp. A job's error fields become the `failure` object whenever a
// code is set: on a failed, partially sent or cancelled fax, and also while it waits
// for its next attempt (retry_wait), where it says why the last call did not get
// through. The SIP status and T.30 code are the last call's that has them.
#include "faxbridge/apijson/fax_json.hpp"

#include <algorithm>
#include <cstdio>

#include "faxbridge/core/clock.hpp"
#include "faxbridge/core/error.hpp"

namespace faxbridge::apijson {
namespace {

template <typename T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// The text of a JSON string as nlohmann dumps it (ensure_ascii off): `"` and `\\`
// escaped, control characters as \b \f \n \r \t or \u00xx, the rest as it is. Text
// with bytes above 0x7f goes through nlohmann itself, so what is not UTF-8 is refused
// exactly as before (type_error.316) instead of being checked twice here.
void put_string(std::string& out, std::string_view s) {
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    out += nlohmann::json(std::string(s)).dump();
    return;
  }
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<unsigned>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void put_int(std::string& out, std::int64_t v) { out += std::to_string(v); }
void put_bool(std::string& out, bool v) { out += v ? "true" : "false"; }

void put_opt_string(std::string& out, const std::optional<std::string>& v) {
  if (v) put_string(out, *v);
  else out += "null";
}

void put_opt_int(std::string& out, const std::optional<int>& v) {
  if (v) put_int(out, *v);
  else out += "null";
}

// An object's members, in the order the caller adds them: callers add them sorted by
// key, as nlohmann's std::map dumps them.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;  // our own constant names: nothing to escape
    out_ += "\":";
    return out_;
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  bool first_ = true;
};

bool failure_retryable(const db::FaxRecord& f) {
  Code code{};
  const bool known = code_from_name(*f.error_code, code);
  return f.error_retryable ? *f.error_retryable : (known && is_retryable_job(code));
}

void put_fax(std::string& out, const db::FaxRecord& f) {
  ObjectWriter o(out);
  put_int(o.key("attempts_count"), f.attempts);
  put_bool(o.key("cancel_requested"), f.cancel_requested);
  put_opt_string(o.key("client_reference"), f.client_reference);
  put_opt_string(o.key("completed_at"), f.completed_at);
  put_opt_string(o.key("cover_page"), f.cover_page_name);
  put_string(o.key("created_at"), f.created_at);
  put_string(o.key("direction"), "outbound");
  auto& failure = o.key("failure");
  if (f.error_code) {
    ObjectWriter e(failure);
    put_opt_string(e.key("category"), f.error_category);
    put_string(e.key("code"), *f.error_code);
    put_string(e.key("detail"), f.error_detail.value_or(""));
    put_bool(e.key("retryable"), failure_retryable(f));
    put_opt_int(e.key("sip_status"), f.last_sip_status);
    put_opt_int(e.key("t30_code"), f.last_t30_code);
    e.close();
  } else {
    failure += "null";
  }
  auto& files = o.key("files");
  files += '[';
  for (std::size_t i = 0; i < f.document_ids.size(); ++i) {
    if (i > 0) files += ',';
    put_int(files, f.document_ids[i]);
  }
  files += ']';
  put_int(o.key("id"), f.id);
  auto& labels = o.key("labels");
  labels += '[';
  for (std::size_t i = 0; i < f.labels.size(); ++i) {
    if (i > 0) labels += ',';
    put_string(labels, f.labels[i]);
  }
  labels += ']';
  put_opt_int(o.key("max_attempts"), f.max_attempts);
  put_string(o.key("note"), f.note);
  put_int(o.key("pages_confirmed"), f.pages_sent);
  put_opt_int(o.key("pages_total"), f.page_count);
  put_string(o.key("priority"), priority_name(f.priority));
  put_string(o.key("recipient_company"), f.recipient_company);
  put_string(o.key("recipient_name"), f.recipient_name);
  put_opt_string(o.key("reference"), f.reference);
  put_string(o.key("resolution"), f.resolution);
  put_opt_int(o.key("retry_interval_s"), f.retry_interval_s);
  put_opt_string(o.key("send_at"), f.scheduled_at);
  auto& sender = o.key("sender");
  if (f.sender_user_id) {
    ObjectWriter s(sender);
    put_int(s.key("id"), *f.sender_user_id);
    put_string(s.key("username"), f.sender_username.value_or(""));
    s.close();
  } else {
    sender += "null";
  }
  put_string(o.key("status"), f.state);
  put_string(o.key("subject"), f.subject);
  put_string(o.key("to"), f.recipient_number);
  put_string(o.key("updated_at"), f.updated_at);
  o.close();
}

void put_faxes(ObjectWriter& o, const std::vector<db::FaxRecord>& faxes) {
  auto& items = o.key("faxes");
  items.reserve(items.size() + 700 * faxes.size());  // a fax is 600-700 bytes
  items += '[';
  for (std::size_t i = 0; i < faxes.size(); ++i) {
    if (i > 0) items += ',';
    put_fax(items, faxes[i]);
  }
  items += ']';
}

}  // namespace

std::string faxes_json(const std::vector<db::FaxRecord>& faxes) {
  std::string out;
  ObjectWriter o(out);
  put_faxes(o, faxes);
  o.close();
  return out;
}

std::string fax_page_json(const std::vector<db::FaxRecord>& faxes, const std::optional<std::string>& next_cursor) {
  std::string out;
  ObjectWriter o(out);
  put_faxes(o, faxes);
  put_opt_string(o.key("next_cursor"), next_cursor);
  o.close();
  return out;
}

int priority_value(std::string_view name) {
  if (name == "high") return kPriorityHigh;
  if (name == "low") return kPriorityLow;
  return kPriorityNormal;
}

std::string_view priority_name(int value) {
  if (value < kPriorityNormal) return "high";
  if (value > kPriorityNormal) return "low";
  return "normal";
}

nlohmann::json fax_json(const db::FaxRecord& f) {
  nlohmann::json failure = nullptr;
  if (f.error_code) {
    failure = {{"category", or_null(f.error_category)},
               {"code", *f.error_code},
               {"t30_code", or_null(f.last_t30_code)},
               {"sip_status", or_null(f.last_sip_status)},
               {"retryable", failure_retryable(f)},
               {"detail", f.error_detail.value_or("")}};
  }
  nlohmann::json sender = nullptr;
  if (f.sender_user_id) sender = {{"id", *f.sender_user_id}, {"username", f.sender_username.value_or("")}};
  return {{"id", f.id},
          {"reference", or_null(f.reference)},
          {"direction", "outbound"},
          {"status", f.state},
          {"to", f.recipient_number},
          {"recipient_name", f.recipient_name},
          {"recipient_company", f.recipient_company},
          {"subject", f.subject},
          {"note", f.note},
          {"cover_page", or_null(f.cover_page_name)},
          {"resolution", f.resolution},
          {"priority", std::string(priority_name(f.priority))},
          {"send_at", or_null(f.scheduled_at)},
          {"max_attempts", or_null(f.max_attempts)},
          {"retry_interval_s", or_null(f.retry_interval_s)},
          {"labels", f.labels},
          {"client_reference", or_null(f.client_reference)},
          {"sender", std::move(sender)},
          {"files", f.document_ids},
          {"pages_total", or_null(f.page_count)},
          {"pages_confirmed", f.pages_sent},
          {"attempts_count", f.attempts},
          {"cancel_requested", f.cancel_requested},
          {"failure", std::move(failure)},
          {"created_at", f.created_at},
          {"updated_at", f.updated_at},
          {"completed_at", or_null(f.completed_at)}};
}

nlohmann::json attempt_json(const db::AttemptRecord& a) {
  return {{"number", a.attempt_no},
          {"started_at", a.started_at},
          {"ended_at", or_null(a.ended_at)},
          {"outcome", a.outcome ? nlohmann::json(std::string(db::outcome_name(*a.outcome))) : nlohmann::json(nullptr)},
          {"sip_status", or_null(a.sip_status)},
          {"t30_code", or_null(a.t30_code)},
          {"t30_text", or_null(a.t30_text)},
          {"pages_sent", a.pages_sent},
          {"bit_rate", or_null(a.bit_rate)},
          {"media", or_null(a.media)},
          {"remote_station_id", or_null(a.remote_station_id)},
          {"error_code", or_null(a.error_code)}};
}

nlohmann::json file_json(const db::StoredFile& f) {
  return {{"id", f.id},
          {"filename", f.filename},
          {"media_type", f.media_type},
          {"size_bytes", f.size_bytes},
          {"sha256", f.sha256_hex},
          {"pages", or_null(f.page_count)},
          {"created_at", f.created_at}};
}

nlohmann::json inbox_fax_json(const db::InboxFax& f) {
  const auto time_or_null = [](const std::optional<TimePoint>& t) {
    return t ? nlohmann::json(iso8601_utc(*t)) : nlohmann::json(nullptr);
  };
  // The row's state is the router's pipeline; a caller needs the outcome of the call.
  const std::string status = f.state == "receiving" ? "receiving" : f.state == "failed" ? "failed" : "received";
  nlohmann::json failure = nullptr;
  if (f.error_code) {
    failure = {{"code", *f.error_code},
               {"detail", f.t30_text && !f.t30_text->empty()
                              ? *f.t30_text
                              : "The call ended with " + *f.error_code + "; the pages that arrived are kept."}};
  }
  nlohmann::json via = nullptr;
  if (f.via_group_id) via = {{"id", *f.via_group_id}, {"name", f.via_group_name}};
  return {{"id", f.id},
          {"reference", f.reference ? nlohmann::json(*f.reference) : nlohmann::json(nullptr)},
          {"direction", "inbound"},
          {"status", status},
          {"from", f.caller_number},
          {"to", f.called_number},
          {"remote_station_id", f.remote_station_id},
          {"pages", f.pages},
          {"media", f.media ? nlohmann::json(*f.media) : nlohmann::json(nullptr)},
          {"received_at", iso8601_utc(f.received_at)},
          {"ended_at", time_or_null(f.ended_at)},
          {"read", f.read},
          {"read_at", time_or_null(f.read_at)},
          {"via_group", via},
          {"failure", failure}};
}

}  // namespace faxbridge::apijson
