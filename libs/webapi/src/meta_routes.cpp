// DESIGN: what a client may ask before signing in: the version of the server, so an
// integration can check what it talks to (and a load balancer can probe the API port).
#include "context.hpp"
#include "faxbridge/core/version.hpp"
#include "faxbridge/db/migrate.hpp"

namespace faxbridge::webapi {

std::vector<api::Route> meta_routes() {
  return {{"GET", "/api/v1/version", api::kPublic, api::BodyKind::kNone, [](api::Request&) -> api::Reply {
             const auto& migrations = db::builtin_migrations();
             return api::Response::json({{"version", kVersion},
                                         {"api", "v1"},
                                         {"schema", migrations.empty() ? 0 : migrations.back().version}});
           }}};
}

}  // namespace faxbridge::webapi
