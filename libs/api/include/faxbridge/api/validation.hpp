#pragma once
// DESIGN: typed validation of a JSON body that reads like the endpoint's schema:
//
//   api::Fields f(req.json());
//   f.required("to", fax.to, api::Text{.min = 1, .max = 32});
//   f.optional("subject", fax.subject, api::Text{.max = 200});
//   f.optional("priority", fax.priority, api::Range{.min = 0, .max = 9});
//   f.optional("resolution", fax.resolution, api::OneOf{{"standard", "fine"}});
//   f.list("labels", fax.labels, api::Items{.max = 20}, api::Text{.min = 1, .max = 40});
//   f.each("recipients", api::Items{.min = 1, .max = 100}, [&](api::Fields& r) { ... });
//   if (auto problem = f.finish()) return *problem;  // one 422 listing every bad field
//
// Every rule that fails adds {field: JSON pointer, code, detail}; nothing stops at the
// first error, so a client fixes its request in one round. finish() also refuses every
// field the code did not read (api.field_unknown): a typo ("subjet") is an error, not
// silently ignored. `null` counts as absent. Strings are measured in characters
// (Unicode code points; the JSON parser has already refused invalid UTF-8). A body with
// thousands of bad fields reports the first kMaxErrors and says how many there were.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "faxbridge/api/problem.hpp"

namespace faxbridge::api {

struct Text {
  std::size_t min = 0;
  std::size_t max = 10'000;
};
struct Range {
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};
struct Items {
  std::size_t min = 0;
  std::size_t max = 1'000;
};
struct OneOf {
  std::vector<std::string> choices;
};

// "/a~b/c" as one pointer token: "~" -> "~0", "/" -> "~1" (RFC 6901).
std::string json_pointer_token(std::string_view key);

class Fields final {
 public:
  static constexpr std::size_t kMaxErrors = 50;

  // The body must be an object; anything else is one error at "" (the whole document).
  explicit Fields(const nlohmann::json& body);
  // Fields refers to the body, so it must outlive it: a temporary would dangle.
  explicit Fields(nlohmann::json&& body) = delete;
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

  // Strings.
  void required(std::string_view name, std::string& out, Text rule = {});
  void optional(std::string_view name, std::string& out, Text rule = {});
  void optional(std::string_view name, std::optional<std::string>& out, Text rule = {});
  void required(std::string_view name, std::string& out, const OneOf& rule);
  void optional(std::string_view name, std::string& out, const OneOf& rule);
  // Integers (a JSON number without fraction, also within the type of `out`).
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  void required(std::string_view name, Int& out, Range rule = {}) {
    read_integer(name, true, rule, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max(),
                 [&](std::int64_t v) { out = static_cast<Int>(v); });
  }
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  void optional(std::string_view name, Int& out, Range rule = {}) {
    read_integer(name, false, rule, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max(),
                 [&](std::int64_t v) { out = static_cast<Int>(v); });
  }
  template <typename Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  void optional(std::string_view name, std::optional<Int>& out, Range rule = {}) {
    read_integer(name, false, rule, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max(),
                 [&](std::int64_t v) { out = static_cast<Int>(v); });
  }
  // Booleans.
  void required(std::string_view name, bool& out);
  void optional(std::string_view name, bool& out);
  // A list of strings, each checked with `each`.
  void list(std::string_view name, std::vector<std::string>& out, Items items = {}, Text each = {});
  // A list of integers (ids), each within `each`.
  void list(std::string_view name, std::vector<std::int64_t>& out, Items items, Range each);
  // A nested object, validated by `fn` with its own Fields (unknown fields refused too).
  void object(std::string_view name, bool is_required, const std::function<void(Fields&)>& fn);
  // A list of objects, `fn` called for each element (pointer ".../recipients/3/...").
  void each(std::string_view name, Items items, const std::function<void(Fields&)>& fn);

  // A rule of the endpoint's own (a fax number that does not parse): `field` is a name of
  // this object; `code` may be any code of the table (phone.invalid).
  void reject(std::string_view field, Code code, std::string detail);
  bool has(std::string_view name) const;  // present and not null
  bool ok() const;

  // The 422 problem listing every error (unknown fields included), or nullopt.
  // Call once, on the outermost Fields.
  std::optional<Problem> finish();

 private:
  struct Errors {
    std::vector<FieldError> list;
    std::size_t total = 0;
  };
  Fields(const nlohmann::json& body, std::string pointer, std::shared_ptr<Errors> errors);

  const nlohmann::json* take(std::string_view name, bool is_required);  // nullptr: absent or error
  std::string pointer_of(std::string_view name) const;
  void add(std::string pointer, Code code, std::string detail);
  void check_unknown();
  bool check_text(std::string pointer, const nlohmann::json& value, Text rule, std::string& out);
  void read_integer(std::string_view name, bool is_required, Range rule, std::int64_t type_min,
                    std::uint64_t type_max, const std::function<void(std::int64_t)>& store);
  void read_string(std::string_view name, bool is_required, Text rule, const std::function<void(std::string)>& store);

  const nlohmann::json& body_;
  std::string pointer_;
  std::shared_ptr<Errors> errors_;
  std::vector<std::string> seen_;
  bool is_object_ = false;
};

}  // namespace faxbridge::api
