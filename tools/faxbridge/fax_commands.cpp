// DESIGN: `faxbridge send` and `faxbridge faxes ...`, the shell's front door to the
// REST API. `send` uploads the files and the fields as one multipart POST /api/v1/faxes
// (one fax per recipient comes back) with a random Idempotency-Key, so the one retry
// the client makes after a lost answer cannot send twice; it prints one line per fax
// (id and reference number: what a person quotes) and, with --wait, polls each fax
// that is not final (GET /api/v1/faxes/{id}, once per poll interval) and shows a status
// line per fax, redrawn in place on a terminal, printed on change elsewhere, until every
// fax is final. There is no time limit on the wait: a fax in retry_wait may legitimately
// take hours; Ctrl-C stops the waiting, never the fax. Errors go to stderr as
// `error: <detail> (<code>)` with an exit status per kind (fax_commands.hpp).
#include "fax_commands.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

namespace faxbridge::cli {

using nlohmann::json;

namespace {

std::string text(const json& j, const char* key, const std::string& none = "") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return none;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::string lower_extension(const std::string& filename) {
  const auto dot = filename.rfind('.');
  if (dot == std::string::npos || filename.find('/', dot) != std::string::npos) return "";
  std::string ext = filename.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The client for `api`, or the exit status after explaining what is wrong.
std::optional<int> check_api(const ApiArgs& api, std::ostream& err, std::optional<ApiUrl>& url) {
  url = parse_api_url(api.url);
  if (!url) {
    err << "error: the API URL \"" << api.url << "\" is not an http:// or https:// URL; set FAXBRIDGE_API_URL "
        << "(or --api-url) to e.g. " << kDefaultApiUrl << "\n";
    return kExitUsage;
  }
  if (api.token.empty()) {
    err << "error: no API token; make one with `faxbridge tokens create USERNAME` and set FAXBRIDGE_API_TOKEN "
        << "(or pass --token)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

int report(const ApiFailure& f, const ApiArgs& api, std::ostream& err) {
  err << failure_text(f, api);
  return failure_exit(f);
}

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string query_escape(const std::string& v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Pages confirmed so far: the fax's count is written when a call ends, so during a call
// the running attempt's count (pages the receiver confirmed in it) is the live one.
std::string pages_text(const json& fax) {
  long confirmed = fax.value("pages_confirmed", 0L);
  if (auto a = fax.find("attempts"); a != fax.end() && a->is_array() && !a->empty()) {
    const json& last = a->back();
    if (last.is_object() && last.value("outcome", json()).is_null() && last.value("pages_sent", json()).is_number())
      confirmed = std::max(confirmed, last["pages_sent"].get<long>());
  }
  return std::to_string(confirmed) + "/" + text(fax, "pages_total", "?");
}

}  // namespace

std::vector<std::string> split_recipients(const std::vector<std::string>& typed) {
  std::vector<std::string> out;
  for (const auto& value : typed) {
    std::size_t start = 0;
    while (start <= value.size()) {
      auto comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string piece = value.substr(start, comma - start);
      const auto first = piece.find_first_not_of(" \t");
      const auto last = piece.find_last_not_of(" \t");
      if (first != std::string::npos) out.push_back(piece.substr(first, last - first + 1));
      start = comma + 1;
    }
  }
  return out;
}

std::string media_type_for(const std::string& filename) {
  const std::string ext = lower_extension(filename);
  if (ext == "pdf") return "application/pdf";
  if (ext == "tif" || ext == "tiff") return "image/tiff";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "txt") return "text/plain";
  if (ext == "docx") return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  if (ext == "doc") return "application/msword";
  if (ext == "odt") return "application/vnd.oasis.opendocument.text";
  if (ext == "rtf") return "application/rtf";
  if (ext == "xlsx") return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  if (ext == "pptx") return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
  return "application/octet-stream";
}

bool is_final_status(std::string_view status) {
  return status == "sent" || status == "partially_sent" || status == "failed" || status == "cancelled";
}

std::string status_line(const json& fax) {
  std::ostringstream line;
  line << text(fax, "reference", "-") << "  " << text(fax, "to", "?") << "  " << text(fax, "status", "?")
       << "  pages " << pages_text(fax);
  const std::string attempts = text(fax, "attempts_count", "0");
  if (attempts != "0") line << "  attempt " << attempts;
  const auto failure = fax.find("failure");
  if (failure != fax.end() && failure->is_object()) {
    line << "  " << text(*failure, "code");
    const std::string detail = text(*failure, "detail");
    if (!detail.empty()) line << ": " << detail;
  }
  return line.str();
}

std::string failure_text(const ApiFailure& f, const ApiArgs& api) {
  std::ostringstream s;
  switch (f.kind) {
    case ApiFailure::Kind::kProblem:
      s << "error: " << f.detail << " (" << f.code << ")\n";
      for (const auto& [field, detail] : f.field_errors) s << "  " << (field.empty() ? "-" : field) << ": " << detail << "\n";
      break;
    case ApiFailure::Kind::kUnreachable:
      s << "error: cannot reach the Faxbridge API at " << f.url << " (" << f.detail << "); start it (scripts/run) "
        << (api.url_from_flag ? "or pass its URL with --api-url" : "or set FAXBRIDGE_API_URL to its URL")
        << " (now " << api.url << ")\n";
      break;
    case ApiFailure::Kind::kNotTheApi:
      s << "error: " << f.url << " answered " << f.detail << ", not as the Faxbridge API does; "
        << (api.url_from_flag ? "check --api-url" : "check FAXBRIDGE_API_URL") << " (now " << api.url << ")\n";
      break;
  }
  return s.str();
}

int failure_exit(const ApiFailure& f) {
  return f.kind == ApiFailure::Kind::kProblem ? kExitRefused : kExitUnreachable;
}

void StatusBoard::show(const std::vector<std::string>& lines) {
  if (terminal_) {
    // Back to the first line drawn, then each line cleared and drawn again.
    if (!shown_.empty()) out_ << "\033[" << shown_.size() << "A";
    for (const auto& l : lines) out_ << "\r\033[K" << l << "\n";
  } else {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i >= shown_.size() || shown_[i] != lines[i]) out_ << lines[i] << "\n";
    }
  }
  out_.flush();
  shown_ = lines;
}

int fax_send(const ApiArgs& api, const SendArgs& args, std::ostream& out, std::ostream& err, bool out_is_terminal) {
  std::optional<ApiUrl> url;
  if (auto bad = check_api(api, err, url)) return *bad;
  const auto recipients = split_recipients(args.to);
  if (recipients.empty()) {
    err << "error: no recipient; give --to NUMBER (several as --to A,B or --to A --to B)\n";
    return kExitUsage;
  }
  if (args.files.empty()) {
    err << "error: no file to send; name one or more documents (PDF, TIFF, DOCX, ...)\n";
    return kExitUsage;
  }
  std::vector<UploadPart> parts;
  for (const auto& number : recipients) parts.push_back({"to", number, "", ""});
  if (!args.cover.empty()) parts.push_back({"cover_page", args.cover, "", ""});
  if (!args.subject.empty()) parts.push_back({"subject", args.subject, "", ""});
  if (!args.note.empty()) parts.push_back({"note", args.note, "", ""});
  for (const auto& path : args.files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    if (in) bytes << in.rdbuf();
    if (!in) {
      err << "error: cannot read " << path << "; check the name and that you may read it\n";
      return kExitUsage;
    }
    parts.push_back({"file", bytes.str(), base_name(path), media_type_for(path)});
  }

  ApiClient client(*url, api.url, api.token);
  const std::string key = args.idempotency_key.empty() ? new_idempotency_key() : args.idempotency_key;
  auto sent = client.post_multipart_idempotent("/api/v1/faxes", parts, key);
  if (!sent.ok()) return report(*sent.failure, api, err);
  if (!sent.body.is_object() || !sent.body.contains("faxes") || !sent.body["faxes"].is_array()) {
    err << "error: " << api.url << "/api/v1/faxes answered without a list of faxes; is it the Faxbridge API?\n";
    return kExitUnreachable;
  }
  std::vector<json> faxes(sent.body["faxes"].begin(), sent.body["faxes"].end());
  for (const auto& fax : faxes) {
    out << "fax " << text(fax, "id") << " to " << text(fax, "to") << ": reference " << text(fax, "reference", "-")
        << ", " << text(fax, "status") << "\n";
  }
  out.flush();
  if (!args.wait) return kExitOk;

  StatusBoard board(out, out_is_terminal);
  int unreachable_polls = 0;
  for (;;) {
    std::vector<std::string> lines;
    bool all_final = true;
    for (auto& fax : faxes) {
      if (!is_final_status(text(fax, "status"))) {
        auto now = client.get("/api/v1/faxes/" + text(fax, "id"));
        if (now.ok() && now.body.is_object()) {
          fax = std::move(now.body);
          unreachable_polls = 0;
        } else if (now.failure && now.failure->kind == ApiFailure::Kind::kUnreachable && ++unreachable_polls < 60) {
          // The API restarting is no reason to give up on a fax that goes on without it.
        } else if (now.failure) {
          return report(*now.failure, api, err);
        }
      }
      all_final = all_final && is_final_status(text(fax, "status"));
      lines.push_back(status_line(fax));
    }
    board.show(lines);
    if (all_final) break;
    std::this_thread::sleep_for(args.poll_interval);
  }
  const auto sent_count = std::count_if(faxes.begin(), faxes.end(), [](const json& f) { return text(f, "status") == "sent"; });
  if (static_cast<std::size_t>(sent_count) == faxes.size()) return kExitOk;
  err << "error: " << (faxes.size() - static_cast<std::size_t>(sent_count)) << " of " << faxes.size()
      << " fax(es) not sent; `faxbridge faxes show ID` shows why\n";
  return kExitNotSent;
}

int faxes_list(const ApiArgs& api, const ListArgs& args, std::ostream& out, std::ostream& err) {
  std::optional<ApiUrl> url;
  if (auto bad = check_api(api, err, url)) return *bad;
  ApiClient client(*url, api.url, api.token);
  std::string path = "/api/v1/faxes?limit=" + std::to_string(args.limit);
  if (!args.status.empty()) path += "&status=" + query_escape(args.status);
  if (!args.cursor.empty()) path += "&cursor=" + query_escape(args.cursor);
  auto got = client.get(path);
  if (!got.ok()) return report(*got.failure, api, err);
  if (args.json) {
    out << got.body.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "REFERENCE", "STATUS", "TO", "PAGES", "CREATED"}};
  for (const auto& fax : got.body.value("faxes", json::array())) {
    std::string created = text(fax, "created_at");
    if (created.size() >= 16) created = created.substr(0, 10) + " " + created.substr(11, 5);
    rows.push_back({text(fax, "id"), text(fax, "reference", "-"), text(fax, "status"), text(fax, "to"),
                    pages_text(fax), created});
  }
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(widths[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  }
  if (rows.size() == 1) out << "(no faxes" << (args.status.empty() ? "" : " with status " + args.status) << ")\n";
  const std::string next = text(got.body, "next_cursor");
  // The next page keeps this page's filter: a cursor belongs to the filtered list.
  if (!next.empty())
    out << "more: faxbridge faxes list" << (args.status.empty() ? "" : " --status " + args.status) << " --limit "
        << args.limit << " --cursor " << next << "\n";
  return kExitOk;
}

int faxes_show(const ApiArgs& api, std::int64_t id, bool as_json, std::ostream& out, std::ostream& err) {
  std::optional<ApiUrl> url;
  if (auto bad = check_api(api, err, url)) return *bad;
  ApiClient client(*url, api.url, api.token);
  auto got = client.get("/api/v1/faxes/" + std::to_string(id));
  if (!got.ok()) return report(*got.failure, api, err);
  const json& fax = got.body;
  if (as_json) {
    out << fax.dump(2) << "\n";
    return kExitOk;
  }
  auto row = [&](const char* label, const std::string& value) {
    if (!value.empty()) out << "  " << std::left << std::setw(12) << label << value << "\n";
  };
  out << "fax " << text(fax, "id") << "  reference " << text(fax, "reference", "-") << "\n";
  row("status", text(fax, "status"));
  std::string to = text(fax, "to");
  const std::string name = text(fax, "recipient_name"), company = text(fax, "recipient_company");
  if (!name.empty() || !company.empty())
    to += " (" + name + (name.empty() || company.empty() ? "" : ", ") + company + ")";
  row("to", to);
  row("subject", text(fax, "subject"));
  row("note", text(fax, "note"));
  row("cover page", text(fax, "cover_page"));
  row("pages", pages_text(fax) + " confirmed");
  const std::string max_attempts = text(fax, "max_attempts");
  row("attempts", text(fax, "attempts_count", "0") + (max_attempts.empty() ? "" : " of at most " + max_attempts));
  if (auto f = fax.find("failure"); f != fax.end() && f->is_object()) {
    std::string failure = text(*f, "code") + ": " + text(*f, "detail");
    if (f->value("retryable", false)) failure += " (retryable)";
    row("failure", failure);
  }
  if (auto s = fax.find("sender"); s != fax.end() && s->is_object()) row("sender", text(*s, "username"));
  row("created", text(fax, "created_at"));
  row("completed", text(fax, "completed_at"));
  const json attempts = fax.value("attempts", json::array());
  if (!attempts.empty()) {
    out << "attempts:\n";
    for (const auto& a : attempts) {
      out << "  #" << text(a, "number") << "  " << text(a, "started_at") << "  " << text(a, "outcome", "running");
      if (!text(a, "sip_status").empty()) out << "  SIP " << text(a, "sip_status");
      if (!text(a, "t30_code").empty()) out << "  T.30 " << text(a, "t30_code") << " " << text(a, "t30_text");
      out << "  pages " << text(a, "pages_sent", "0");
      if (!text(a, "media").empty()) out << "  " << text(a, "media");
      if (!text(a, "bit_rate").empty()) out << " " << text(a, "bit_rate") << " bit/s";
      if (!text(a, "remote_station_id").empty()) out << "  remote \"" << text(a, "remote_station_id") << "\"";
      if (!text(a, "error_code").empty()) out << "  " << text(a, "error_code");
      out << "\n";
    }
  }
  return kExitOk;
}

int faxes_cancel(const ApiArgs& api, std::int64_t id, std::ostream& out, std::ostream& err) {
  std::optional<ApiUrl> url;
  if (auto bad = check_api(api, err, url)) return *bad;
  ApiClient client(*url, api.url, api.token);
  auto done = client.post_json("/api/v1/faxes/" + std::to_string(id) + "/cancel", json::object());
  if (!done.ok()) return report(*done.failure, api, err);
  out << "fax " << text(done.body, "id") << " (reference " << text(done.body, "reference", "-") << "): "
      << text(done.body, "status") << "\n";
  return kExitOk;
}

}  // namespace faxbridge::cli
