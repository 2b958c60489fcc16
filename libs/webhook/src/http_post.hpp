#pragma once
// Internal to libs/webhook: one bounded POST with cpp-httplib (OpenSSL) to an address
// already checked (address.hpp). Bounded in time (one deadline for the whole exchange,
// enforced by a watchdog that shuts the socket, so a receiver that drips its headers or
// body a byte at a time cannot hold a worker past it) and in memory (at most
// max_response_bytes of the answer is read; past that the exchange is cut). An https URL's
// certificate is always checked, chain and host name (the URL's, not the address the
// SSRF check picked): the system's CA bundle plus the PEM file ca_file when set
// (webhooks.ca_file); a failed check is webhook.tls_failed and nothing is sent.
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "faxbridge/core/error.hpp"
#include "faxbridge/webhook/address.hpp"

namespace faxbridge::webhook::detail {

struct PostOutcome {
  std::optional<int> status;      // none when no answer came
  std::string excerpt;            // the start of the answer, at most 1 KiB
  std::optional<Error> error;     // none: a 2xx answer within the limits
  std::chrono::milliseconds duration{0};
};

inline constexpr std::size_t kExcerptBytes = 1024;

PostOutcome post(const Target& target, const std::map<std::string, std::string>& headers, const std::string& body,
                 std::chrono::milliseconds timeout, std::size_t max_response_bytes, const std::string& ca_file);

}  // namespace faxbridge::webhook::detail
