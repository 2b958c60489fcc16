// DESIGN: see announcer.hpp. A failed publish is logged at debug and forgotten: the
// consumers' sweep finds the row anyway (architecture.md, "Postgres is the queue").
#include "faxbridge/webapi/announcer.hpp"

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/bus/work_feed.hpp"
#include "faxbridge/core/log.hpp"
#include "faxbridge/bus.pb.h"

namespace faxbridge::webapi {

void BusAnnouncer::work(const std::string& stage, std::int64_t id) {
  if (auto r = bus::announce_work(publisher_, stage, id); !r) {
    log::debug("webapi.announce_failed", {{"stage", stage}, {"id", id}, {"code", std::string(r.error().name())}});
  }
}

void BusAnnouncer::cancel_call(const std::string& gateway_instance, std::int64_t job_id) {
  bus::v1::CancelJob m;
  m.set_job_id(job_id);
  m.set_gateway_instance(gateway_instance);
  if (auto r = publisher_.publish(bus::topics::cancel_topic(gateway_instance), m); !r) {
    log::debug("webapi.cancel_announce_failed", {{"job", job_id}, {"gateway", gateway_instance}});
  }
}

}  // namespace faxbridge::webapi
