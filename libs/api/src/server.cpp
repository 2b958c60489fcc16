// DESIGN: see server.hpp. cpp-httplib does the sockets, the thread pool and the HTTP
// framing; one catch-all handler per method hands every request to Impl::handle, which
// owns routing, so that 404, 405 and every problem look the same and are counted the
// same. Body-carrying methods are registered with a ContentReader, so cpp-httplib
// reads nothing before we have decided to.
//
// Two cpp-httplib 0.11.4 behaviours shape the body handling:
//  - A keep-alive connection goes on to parse the next request right after the unread
//    rest of a body, and its request-line reader grows without bound until a newline.
//    So a body we did not read to its end must end the connection. The only way a
//    handler can make it do so is a response written by a content provider that
//    returns false after writing everything (write fails -> the loop ends -> close);
//    that is close_after_response().
//  - Its error handler runs for every status >= 400 it writes, ours included; the
//    X-Request-Id header marks a response we rendered, which it leaves alone.
#include "faxbridge/api/server.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <sys/socket.h>

#include "faxbridge/api/request_id.hpp"
#include "faxbridge/core/log.hpp"
#include "observe.hpp"

namespace faxbridge::api {

namespace {
using Clock = std::chrono::steady_clock;

// The most of a refused body we read to keep the connection and let the client read
// the answer (a JSON body sent without credentials, or a few MB over the JSON limit: a
// client still writing when the server closes gets a reset instead of the 413);
// anything larger is cut off with the connection.
constexpr std::uint64_t kDrainMaxBytes = 4 << 20;

// One request's bookkeeping, from handle() to observe().
struct Exchange {
  std::string request_id;
  std::string route = kUnmatchedRoute;
  BodyHeaders body;
  std::uint64_t bytes_in = 0;
  bool body_started = false;   // a receiver was handed to the ContentReader
  bool body_complete = false;  // it got to the end of the body
  std::int64_t user_id = 0;
};

BodyHeaders body_headers(const httplib::Request& req) {
  BodyHeaders h;
  h.content_type = req.get_header_value("Content-Type");
  h.content_encoding = req.get_header_value("Content-Encoding");
  h.chunked = strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") == 0;
  if (req.has_header("Content-Length")) {
    const auto text = req.get_header_value("Content-Length");
    std::uint64_t n = 0;
    bool digits = !text.empty() && text.size() <= 19;
    for (char c : text) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) {
      h.content_length = n;
    } else {
      h.length_malformed = true;
    }
  }
  return h;
}

Code code_for_httplib_status(int status) {
  switch (status) {
    case 404: return Code::k_api_not_found;
    case 413: return Code::k_api_body_too_large;
    case 414: return Code::k_api_uri_too_long;
    default: return status >= 500 ? Code::k_api_internal : Code::k_api_bad_request;
  }
}

std::string detail_for_httplib_status(int status) {
  switch (status) {
    case 414: return "The request line is too long.";
    case 404: return "No API endpoint has this path.";
    default:
      return status >= 500 ? "The request failed on the server." : "The request is not valid HTTP for this server.";
  }
}

// Writes `body` and then makes cpp-httplib end the connection (see the DESIGN note).
// `set_length`: the expect-100 path writes without the range step that otherwise adds
// Content-Length.
void close_after_response(httplib::Response& res, std::string body, const std::string& content_type,
                          bool set_length) {
  res.set_header("Connection", "close");
  if (body.empty()) return;  // nothing to write through; cpp-httplib keeps the connection
  if (set_length) res.set_header("Content-Length", std::to_string(body.size()));
  const auto size = body.size();
  res.set_content_provider(size, content_type,
                           [body = std::move(body)](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             sink.write(body.data() + offset, length);
                             return false;  // "cancelled": the connection ends after this response
                           });
}
}  // namespace

struct Server::Impl {
  ServerOptions options;
  RouteTable table;
  std::vector<Route> routes;  // by the table's index
  std::unique_ptr<httplib::Server> http;
  std::thread thread;
  bool started = false;
  std::atomic<bool> listen_returned{false};

  // ---- the request path -------------------------------------------------------------

  void handle(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    const auto begun = Clock::now();
    Exchange ex;
    ex.request_id = request_id_for(req.get_header_value(kRequestIdHeader));
    ex.body = body_headers(req);
    Reply reply = Problem(Code::k_api_internal, "");
    try {
      reply = serve(req, reader, ex);
      if (reader != nullptr) drain_if_small(req, *reader, ex);
    } catch (const std::exception& e) {
      reply = internal_failure(req, ex, e.what());
    } catch (...) {
      reply = internal_failure(req, ex, "an exception that is not a std::exception");
    }
    const bool close = ex.body.has_body() && !ex.body_complete;
    const auto [status, bytes_out] = render(req, res, reply, ex, close, /*from_expect=*/false);
    observe(options.metrics,
            {req.method, ex.route, status, std::chrono::duration<double>(Clock::now() - begun).count(),
             ex.request_id, ex.bytes_in, bytes_out,
             reply.is_problem() ? code_name(reply.problem().code) : std::string_view{}, ex.user_id});
  }

  Reply internal_failure(const httplib::Request& req, const Exchange& ex, const std::string& reason) {
    log::error("api.handler_failed",
               {{"method", req.method}, {"route", ex.route}, {"request_id", ex.request_id}, {"reason", reason}});
    return Problem(Code::k_api_internal,
                   "The request failed on the server; the log line with this request_id has the reason.");
  }

  Reply serve(const httplib::Request& req, const httplib::ContentReader* reader, Exchange& ex) {
    auto match = table.match(req.method, req.path);
    if (match.kind == RouteTable::Match::Kind::kNotFound) {
      if (serves_fallback(req)) return serve_fallback(req, ex);
      return Problem(Code::k_api_not_found, "No API endpoint has the path " + req.path + ".");
    }
    if (match.kind == RouteTable::Match::Kind::kMethodNotAllowed) {
      if (req.method == "OPTIONS") {
        std::string allow;
        for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
        return Response::no_content().with_header("Allow", allow);
      }
      return method_not_allowed(req.path, match.allowed);
    }
    const Route& route = routes[match.route];
    ex.route = route.pattern;

    RequestData data;
    if (route.access.needs_caller) {
      auto caller = authenticate(req, route.access);
      if (!caller) return std::move(caller).problem();
      ex.user_id = caller->user_id;
      data.principal = std::move(*caller);
    }
    if (auto refused = precheck_body(route.body, ex.body, options.limits)) return std::move(*refused);
    if (route.body == BodyKind::kRaw && reader != nullptr) {
      if (req.is_multipart_form_data()) {
        data.read_multipart = [this, reader, &ex](const SinkFactory& sinks) {
          return read_multipart(*reader, sinks, ex);
        };
      } else {
        auto raw = read_whole(*reader, options.limits.raw_max_bytes, ex);
        if (!raw) return std::move(raw).problem();
        data.body = std::move(*raw);
        data.content_type = media_type(ex.body.content_type);
      }
    }

    data.method = req.method;
    data.path = req.path;
    data.route = route.pattern;
    data.params = std::move(match.params);
    for (const auto& [k, v] : req.params) data.query.emplace_back(k, v);
    for (const auto& [k, v] : req.headers) data.headers.emplace_back(k, v);
    data.request_id = ex.request_id;
    data.remote_address = req.remote_addr;

    BodyKind body = route.body;
    if (body == BodyKind::kJsonOrMultipart) {
      body = media_type(ex.body.content_type) == "multipart/form-data" ? BodyKind::kMultipart : BodyKind::kJson;
    }
    if (body == BodyKind::kJson && reader != nullptr) {
      auto text = read_whole(*reader, options.limits.json_max_bytes, ex);
      if (!text) return std::move(text).problem();
      auto json = parse_json_body(*text);
      if (!json) return std::move(json).problem();
      data.json = std::move(*json);
    } else if (body == BodyKind::kNone && reader != nullptr && ex.body.has_body()) {
      // Read and dropped now, before the handler, so the connection stays usable.
      auto ignored = read_whole(*reader, options.limits.ignored_max_bytes, ex);
      if (!ignored) return std::move(ignored).problem();
    } else if (body == BodyKind::kMultipart && reader != nullptr) {
      // cpp-httplib picks its multipart parser by this exact (lower-case) prefix.
      if (!req.is_multipart_form_data()) {
        return Problem(Code::k_api_unsupported_media_type, "This endpoint takes multipart/form-data.");
      }
      data.read_multipart = [this, reader, &ex](const SinkFactory& sinks) {
        return read_multipart(*reader, sinks, ex);
      };
      data.multipart_body = true;
    }
    Request request(std::move(data));
    return route.handler(request);
  }

  // The API's own namespace never falls back: an unknown /api/ path stays a 404 problem.
  bool serves_fallback(const httplib::Request& req) const {
    if (!options.fallback || (req.method != "GET" && req.method != "HEAD")) return false;
    return req.path != "/api" && req.path.rfind("/api/", 0) != 0;
  }

  Reply serve_fallback(const httplib::Request& req, Exchange& ex) {
    ex.route = "(fallback)";  // one metrics label for every such path, not one per path
    RequestData data;
    data.method = req.method;
    data.path = req.path;
    data.route = ex.route;
    for (const auto& [k, v] : req.headers) data.headers.emplace_back(k, v);
    data.request_id = ex.request_id;
    data.remote_address = req.remote_addr;
    Request request(std::move(data));
    return options.fallback(request);
  }

  ProblemOr<Principal> authenticate(const httplib::Request& req, Access access) {
    Credentials c;
    c.method = req.method;
    c.remote_address = req.remote_addr;
    if (req.has_header("Authorization")) c.bearer_token = bearer_token(req.get_header_value("Authorization"));
    if (req.has_header("Cookie")) c.session_cookie = cookie_value(req.get_header_value("Cookie"), options.session_cookie);
    if (req.has_header(options.csrf_header.c_str())) c.csrf_token = req.get_header_value(options.csrf_header.c_str());
    const bool token_sent = req.has_header("Authorization");
    if (c.empty() && !token_sent) {
      return unauthenticated("This endpoint needs a signed-in session or an API token (Authorization: Bearer ...).");
    }
    if (options.authenticator == nullptr) {
      return unauthenticated("This server has no sign-in configured.", token_sent);
    }
    auto result = options.authenticator->authenticate(c);
    if (!result) {
      const Error& e = result.error();
      if (e.code == Code::k_api_unauthenticated) return unauthenticated(e.message, token_sent);
      return Problem(e);
    }
    if (!*result) {
      return unauthenticated("The credentials sent are not a session or token this server knows.", token_sent);
    }
    Principal p = std::move(**result);
    if (p.level < access.min_level) {
      return Problem(Code::k_api_forbidden, "This endpoint needs permission level " + std::to_string(access.min_level) +
                                                "; this account has level " + std::to_string(p.level) + ".");
    }
    return p;
  }

  ProblemOr<std::string> read_whole(const httplib::ContentReader& reader, std::size_t limit, Exchange& ex) {
    std::string body;
    if (ex.body.content_length) body.reserve(static_cast<std::size_t>(*ex.body.content_length));
    bool over = false;
    ex.body_started = true;
    const bool ok = reader([&](const char* data, std::size_t size) {
      // Checked piece by piece: a chunked body has no length to check up front.
      if (body.size() + size > limit) {
        over = true;
        return false;
      }
      body.append(data, size);
      ex.bytes_in += size;
      return true;
    });
    if (over) return body_too_large(limit);
    if (!ok) {
      return Problem(Code::k_api_bad_request,
                     "The body ended before its declared length, or its chunked framing is broken.");
    }
    ex.body_complete = true;
    return body;
  }

  ProblemOr<MultipartForm> read_multipart(const httplib::ContentReader& reader, const SinkFactory& sinks,
                                          Exchange& ex) {
    MultipartCollector collector(options.limits.multipart, sinks);
    ex.body_started = true;
    const bool ok = reader(
        [&](const httplib::MultipartFormData& part) {
          return collector.begin_part(PartInfo{part.name, part.filename, part.content_type});
        },
        [&](const char* data, std::size_t size) {
          ex.bytes_in += size;
          return collector.part_data(data, size);
        });
    // ok is false both when we stopped (collector.problem()) and when cpp-httplib found
    // the body truncated or malformed; finish() tells them apart.
    auto form = collector.finish(ok);
    if (form) ex.body_complete = true;
    return form;
  }

  // A body nobody read (refused before reading, or a handler that did not want it) is
  // read and dropped when small, so the connection stays clean for the next request.
  void drain_if_small(const httplib::Request& req, const httplib::ContentReader& reader, Exchange& ex) {
    if (!ex.body.has_body() || ex.body_started || ex.body.length_malformed) return;
    if (!ex.body.content_length || *ex.body.content_length > kDrainMaxBytes) return;
    if (!ex.body.content_encoding.empty()) return;  // decompression could make it any size
    ex.body_started = true;
    std::uint64_t seen = 0;
    auto discard = [&](const char*, std::size_t size) {
      seen += size;
      return seen <= kDrainMaxBytes;
    };
    const bool ok = req.is_multipart_form_data()
                        ? reader([](const httplib::MultipartFormData&) { return true; }, discard)
                        : reader(discard);
    ex.body_complete = ok;
  }

  // ---- writing ----------------------------------------------------------------------

  std::pair<int, std::uint64_t> render(const httplib::Request& req, httplib::Response& res, const Reply& reply,
                                       const Exchange& ex, bool close, bool from_expect) {
    std::string body, content_type;
    int status = 0;
    const Headers* headers = nullptr;
    if (reply.is_problem()) {
      const Problem& p = reply.problem();
      status = p.status();
      body = problem_json(p, req.path, ex.request_id).dump();
      content_type = kProblemJson;
      headers = &p.headers;
    } else {
      const Response& r = reply.response();
      status = r.status;
      body = r.body;
      content_type = r.content_type;
      headers = &r.headers;
    }
    res.status = status;
    for (const auto& [k, v] : *headers) res.set_header(k, v);
    res.set_header(kRequestIdHeader, ex.request_id);
    const std::uint64_t size = body.size();
    if (close) {
      close_after_response(res, std::move(body), content_type, from_expect);
    } else if (!body.empty()) {
      res.set_content(std::move(body), content_type);
    }
    return {status, size};
  }

  // `Expect: 100-continue`: the checks that need only the headers run before the client
  // sends the body, so a refused upload is never sent at all.
  int expect_continue(const httplib::Request& req, httplib::Response& res) {
    const auto begun = Clock::now();
    auto match = table.match(req.method, req.path);
    std::optional<Problem> refused;
    Exchange ex;
    ex.request_id = request_id_for(req.get_header_value(kRequestIdHeader));
    ex.body = body_headers(req);
    if (match.kind == RouteTable::Match::Kind::kFound) {
      ex.route = routes[match.route].pattern;
      refused = precheck_body(routes[match.route].body, ex.body, options.limits);
    } else if (match.kind == RouteTable::Match::Kind::kNotFound) {
      refused = Problem(Code::k_api_not_found, "No API endpoint has the path " + req.path + ".");
    } else if (req.method != "OPTIONS") {
      refused = method_not_allowed(req.path, match.allowed);
    }
    if (!refused) return 100;
    const Reply reply = *refused;
    const auto [status, bytes_out] = render(req, res, reply, ex, /*close=*/true, /*from_expect=*/true);
    observe(options.metrics, {req.method, ex.route, status, std::chrono::duration<double>(Clock::now() - begun).count(),
                              ex.request_id, 0, bytes_out, code_name(refused->code), 0});
    return status;
  }

  // Statuses cpp-httplib writes by itself (a malformed request line, 414, a method it
  // does not know) get the same problem shape.
  httplib::Server::HandlerResponse on_error(const httplib::Request& req, httplib::Response& res) {
    if (res.has_header(kRequestIdHeader)) return httplib::Server::HandlerResponse::Unhandled;
    Exchange ex;
    ex.request_id = request_id_for(req.get_header_value(kRequestIdHeader));
    const Problem problem(code_for_httplib_status(res.status), detail_for_httplib_status(res.status));
    res.status = problem.status();
    res.set_header(kRequestIdHeader, ex.request_id);
    const auto body = problem_json(problem, req.path, ex.request_id).dump();
    res.set_content(body, kProblemJson);
    observe(options.metrics, {req.method.empty() ? "-" : std::string_view(req.method), kUnmatchedRoute, res.status, 0,
                              ex.request_id, 0, body.size(), code_name(problem.code), 0});
    return httplib::Server::HandlerResponse::Handled;
  }

  // ---- set-up -----------------------------------------------------------------------

  Result<void> make_server() {
    if (options.tls.enabled()) {
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
      auto ssl = std::make_unique<httplib::SSLServer>(options.tls.certificate_file.c_str(),
                                                      options.tls.private_key_file.c_str());
      if (!ssl->is_valid()) {
        return Error(Code::k_config_invalid, "The API's TLS certificate or private key could not be loaded.")
            .with("certificate", options.tls.certificate_file)
            .with("key", options.tls.private_key_file);
      }
      http = std::move(ssl);
#else
      return Error(Code::k_config_invalid, "A TLS certificate is configured but cpp-httplib was built without OpenSSL.");
#endif
    } else {
      http = std::make_unique<httplib::Server>();
    }
    const std::size_t threads = options.threads == 0 ? 1 : options.threads;
    http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // As on the side port: SO_REUSEADDR for quick restarts, but not cpp-httplib's
    // default SO_REUSEPORT, which would let a second process share the port silently.
    http->set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    // No Nagle: cpp-httplib writes the headers and the body of a response apart, and a
    // client that delays its ACK (wrk, curl) held every answer 40 ms (bench/api).
    http->set_tcp_nodelay(true);
    http->set_read_timeout(options.read_timeout.count(), 0);
    http->set_write_timeout(options.write_timeout.count(), 0);
    http->set_keep_alive_timeout(options.keep_alive_timeout.count());

    auto plain = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res, nullptr); };
    auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      handle(req, res, &reader);
    };
    http->Get(".*", plain);
    http->Options(".*", plain);
    http->Post(".*", with_body);
    http->Put(".*", with_body);
    http->Patch(".*", with_body);
    http->Delete(".*", with_body);
    http->set_expect_100_continue_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return expect_continue(req, res); });
    http->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) { return on_error(req, res); }));
    // Last resort: handle() catches everything itself.
    http->set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
      log::error("api.unhandled_exception", {{"path", req.path}});
      res.status = 500;
    });
    return ok();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }

Server::~Server() { stop(); }

Result<void> Server::add(Route route) {
  if (impl_->started) return Error(Code::k_internal, "API routes are added before the server starts.");
  if (!route.handler) return Error(Code::k_internal, "The API route " + route.pattern + " has no handler.");
  auto index = impl_->table.add(route.method, route.pattern);
  if (!index) return std::move(index).error();
  impl_->routes.push_back(std::move(route));
  return ok();
}

Result<int> Server::start() {
  if (impl_->started) return Error(Code::k_internal, "The API server was already started.");
  if (auto made = impl_->make_server(); !made) return made.error();
  auto& http = *impl_->http;
  errno = 0;
  int bound = -1;
  if (impl_->options.port == 0) {
    bound = http.bind_to_any_port(impl_->options.bind_address);
  } else if (http.bind_to_port(impl_->options.bind_address, impl_->options.port)) {
    bound = impl_->options.port;
  }
  if (bound <= 0) {
    const int err = errno;
    return Error(Code::k_io_failed, "Could not bind the API port.")
        .with("address", impl_->options.bind_address)
        .with("port", std::to_string(impl_->options.port))
        .with("reason", err != 0 ? std::strerror(err) : "bind failed");
  }
  impl_->started = true;
  impl_->listen_returned.store(false);
  impl_->thread = std::thread([this] {
    impl_->http->listen_after_bind();
    impl_->listen_returned.store(true);
  });
  log::info("api.listening", {{"address", impl_->options.bind_address}, {"port", bound}, {"tls", tls()},
                              {"routes", static_cast<std::int64_t>(impl_->routes.size())}});
  return bound;
}

void Server::stop() {
  if (!impl_->started) return;
  // cpp-httplib's stop() does nothing until listen has begun; wait for either.
  while (!impl_->http->is_running() && !impl_->listen_returned.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http->stop();  // closes the listening socket; the pool finishes its requests
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->started = false;
  log::info("api.stopped", {{"address", impl_->options.bind_address}});
}

bool Server::tls() const { return impl_->options.tls.enabled(); }

}  // namespace faxbridge::api
