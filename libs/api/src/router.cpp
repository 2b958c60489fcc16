// DESIGN: see router.hpp. The tree's nodes own a map of literal children and at most
// one parameter child; a node where a pattern ends keeps method -> route. Parameter
// names live with the route, not the node, so "/faxes/{id}" and "/faxes/{fax}/pages"
// can share the parameter level.
#include "faxbridge/api/router.hpp"

#include <algorithm>
#include <set>

namespace faxbridge::api {

struct RouteTable::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::map<std::string, std::size_t> methods;  // where a pattern ends
};

namespace {
bool is_param(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

bool valid_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}
}  // namespace

bool split_path(std::string_view path, std::vector<std::string_view>& segments) {
  segments.clear();
  if (path.empty() || path.front() != '/') return false;
  std::size_t start = 1;
  while (true) {
    const auto slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(path.substr(start));
      return true;
    }
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

RouteTable::RouteTable() : root_(std::make_unique<Node>()) {}
RouteTable::~RouteTable() = default;

Result<std::size_t> RouteTable::add(std::string method, std::string_view pattern) {
  auto bad = [&](std::string why) {
    return Error(Code::k_internal, "Bad API route " + method + " " + std::string(pattern) + ": " + why);
  };
  if (method == "HEAD") return bad("HEAD is served by the GET route");
  std::vector<std::string_view> segments;
  if (!split_path(pattern, segments)) return bad("a pattern starts with /");
  RouteInfo info{method, std::string(pattern), {}};
  Node* node = root_.get();
  for (auto segment : segments) {
    if (segment.empty()) return bad("empty segment");
    if (is_param(segment)) {
      auto name = segment.substr(1, segment.size() - 2);
      if (!valid_param_name(name)) return bad("parameter names are letters, digits and _");
      if (std::find(info.param_names.begin(), info.param_names.end(), name) != info.param_names.end()) {
        return bad("parameter {" + std::string(name) + "} appears twice");
      }
      info.param_names.emplace_back(name);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
    } else {
      if (segment.find_first_of("{}") != std::string_view::npos) return bad("a parameter is a whole segment");
      auto it = node->literals.find(segment);
      if (it == node->literals.end()) {
        it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
      }
      node = it->second.get();
    }
  }
  if (auto existing = node->methods.find(method); existing != node->methods.end()) {
    return bad("same method and shape as " + routes_[existing->second].pattern);
  }
  const std::size_t index = routes_.size();
  node->methods.emplace(method, index);
  routes_.push_back(std::move(info));
  return index;
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path) const {
  Match result;
  std::vector<std::string_view> segments;
  if (!split_path(path, segments)) return result;
  const std::string wanted = method == "HEAD" ? "GET" : std::string(method);

  // Depth-first, literal before parameter: the visiting order is the priority order.
  std::vector<std::string_view> values;
  std::set<std::string> allowed;
  bool found = false;
  auto visit = [&](auto& self, const Node& node, std::size_t depth) -> void {
    if (found) return;
    if (depth == segments.size()) {
      if (node.methods.empty()) return;
      if (auto it = node.methods.find(wanted); it != node.methods.end()) {
        found = true;
        result.kind = Match::Kind::kFound;
        result.route = it->second;
        const auto& names = routes_[it->second].param_names;
        for (std::size_t i = 0; i < names.size(); ++i) result.params.emplace_back(names[i], values[i]);
        return;
      }
      for (const auto& [m, route] : node.methods) {
        allowed.insert(m);
        if (m == "GET") allowed.insert("HEAD");
      }
      return;
    }
    const auto segment = segments[depth];
    if (auto it = node.literals.find(segment); it != node.literals.end()) {
      self(self, *it->second, depth + 1);
    }
    // A parameter never matches an empty segment ("/faxes//cancel").
    if (node.param && !segment.empty()) {
      values.push_back(segment);
      self(self, *node.param, depth + 1);
      values.pop_back();
    }
  };
  visit(visit, *root_, 0);
  if (!found && !allowed.empty()) {
    result.kind = Match::Kind::kMethodNotAllowed;
    result.allowed.assign(allowed.begin(), allowed.end());
  }
  return result;
}

}  // namespace faxbridge::api
