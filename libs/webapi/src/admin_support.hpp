#pragma once
// Internal to libs/webapi: what the administration endpoints share. Ids in paths (and
// the 404 of an id that does not parse, the same as of one that names nothing), the list
// parameters (limit and an opaque cursor), query parameters refused the way a
// body's fields are (422 naming each parameter), times in queries, and the audit row of
// a change made by the caller of a request (its user, name and remote address).
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/api/problem.hpp"
#include "faxbridge/api/request.hpp"
#include "faxbridge/core/clock.hpp"
#include "faxbridge/db/records.hpp"

namespace faxbridge::webapi {

// A positive decimal id ("12"); nullopt for anything else ("12a", "-1", "", overflow).
std::optional<std::int64_t> parse_id(std::string_view text);

// The path's {id}, or the problem `not_found` makes of its text when it is no id. An id
// that does not parse gets the very answer of one that names nothing (each endpoint file
// has its resource's not_found), so a client learns nothing from an id's shape.
api::ProblemOr<std::int64_t> path_id(const api::Request& req, api::Problem (*not_found)(std::string_view id));

// The cursor of a list is the id the next page starts after, encoded so that clients
// treat it as opaque ("c" + base64url). decode_cursor: nullopt when malformed.
std::string encode_cursor(std::int64_t id);
std::optional<std::int64_t> decode_cursor(std::string_view text);

// The query parameters of `req` not in `known`, each an api.field_unknown error named
// by the parameter: on a list a typo (?limt=5, ?unraed=true) is an error, not a filter
// silently dropped, the rule GET /faxes set (fax_routes.cpp).
std::vector<api::FieldError> unknown_query_parameters(const api::Request& req,
                                                      std::initializer_list<std::string_view> known);
// That rule for a list that reads its parameters some other way (or has none): the
// 422 api.validation_failed naming each unknown one; nullopt when all are known.
std::optional<api::Problem> refuse_unknown_query(const api::Request& req,
                                                 std::initializer_list<std::string_view> known = {});

// Query parameters checked like a body's fields: every bad one is listed, the problem
// is 422 api.validation_failed with each `field` the parameter's name.
class QueryCheck final {
 public:
  explicit QueryCheck(const api::Request& req) : req_(req) {}
  std::optional<std::string> text(std::string_view name, std::size_t max_chars = 200);
  std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(std::string_view name);           // true | false
  std::optional<TimePoint> time(std::string_view name);         // RFC 3339 date-time or a date
  std::optional<int> level(std::string_view name);              // 0 | 2 | 10
  int limit(int fallback = 50, int max = 200);
  // Every parameter not named here is an error (unknown_query_parameters).
  void known(std::initializer_list<std::string_view> names);
  // The cursor; a malformed one is api.cursor_invalid (400) rather than a field error,
  // since the client did not write it.
  std::int64_t cursor();
  void reject(std::string_view name, Code code, std::string detail);
  std::optional<api::Problem> finish();

 private:
  const api::Request& req_;
  std::vector<api::FieldError> errors_;
  bool cursor_invalid_ = false;
};

// RFC 3339 ("2026-12-02T01:55:21Z", "+01:00" offsets, fractions) or a plain date (its
// midnight UTC), years 1970 to 2200; nullopt when it is neither or names no real time.
std::optional<TimePoint> parse_time(std::string_view text);

// The audit row of a change the request's caller made: actor = caller, ip = the
// request's remote address.
db::AuditEvent audit_event(const api::Request& req, std::string action, std::string object_type,
                           std::string object_id, const nlohmann::json& details = nlohmann::json::object());

nlohmann::json time_or_null(const std::optional<TimePoint>& t);

}  // namespace faxbridge::webapi
