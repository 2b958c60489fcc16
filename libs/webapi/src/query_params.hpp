#pragma once
// Internal to libs/webapi: typed reading of query parameters, the way api::Fields reads
// a JSON body. Every bad parameter adds {field: its name, code, detail} and finish()
// answers one 422 listing them all. A parameter given empty counts as absent
// ("?unread=" is no filter). Parameters an endpoint does not know are ignored, as
// HTTP caches and proxies expect of query strings (a cache-busting ?_=123 on an image),
// except where the endpoint calls known(): the lists do, so a typo in a filter is an
// error rather than a page of unfiltered rows.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/api/request.hpp"
#include "faxbridge/api/validation.hpp"
#include "faxbridge/core/clock.hpp"

namespace faxbridge::webapi {

class QueryParams final {
 public:
  explicit QueryParams(const api::Request& req) : req_(req) {}

  void integer(std::string_view name, std::optional<std::int64_t>& out, api::Range range);
  void boolean(std::string_view name, std::optional<bool>& out);  // true|false
  // Text of rule's length whose every character is in `allowed` (empty: any).
  void text(std::string_view name, std::optional<std::string>& out, api::Text rule, std::string_view allowed = {});
  void choice(std::string_view name, std::string& out, const std::vector<std::string>& choices);
  void time(std::string_view name, std::optional<TimePoint>& out);  // RFC 3339 date-time
  void reject(std::string_view name, Code code, std::string detail);
  // Every parameter not named here is an api.field_unknown error.
  void known(std::initializer_list<std::string_view> names);

  std::optional<api::Problem> finish();

 private:
  std::optional<std::string> value(std::string_view name) const;
  const api::Request& req_;
  std::vector<api::FieldError> errors_;
};

// RFC 3339 date-time ("2026-11-25T06:30:00Z", "...T06:30:00.5+01:00"); nullopt when
// it is not one.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace faxbridge::webapi
