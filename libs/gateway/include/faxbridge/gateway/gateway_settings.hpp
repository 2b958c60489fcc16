#pragma once
// The media-gateway service's settings table: every FAXBRIDGE_GATEWAY_* variable with its
// default and bounds (docs/configuration.md), read into GatewaySettings, so the service's
// main only wires parts together.
#include <string>

#include "faxbridge/core/config.hpp"
#include "faxbridge/gateway/gateway.hpp"

namespace faxbridge::gateway {

// `instance` names the lease owner and cancel topic. Bad values are collected by the
// reader (ConfigReader::finish() lists them all).
GatewaySettings read_gateway_settings(config::ConfigReader& reader, std::string instance);

}  // namespace faxbridge::gateway
