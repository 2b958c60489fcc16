// DESIGN: the documents of faxes, both directions: the whole fax as PDF or TIFF and
// one page as a PNG preview.
//   GET /api/v1/inbox/{id}/file?format=pdf|tiff      a received fax
//   GET /api/v1/inbox/{id}/pages/{n}/preview?width=  (n from 1)
//   GET /api/v1/faxes/{id}/file?format=pdf|tiff      a sent fax: its converted pages
//   GET /api/v1/faxes/{id}/pages/{n}/preview?width=
// Who may: the inbox's rules (inbox_routes.cpp: a fax user their own entries, an
// administrator any received fax) and the sender of an outbound fax or an
// administrator; anybody else's fax is 404 (inbox.not_found / fax.not_found) exactly as
// a missing one. A sent fax has pages once the converter made them
// (fax_jobs.pages_document_id); before that the answer is fax.page_not_found saying so.
// Bytes: the TIFF is served as stored; the PDF of a received fax is the converter's
// (received_faxes.pdf_document_id) when there is one, else made here from the TIFF;
// previews are made here. Caching: every answer carries an ETag from the sha256 of the
// stored document it comes from (plus the format, page and width it was rendered at),
// so a conditional request (If-None-Match) answers 304 from one indexed row, without
// reading the bytes or rendering; Cache-Control is `private, no-cache` (a browser keeps
// the copy but asks each time, so access is checked on every use).
// Renders are CPU work (~10-100 ms a page): the bytes are read in a short transaction
// and rendered after it, so no pooled connection waits on the CPU; at most
// kRenderSlots run at once (the others wait up to kRenderWait, then 429 with
// Retry-After), so previews of a 300-page fax cannot take every server thread.
// A preview decodes only its page (document::fax_page_png), and the TIFF reader refuses
// pages over 8192 x 65535 pixels, so one render holds at most one bounded page.
// Query parameters a route does not know are ignored; a bad `format`, `width` (100 to
// 1728: narrower is unreadable, wider than the fax adds nothing) or page number is
// refused before any row is read.
// Signed links (core/signed_link.hpp: why this form):
//   GET /api/v1/links/faxes/{id}/file?format=&expires=&signature=   public, no session
//   GET /api/v1/links/inbox/{id}/file?format=&expires=&signature=
// serve what the file routes serve to an administrator, to whoever holds a link the
// notifier minted for a webhook body; every parameter is part of what is signed, so
// each is required and none may change (link.invalid, then link.expired; both 403).
// Their answers are `private, no-store`: a link is a capability, not a cacheable name.
// Without FAXBRIDGE_SECRET_KEY no link can be checked (secret.key_missing).
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "context.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/signed_link.hpp"
#include "faxbridge/db/documents.hpp"
#include "faxbridge/db/inbox.hpp"
#include "faxbridge/db/jobs.hpp"
#include "faxbridge/document/export.hpp"
#include "query_params.hpp"

namespace faxbridge::webapi {
namespace {

constexpr int kMinWidth = 100;
constexpr int kMaxWidth = 1728;  // the fax's own width: a wider preview adds nothing
constexpr int kDefaultWidth = 800;
constexpr std::chrono::seconds kRenderWait{10};

// At most this many renders at once; the rest wait their turn.
class RenderGate final {
 public:
  explicit RenderGate(int slots) : free_(slots) {}
  bool enter(std::chrono::steady_clock::duration wait) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, wait, [&] { return free_ > 0; })) return false;
    --free_;
    return true;
  }
  void leave() {
    {
      std::lock_guard lock(mutex_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int free_;
};

enum class Direction { kInbound, kOutbound };

struct Target {
  Direction direction;
  std::string_view id_text;
};

// Whose faxes a request may see: a user's own (an administrator's: every one), or,
// for a signed link, the one fax it names (user_id none, every_fax: the signature is
// the permission).
struct Viewer {
  std::optional<std::int64_t> user_id;
  bool every_fax = false;
};

Viewer viewer_of(const api::Request& req) {
  const api::Principal& caller = *req.principal();
  return {caller.user_id, caller.level >= api::kLevelAdministrator};
}

// What a request serves, found in the transaction.
struct Plan {
  std::string name;  // the file name stem: "fax-2026.00000012"
  std::optional<db::Document> stored;  // the bytes to serve or render from
  std::string etag;
  bool not_modified = false;
  std::optional<int> pages;
};

bool parse_int(std::string_view s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// If-None-Match: "*" or a list of (weak or strong) entity tags; the weak comparison of
// RFC 9110 13.1.2 applies.
bool matches(const std::optional<std::string>& if_none_match, const std::string& etag) {
  if (!if_none_match) return false;
  std::string_view s = *if_none_match;
  while (!s.empty()) {
    const auto comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (item.rfind("W/", 0) == 0) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return false;
}

api::Problem missing(const Target& t) {
  if (t.direction == Direction::kInbound) {
    return api::Problem(Code::k_inbox_not_found,
                        "There is no received fax with the id " + std::string(t.id_text) + " in this inbox.");
  }
  return api::Problem(Code::k_fax_not_found, "You have no fax with the id " + std::string(t.id_text) + ".");
}

std::string file_stem(const std::optional<std::string>& reference, std::int64_t id) {
  // A reference is digits and a dot (YYYY.NNNNNNNN): safe in a header as it is.
  if (reference && !reference->empty() && reference->find_first_not_of("0123456789.") == std::string::npos)
    return "fax-" + *reference;
  return "fax-" + std::to_string(id);
}

// Finds the fax the caller may see and the document of its pages. `variant` turns the
// document's sha256 into the ETag of this answer; `want_pdf` serves a received fax's
// stored PDF when it has one.
api::ProblemOr<Plan> plan(Context& cx, const api::Request& req, const Viewer& viewer, const Target& t, bool want_pdf,
                          const std::string& variant) {
  std::int64_t id = 0;
  if (!parse_int(t.id_text, id) || id <= 0) return missing(t);
  const auto if_none_match = req.header("If-None-Match");
  std::optional<api::Problem> refused;
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<Plan> {
    refused.reset();
    Plan p;
    std::optional<std::int64_t> document_id;
    bool as_stored_pdf = false;
    if (t.direction == Direction::kInbound) {
      auto f = db::inbox::find(tx, id, viewer.user_id);
      if (f && !*f && viewer.every_fax && viewer.user_id) f = db::inbox::find(tx, id, std::nullopt);
      if (!f) return f.error();
      if (!*f) {
        refused = missing(t);
        return p;
      }
      const db::InboxFax& fax = **f;
      p.name = file_stem(fax.reference, fax.id);
      p.pages = fax.pages;
      if (want_pdf && fax.pdf_document_id) {
        document_id = fax.pdf_document_id;
        as_stored_pdf = true;
      } else {
        document_id = fax.tiff_document_id;
      }
      if (!document_id) {
        refused = api::Problem(Code::k_fax_page_not_found,
                               "The received fax " + std::string(t.id_text) +
                                   " has no pages: the call ended before a page arrived.");
        return p;
      }
    } else {
      auto j = db::jobs::get(tx, id);
      if (!j) {
        if (j.error().code != Code::k_job_not_found) return j.error();
        refused = missing(t);
        return p;
      }
      if (!viewer.every_fax && j->sender_user_id != viewer.user_id) {
        refused = missing(t);
        return p;
      }
      p.name = file_stem(j->reference, j->id);
      p.pages = j->page_count;
      document_id = j->pages_document_id;
      if (!document_id) {
        refused = api::Problem(Code::k_fax_page_not_found,
                               "The pages of fax " + std::string(t.id_text) +
                                   " are not ready yet: they are made when the fax is converted, usually within "
                                   "seconds. Try again in a moment.");
        return p;
      }
    }
    auto head = db::documents::head(tx, *document_id);
    if (!head) return head.error();
    if (!*head) {
      refused = api::Problem(Code::k_fax_page_not_found,
                             "The pages of fax " + std::string(t.id_text) + " are no longer stored (data retention).");
      return p;
    }
    if (!p.pages && (*head)->page_count) p.pages = (*head)->page_count;
    p.etag = "\"" + (*head)->sha256_hex + (as_stored_pdf ? std::string() : variant) + "\"";
    if (matches(if_none_match, p.etag)) {
      p.not_modified = true;
      return p;
    }
    auto doc = db::documents::get(tx, *document_id);
    if (!doc) return doc.error();
    p.stored = std::move(*doc);
    return p;
  });
  if (!made) return api::Problem(made.error());
  if (refused) return std::move(*refused);
  return std::move(*made);
}

api::Response with_cache_headers(api::Response r, const Plan& p) {
  r.with_header("ETag", p.etag).with_header("Cache-Control", "private, no-cache");
  return r;
}

api::Response not_modified(const Plan& p) {
  api::Response r;
  r.status = 304;
  return with_cache_headers(std::move(r), p);
}

// Runs a render within the gate; nullopt when no slot came free in time.
template <typename F>
std::optional<Result<std::string>> render(RenderGate& gate, F&& fn) {
  if (!gate.enter(kRenderWait)) return std::nullopt;
  struct Leave {
    RenderGate& g;
    ~Leave() { g.leave(); }
  } leave{gate};
  return fn();
}

api::Problem busy() {
  return api::rate_limited(std::chrono::seconds(2),
                           "The server is busy rendering other faxes; try again in a few seconds.");
}

api::Problem render_failed(const Target& t, const Error& e, const api::Request& req) {
  log::warn("webapi.render_failed", {{"request_id", req.request_id()}, {"fax", std::string(t.id_text)},
                                     {"code", std::string(code_name(e.code))}, {"reason", e.message}});
  return api::Problem(e);
}

// The file of the fax, as PDF or as the stored TIFF, for a viewer already let in.
api::Reply serve_file(Context& cx, RenderGate& gate, api::Request& req, const Viewer& viewer, const Target& t,
                      bool pdf) {
  auto p = plan(cx, req, viewer, t, pdf, pdf ? ".pdf" : "");
  if (!p) return std::move(p).problem();
  if (p->not_modified) return not_modified(*p);
  std::string bytes;
  const bool stored_is_pdf = p->stored->media_type == "application/pdf";
  if (pdf && !stored_is_pdf) {
    auto made = render(gate, [&] { return document::fax_to_pdf(p->stored->bytes); });
    if (!made) return busy();
    if (!*made) return render_failed(t, made->error(), req);
    bytes = std::move(**made);
  } else {
    bytes = std::move(p->stored->bytes);
  }
  const std::string filename = p->name + (pdf ? ".pdf" : ".tif");
  auto r = api::Response::text(std::move(bytes), pdf ? "application/pdf" : "image/tiff");
  r.with_header("Content-Disposition", "attachment; filename=\"" + filename + "\"")
      .with_header("X-Content-Type-Options", "nosniff");
  return with_cache_headers(std::move(r), *p);
}

api::Reply file(Context& cx, RenderGate& gate, api::Request& req, Direction d) {
  const Target t{d, req.param("id")};
  std::string format = "pdf";
  QueryParams q(req);
  q.choice("format", format, {"pdf", "tiff"});
  if (auto problem = q.finish()) return *problem;
  return serve_file(cx, gate, req, viewer_of(req), t, format == "pdf");
}

api::Problem link_invalid(const std::string& why) {
  return api::Problem(Code::k_link_invalid,
                      "This download link is not valid: " + why +
                          ". Use the link exactly as the webhook delivered it (format, expires and signature), or "
                          "download the fax with the API.");
}

api::Reply signed_file(Context& cx, RenderGate& gate, api::Request& req, Direction d) {
  if (!cx.link_key) {
    return api::Problem(Code::k_secret_key_missing,
                        "This server cannot check download links: FAXBRIDGE_SECRET_KEY is not set for web-api (the "
                        "same key as the notifier's, which signs them); docs/configuration.md.");
  }
  const Target t{d, req.param("id")};
  signed_link::Link link;
  link.resource = std::string(d == Direction::kInbound ? signed_link::kInbox : signed_link::kFaxes);
  if (!parse_int(t.id_text, link.id) || link.id <= 0) return link_invalid("its fax id is not a number");
  const auto format = req.query("format");
  const auto expires = req.query("expires");
  const auto signature = req.query("signature");
  using Param = std::pair<const char*, const std::optional<std::string>*>;
  for (const Param& p : {Param{"format", &format}, Param{"expires", &expires}, Param{"signature", &signature}}) {
    if (!*p.second || (*p.second)->empty()) return link_invalid(std::string("the parameter ") + p.first + " is missing");
  }
  if (*format != "pdf" && *format != "tiff") return link_invalid("its format is neither pdf nor tiff");
  link.format = *format;
  if (!parse_int(*expires, link.expires)) return link_invalid("its expires is not a number of seconds");
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(cx.clock.now().time_since_epoch()).count();
  if (auto checked = cx.link_key->check(link, *signature, now); !checked) return api::Problem(checked.error());
  auto reply = serve_file(cx, gate, req, Viewer{std::nullopt, true}, t, link.format == "pdf");
  if (!reply.is_problem()) {
    api::Response& r = reply.response();
    for (auto& [name, value] : r.headers) {
      if (name == "Cache-Control") value = "private, no-store";
    }
    r.with_header("Referrer-Policy", "no-referrer");
  }
  return reply;
}

api::Reply preview(Context& cx, RenderGate& gate, api::Request& req, Direction d) {
  const Target t{d, req.param("id")};
  std::int64_t page = 0;
  const auto page_text = req.param("n");
  if (!parse_int(page_text, page) || page < 1 || page > 100000) {
    return api::Problem(Code::k_fax_page_not_found,
                        "Pages are numbered from 1; \"" + std::string(page_text) + "\" is not a page number.");
  }
  std::optional<std::int64_t> width;
  QueryParams q(req);
  q.integer("width", width, api::Range{kMinWidth, kMaxWidth});
  if (auto problem = q.finish()) return *problem;
  const int w = static_cast<int>(width.value_or(kDefaultWidth));
  auto p = plan(cx, req, viewer_of(req), t, false, ".p" + std::to_string(page) + ".w" + std::to_string(w) + ".png");
  if (!p) return std::move(p).problem();
  auto out_of_range = [&] {
    return api::Problem(Code::k_fax_page_not_found,
                        "The fax has " + std::to_string(p->pages.value_or(0)) + " pages; there is no page " +
                            std::to_string(page) + ".");
  };
  if (p->pages && page > *p->pages) return out_of_range();
  if (p->not_modified) return not_modified(*p);
  auto made = render(gate, [&] { return document::fax_page_png(p->stored->bytes, static_cast<int>(page - 1), w); });
  if (!made) return busy();
  if (!*made) {
    // The TIFF holds fewer pages than its row said.
    if (made->error().code == Code::k_io_not_found) return out_of_range();
    return render_failed(t, made->error(), req);
  }
  auto r = api::Response::text(std::move(**made), "image/png");
  r.with_header("Content-Disposition",
                "inline; filename=\"" + p->name + "-page-" + std::to_string(page) + ".png\"")
      .with_header("X-Content-Type-Options", "nosniff");
  return with_cache_headers(std::move(r), *p);
}

}  // namespace

std::vector<api::Route> document_routes(Context& cx) {
  // One render per core at most: rendering is the CPU work here, the rest waits on I/O.
  const int slots = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto gate = std::make_shared<RenderGate>(slots);
  auto route = [&cx, gate](std::string pattern, bool is_preview, Direction d) {
    return api::Route{"GET", std::move(pattern), api::kFaxUser, api::BodyKind::kNone,
                      [&cx, gate, is_preview, d](api::Request& r) -> api::Reply {
                        return is_preview ? preview(cx, *gate, r, d) : file(cx, *gate, r, d);
                      }};
  };
  auto signed_route = [&cx, gate](std::string pattern, Direction d) {
    return api::Route{"GET", std::move(pattern), api::kPublic, api::BodyKind::kNone,
                      [&cx, gate, d](api::Request& r) -> api::Reply { return signed_file(cx, *gate, r, d); }};
  };
  return {
      signed_route("/api/v1/links/inbox/{id}/file", Direction::kInbound),
      signed_route("/api/v1/links/faxes/{id}/file", Direction::kOutbound),
      route("/api/v1/inbox/{id}/file", false, Direction::kInbound),
      route("/api/v1/inbox/{id}/pages/{n}/preview", true, Direction::kInbound),
      route("/api/v1/faxes/{id}/file", false, Direction::kOutbound),
      route("/api/v1/faxes/{id}/pages/{n}/preview", true, Direction::kOutbound),
  };
}

}  // namespace faxbridge::webapi
