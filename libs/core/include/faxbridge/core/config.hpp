#pragma once
// Configuration from FAXBRIDGE_* environment variables (Redis's one-table habit):
// each service reads its variables once in main() through a ConfigReader, which
// collects every problem instead of stopping at the first, so start-up fails with
// one message that lists each bad variable and what it expects. Libraries never
// call getenv; they take settings in their constructors.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "faxbridge/core/result.hpp"

namespace faxbridge::config {

using Env = std::function<std::optional<std::string>(std::string_view name)>;

Env process_env();
Env map_env(std::map<std::string, std::string> values);

enum class Visibility { kPlain, kSecret };

struct Effective {
  std::string name;
  std::string value;  // masked for secrets
  bool from_default = false;
};

class ConfigReader final {
 public:
  explicit ConfigReader(Env env) : env_(std::move(env)) {}

  // Each reader returns the value, or the default (or an empty value) after noting a
  // problem when the variable is missing without a default or invalid.
  std::string string(std::string_view name, std::optional<std::string> fallback,
                     std::string_view expected, Visibility visibility = Visibility::kPlain);
  std::int64_t integer(std::string_view name, std::optional<std::int64_t> fallback,
                       std::int64_t min, std::int64_t max);
  bool boolean(std::string_view name, std::optional<bool> fallback);
  // Milliseconds; the variable name carries the unit (…_MS).
  std::chrono::milliseconds duration_ms(std::string_view name,
                                        std::optional<std::chrono::milliseconds> fallback,
                                        std::chrono::milliseconds min,
                                        std::chrono::milliseconds max);
  std::string one_of(std::string_view name, std::optional<std::string> fallback,
                     const std::vector<std::string>& choices);

  // config.invalid naming every bad variable, or success.
  Result<void> finish() const;
  const std::vector<Effective>& effective() const { return effective_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::optional<std::string> lookup(std::string_view name, bool has_default,
                                    std::string_view expected);
  void record(std::string_view name, std::string value, bool from_default,
              Visibility visibility = Visibility::kPlain);
  void problem(std::string_view name, std::string_view got, std::string_view expected);

  Env env_;
  std::vector<Effective> effective_;
  std::vector<std::string> problems_;
};

// Masks a libpq connection string's password (key=value or URI form) for logging.
std::string mask_dsn(std::string_view dsn);

}  // namespace faxbridge::config
