#pragma once
// DESIGN: the route table. Patterns are paths with `{name}` segments
// ("/api/v1/faxes/{id}/cancel"); they go into a tree of segments, so a lookup costs the
// path's depth, not the number of routes. At each level a literal segment is tried
// before a parameter ("/faxes/export" beats "/faxes/{id}" whatever the registration
// order), backtracking when the literal branch leads nowhere. Among the paths that
// match, the first (most literal) one that has the request's method wins; when none has
// it the answer is 405 with every method the matching paths take. HEAD is served by GET.
// Two routes with the same shape and method are refused at registration.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::api {

using PathParams = std::vector<std::pair<std::string, std::string>>;

class RouteTable final {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Returns the route's index (0, 1, ...). Fails (internal: a programming error) on a
  // pattern that is not "/"-separated non-empty segments, a parameter name used twice,
  // or a route of the same method and shape.
  Result<std::size_t> add(std::string method, std::string_view pattern);

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    std::size_t route = 0;             // kFound
    PathParams params;                 // kFound, in pattern order
    std::vector<std::string> allowed;  // kMethodNotAllowed, sorted
  };
  Match match(std::string_view method, std::string_view path) const;

  const std::string& pattern(std::size_t route) const { return routes_[route].pattern; }
  const std::string& method(std::size_t route) const { return routes_[route].method; }

 private:
  struct Node;
  struct RouteInfo {
    std::string method;
    std::string pattern;
    std::vector<std::string> param_names;
  };
  std::unique_ptr<Node> root_;
  std::vector<RouteInfo> routes_;
};

// "/a/b/" -> {"a", "b", ""}; the leading "/" is required (false without it).
bool split_path(std::string_view path, std::vector<std::string_view>& segments);

}  // namespace faxbridge::api
