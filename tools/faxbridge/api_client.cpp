// DESIGN: the CLI's HTTP client of /api/v1 over cpp-httplib. Each call answers an
// ApiAnswer: the JSON body, or an ApiFailure that says which of three things happened,
// because each asks the person for something else: a problem document (fix the
// request: its code and sentence are shown), no answer (start the API or point
// FAXBRIDGE_API_URL at it: the URL tried is shown), or an answer from something that is
// not the API (a proxy's HTML page, a wrong port). Only the submission of faxes is
// retried, and only when no answer came: the request may have reached the server, so the
// retry carries the same Idempotency-Key and the server answers it with the first
// result (draft-ietf-httpapi-idempotency-key-header) instead of sending the fax twice.
#include "api_client.hpp"

#include <httplib.h>

#include <array>
#include <cstdio>
#include <random>

namespace faxbridge::cli {

ApiArgs resolve_api_args(const std::optional<std::string>& url_flag, const std::optional<std::string>& token_flag,
                         const config::Env& env) {
  ApiArgs a;
  if (url_flag && !url_flag->empty()) {
    a.url = *url_flag;
    a.url_from_flag = true;
  } else if (auto v = env("FAXBRIDGE_API_URL"); v && !v->empty()) {
    a.url = *v;
  }
  if (token_flag && !token_flag->empty()) {
    a.token = *token_flag;
  } else if (auto v = env("FAXBRIDGE_API_TOKEN"); v) {
    a.token = *v;
  }
  return a;
}

std::optional<ApiUrl> parse_api_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  const auto host_begin = scheme_end + 3;
  auto path_begin = url.find('/', host_begin);
  if (path_begin == std::string::npos) path_begin = url.size();
  if (path_begin == host_begin) return std::nullopt;  // no host
  const std::string authority = url.substr(host_begin, path_begin - host_begin);
  if (authority.find_first_of("?#@ ") != std::string::npos) return std::nullopt;
  ApiUrl u;
  u.scheme_host_port = scheme + "://" + authority;
  u.base_path = url.substr(path_begin);
  if (u.base_path.find_first_of("?# ") != std::string::npos) return std::nullopt;
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  return u;
}

std::string new_idempotency_key() {
  std::random_device rd;  // /dev/urandom on Linux
  std::array<unsigned, 4> words{rd(), rd(), rd(), rd()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", words[0], words[1], words[2], words[3]);
  return buf;
}

struct ApiClient::Impl {
  httplib::Client http;
  std::string base_path;
  explicit Impl(const ApiUrl& u) : http(u.scheme_host_port), base_path(u.base_path) {}
};

ApiClient::ApiClient(const ApiUrl& url, std::string display_url, std::string token, std::chrono::seconds read_timeout)
    : impl_(std::make_unique<Impl>(url)), display_url_(std::move(display_url)) {
  while (!display_url_.empty() && display_url_.back() == '/') display_url_.pop_back();
  if (!token.empty()) impl_->http.set_bearer_token_auth(token.c_str());
  impl_->http.set_connection_timeout(10, 0);
  impl_->http.set_read_timeout(static_cast<time_t>(read_timeout.count()), 0);
  impl_->http.set_write_timeout(static_cast<time_t>(read_timeout.count()), 0);
  impl_->http.set_keep_alive(true);
}

ApiClient::~ApiClient() = default;

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

std::string transport_reason(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "could not connect: refused or unreachable";
    case httplib::Error::ConnectionTimeout: return "the connection timed out";
    case httplib::Error::Read: return "no answer: the connection broke or the answer timed out";
    case httplib::Error::Write: return "the request could not be sent: the connection broke";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate is not trusted";
    default: return httplib::to_string(e);
  }
}

ApiAnswer answer_of(const httplib::Result& res, const std::string& url) {
  ApiAnswer a;
  if (!res) {
    ApiFailure f;
    f.kind = ApiFailure::Kind::kUnreachable;
    f.url = url;
    f.detail = transport_reason(res.error());
    a.failure = std::move(f);
    return a;
  }
  a.status = res->status;
  const std::string type = res->get_header_value("Content-Type");
  const bool is_json = starts_with(type, "application/json") || starts_with(type, "application/problem+json");
  if (is_json && !res->body.empty()) {
    a.body = nlohmann::json::parse(res->body, nullptr, false);
  }
  const bool parsed = !is_json || res->body.empty() || !a.body.is_discarded();
  if (res->status >= 200 && res->status < 300 && parsed && (is_json || res->body.empty())) return a;

  ApiFailure f;
  f.url = url;
  f.status = res->status;
  if (a.body.is_object() && a.body.contains("code") && a.body["code"].is_string()) {
    f.kind = ApiFailure::Kind::kProblem;
    f.code = a.body["code"].get<std::string>();
    f.detail = a.body.value("detail", a.body.value("title", std::string("HTTP ") + std::to_string(res->status)));
    if (auto e = a.body.find("errors"); e != a.body.end() && e->is_array()) {
      for (const auto& item : *e) {
        if (!item.is_object()) continue;
        f.field_errors.emplace_back(item.value("field", ""), item.value("detail", item.value("code", "")));
      }
    }
  } else {
    f.kind = ApiFailure::Kind::kNotTheApi;
    f.detail = "HTTP " + std::to_string(res->status) + (type.empty() ? "" : " with " + type.substr(0, type.find(';')));
  }
  if (a.body.is_discarded()) a.body = nullptr;
  a.failure = std::move(f);
  return a;
}

}  // namespace

ApiAnswer ApiClient::get(const std::string& path) {
  ++requests_sent_;
  auto res = impl_->http.Get((impl_->base_path + path).c_str(), httplib::Headers{{"Accept", "application/json"}});
  return answer_of(res, display_url_ + path);
}

ApiAnswer ApiClient::post_json(const std::string& path, const nlohmann::json& body) {
  ++requests_sent_;
  auto res = impl_->http.Post((impl_->base_path + path).c_str(), httplib::Headers{{"Accept", "application/json"}},
                              body.dump(), "application/json");
  return answer_of(res, display_url_ + path);
}

ApiAnswer ApiClient::post_multipart_idempotent(const std::string& path, const std::vector<UploadPart>& parts,
                                               const std::string& idempotency_key) {
  httplib::MultipartFormDataItems items;
  items.reserve(parts.size());
  for (const auto& p : parts) items.push_back({p.name, p.content, p.filename, p.content_type});
  const httplib::Headers headers{{"Accept", "application/json"}, {"Idempotency-Key", idempotency_key}};
  // One boundary for both tries: a server that fingerprints the raw body sees the retry
  // as the same request, not as another body under a reused key (which is a 422).
  const std::string boundary = "faxbridge-" + new_idempotency_key();
  ApiAnswer a;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ++requests_sent_;
    auto res = impl_->http.Post((impl_->base_path + path).c_str(), headers, items, boundary);
    a = answer_of(res, display_url_ + path);
    if (!a.failure || a.failure->kind != ApiFailure::Kind::kUnreachable) break;
    // A refused connection never reached the server; anything else may have. Either way
    // the same key makes the second try safe. A TLS verification failure will not heal.
    if (!res && res.error() == httplib::Error::SSLServerVerification) break;
  }
  return a;
}

}  // namespace faxbridge::cli
