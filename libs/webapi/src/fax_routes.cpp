// DESIGN: the faxes already submitted: the list, one fax with its call attempts, cancel
// and resend. A user (level 2) sees only the faxes they sent; another user's fax id
// answers fax.not_found exactly like a missing one (the viewer is part of the query,
// so there is no second, leaky check). An administrator sees all, and may filter by
// sender. The list is newest first, paged by an opaque cursor that encodes the last
// row's (created_at, id): stable while new faxes arrive (they sort before the cursor)
// and an index range scan whatever the page number (migration 0011). Unknown query
// parameters are refused like unknown JSON fields, so a typo is an error.
// Cancel uses the router's rules (db::routing::cancel): a fax nobody holds is
// cancelled at once; one being converted, routed or in a call is flagged, its holder
// finishes it as cancelled, and a gateway in a call is told to hang up after the
// commit. Resend makes a new job with the same documents and fields (not send_at: it
// is sent now), only from a final state.
#include <charconv>

#include <sodium.h>

#include "context.hpp"
#include "fax_json.hpp"
#include "fax_submit.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/core/phone.hpp"
#include "faxbridge/db/records.hpp"
#include "faxbridge/db/routing.hpp"
#include "faxbridge/db/states.hpp"

namespace faxbridge::webapi {
namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 200;

bool is_admin(const api::Principal& p) { return p.level >= api::kLevelAdministrator; }

// The viewer a query is restricted to: none for an administrator.
std::optional<std::int64_t> viewer_of(const api::Principal& p) {
  if (is_admin(p)) return std::nullopt;
  return p.user_id;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

api::Problem fax_not_found(std::string_view id) {
  return api::Problem(Code::k_fax_not_found, "You have no fax with the id " + std::string(id) + ".");
}

std::string encode_cursor(const db::FaxRecord& last) {
  const std::string plain = std::to_string(last.created_at_us) + "." + std::to_string(last.id);
  std::string out(sodium_base64_encoded_len(plain.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::pair<std::int64_t, std::int64_t>> decode_cursor(const std::string& text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  unsigned char bin[64];
  std::size_t len = 0;
  if (sodium_base642bin(bin, sizeof bin, text.data(), text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  const std::string plain(reinterpret_cast<const char*>(bin), len);
  const auto dot = plain.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::int64_t us = 0, id = 0;
  const auto a = std::from_chars(plain.data(), plain.data() + dot, us);
  const auto b = std::from_chars(plain.data() + dot + 1, plain.data() + plain.size(), id);
  if (a.ec != std::errc() || a.ptr != plain.data() + dot || b.ec != std::errc() ||
      b.ptr != plain.data() + plain.size() || id <= 0) {
    return std::nullopt;
  }
  return std::make_pair(us, id);
}

api::Reply list(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  static const std::vector<std::string> kKnown = {"status", "reference", "client_reference", "to", "label",
                                                  "created_after", "created_before", "limit", "cursor", "sender",
                                                  "direction"};
  api::Problem invalid(Code::k_api_validation_failed, "A query parameter is invalid; see errors.");
  auto bad = [&](const std::string& name, Code code, std::string detail) {
    invalid.errors.push_back({name, code, std::move(detail)});
  };
  for (const auto& [name, value] : req.query_parameters()) {
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
      bad(name, Code::k_api_field_unknown, "GET /faxes has no query parameter \"" + name + "\".");
    }
  }
  db::FaxListQuery q;
  q.sender = viewer_of(caller);
  if (auto v = req.query("status")) {
    std::size_t at = 0;
    while (at <= v->size()) {
      auto comma = v->find(',', at);
      if (comma == std::string::npos) comma = v->size();
      const auto s = v->substr(at, comma - at);
      if (!db::parse_job_state(s)) {
        bad("status", Code::k_api_field_invalid,
            "\"" + s + "\" is not a fax status; use submitted, converting, ready, routing, queued, dialing, sending, "
            "retry_wait, sent, partially_sent, failed or cancelled (several separated by commas).");
      } else {
        q.states.push_back(s);
      }
      at = comma + 1;
    }
  }
  if (auto v = req.query("direction"); v && *v != "outbound") {
    bad("direction", Code::k_api_field_invalid,
        "Only \"outbound\" faxes are listed here; received faxes are in GET /api/v1/inbox.");
  }
  q.reference = req.query("reference");
  q.client_reference = req.query("client_reference");
  q.label = req.query("label");
  if (auto v = req.query("to")) {
    auto n = normalize_phone(*v);
    if (!n) {
      bad("to", n.error().code, n.error().message);
    } else {
      q.recipient_canonical = n->canonical;
    }
  }
  for (const char* name : {"created_after", "created_before"}) {
    if (auto v = req.query(name)) {
      auto t = parse_date_time(*v);
      if (!t) {
        bad(name, Code::k_api_field_invalid, "Must be an RFC 3339 date-time, like 2026-12-01T09:30:00Z.");
      } else {
        (std::string_view(name) == "created_after" ? q.created_after : q.created_before) = t;
      }
    }
  }
  q.limit = kDefaultLimit;
  if (auto v = req.query("limit")) {
    const auto n = parse_id(*v);
    if (!n || *n > kMaxLimit) {
      bad("limit", Code::k_api_field_out_of_range, "Must be a whole number from 1 to " + std::to_string(kMaxLimit) + ".");
    } else {
      q.limit = static_cast<int>(*n);
    }
  }
  if (auto v = req.query("sender")) {
    if (!is_admin(caller)) {
      return api::Problem(Code::k_api_forbidden,
                          "Only administrators filter by sender; your own faxes are what this list shows you.");
    }
    const auto id = parse_id(*v);
    if (!id) {
      bad("sender", Code::k_api_field_invalid, "Must be a user id.");
    } else {
      q.sender = id;
    }
  }
  if (!invalid.errors.empty()) return invalid;
  if (auto v = req.query("cursor")) {
    q.after = decode_cursor(*v);
    if (!q.after) {
      return api::Problem(Code::k_api_cursor_invalid,
                          "The cursor is not one this server gave; start again without it and follow next_cursor.");
    }
  }
  // One statement: autocommit spares the BEGIN and COMMIT round trips.
  auto rows = cx.pool.autocommit([&](db::Tx& tx) { return db::faxes::list(tx, q); });
  if (!rows) return rows.error();
  const bool more = rows->size() > static_cast<std::size_t>(q.limit);
  if (more) rows->resize(static_cast<std::size_t>(q.limit));
  std::optional<std::string> next_cursor;
  if (more) next_cursor = encode_cursor(rows->back());
  return api::Response::text(fax_page_json(*rows, next_cursor), "application/json");
}

api::Reply show(Context& cx, api::Request& req) {
  const auto text = req.param("id");
  const auto id = parse_id(text);
  if (!id) return fax_not_found(text);
  struct View {
    db::FaxRecord fax;
    std::vector<db::AttemptRecord> attempts;
  };
  auto v = cx.pool.transact([&](db::Tx& tx) -> Result<View> {
    auto f = db::faxes::get(tx, *id, viewer_of(*req.principal()));
    if (!f) return f.error();
    auto a = db::attempts::for_job(tx, *id);
    if (!a) return a.error();
    return View{std::move(*f), std::move(*a)};
  });
  if (!v) return v.error();
  auto body = fax_json(v->fax);
  auto& attempts = body["attempts"] = nlohmann::json::array();
  for (const auto& a : v->attempts) attempts.push_back(attempt_json(a));
  return api::Response::json(body);
}

api::Reply cancel(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  const auto text = req.param("id");
  const auto id = parse_id(text);
  if (!id) return fax_not_found(text);
  struct Done {
    db::routing::CancelOutcome outcome;
    db::FaxRecord fax;
  };
  auto done = cx.pool.transact([&](db::Tx& tx) -> Result<Done> {
    auto f = db::faxes::get(tx, *id, viewer_of(caller));
    if (!f) return f.error();
    auto c = db::routing::cancel(tx, *id, caller.username);
    if (!c) return c.error();
    if (c->result == db::routing::CancelResult::kNotCancellable) {
      return Error(Code::k_job_not_cancellable,
                   "Fax " + std::to_string(*id) + " is " + c->state + " and can no longer be cancelled.");
    }
    auto a = db::audit::record(tx, {caller.user_id, caller.username, "fax.cancel", "fax_job", std::to_string(*id),
                                    nlohmann::json({{"state", c->state}}).dump(), req.remote_address()});
    if (!a) return a.error();
    auto after = db::faxes::get(tx, *id);
    if (!after) return after.error();
    return Done{*c, std::move(*after)};
  });
  if (!done) return done.error();
  if (done->outcome.gateway && cx.announcer != nullptr) cx.announcer->cancel_call(*done->outcome.gateway, *id);
  log::info("webapi.fax_cancel", {{"request_id", req.request_id()}, {"job", *id}, {"state", done->outcome.state}});
  return api::Response::json(fax_json(done->fax));
}

api::Reply resend(Context& cx, api::Request& req) {
  const api::Principal& caller = *req.principal();
  const auto text = req.param("id");
  const auto id = parse_id(text);
  if (!id) return fax_not_found(text);
  auto made = cx.pool.transact([&](db::Tx& tx) -> Result<db::FaxRecord> {
    auto f = db::faxes::get(tx, *id, viewer_of(caller));
    if (!f) return f.error();
    const auto state = db::parse_job_state(f->state);
    if (!state || !db::is_final(*state)) {
      return Error(Code::k_fax_not_resendable, "Fax " + std::to_string(*id) + " is " + f->state +
                                                   "; only a sent, partially sent, failed or cancelled fax is sent "
                                                   "again (cancel it first to stop it).");
    }
    if (f->document_ids.empty()) {
      return Error(Code::k_fax_not_resendable,
                   "The documents of fax " + std::to_string(*id) + " were deleted; send them again with POST /faxes.");
    }
    auto user = sending_user(tx, caller.user_id);
    if (!user) return user.error();
    db::NewJob n;
    n.source = caller.method == api::AuthMethod::kSession ? "web" : "api";
    n.sender_user_id = f->sender_user_id;
    n.recipient_number = f->recipient_number;
    n.recipient_canonical = f->recipient_canonical;
    n.recipient_name = f->recipient_name;
    n.recipient_company = f->recipient_company;
    n.subject = f->subject;
    n.note = f->note;
    n.cover_page_name = f->cover_page_name;
    n.resolution = f->resolution;
    n.priority = f->priority;
    n.max_attempts = f->max_attempts;
    n.retry_interval_s = f->retry_interval_s;
    n.document_ids = f->document_ids;
    auto ids = db::faxes::create(tx, {n}, f->labels, f->client_reference, caller.username);
    if (!ids) return ids.error();
    auto a = db::audit::record(tx, {caller.user_id, caller.username, "fax.resend", "fax_job",
                                    std::to_string(ids->front()), nlohmann::json({{"from", *id}}).dump(),
                                    req.remote_address()});
    if (!a) return a.error();
    return db::faxes::get(tx, ids->front());
  });
  if (!made) return made.error();
  announce_submitted(cx, {made->id});
  log::info("webapi.fax_resent", {{"request_id", req.request_id()}, {"job", made->id}, {"from", *id}});
  return api::Response::json({{"faxes", nlohmann::json::array({fax_json(*made)})}}, 201);
}

}  // namespace

std::vector<api::Route> fax_routes(Context& cx) {
  return {
      {"GET", "/api/v1/faxes", api::kFaxUser, api::BodyKind::kNone, [&cx](api::Request& r) { return list(cx, r); }},
      {"GET", "/api/v1/faxes/{id}", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return show(cx, r); }},
      {"POST", "/api/v1/faxes/{id}/cancel", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return cancel(cx, r); }},
      {"POST", "/api/v1/faxes/{id}/resend", api::kFaxUser, api::BodyKind::kNone,
       [&cx](api::Request& r) { return resend(cx, r); }},
  };
}

}  // namespace faxbridge::webapi
