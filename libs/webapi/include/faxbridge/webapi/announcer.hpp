#pragma once
// DESIGN: what the web API tells the other services after a commit. A submitted fax is
// announced on the conversion stage (the converter claims it at once instead of at its
// next sweep), and cancelling a fax in a call tells the gateway that holds it to hang
// up. Both are hints: a lost message costs latency (the consumers sweep their input
// state), so nothing waits for them and nothing fails with them. WebApi takes an
// optional Announcer, so tests run without a bus; services/web-api passes BusAnnouncer
// over the runtime's publisher.
#include <cstdint>
#include <string>

namespace faxbridge::bus {
class Publisher;
}

namespace faxbridge::webapi {

class Announcer {
 public:
  virtual ~Announcer() = default;
  // Row `id` of the stage's table entered the state its consumers claim from
  // (db::QueueSpec::stage(), "fax_jobs.submitted"). Called after the commit; any thread.
  virtual void work(const std::string& stage, std::int64_t id) = 0;
  // The gateway instance holding a call of job `job_id` should end it (cancel).
  virtual void cancel_call(const std::string& gateway_instance, std::int64_t job_id) = 0;
};

// Over the bus (bus::announce_work, bus::topics::cancel_topic), as the CLI and the
// services announce; bus::Publisher is thread-safe, so request threads share it.
class BusAnnouncer final : public Announcer {
 public:
  explicit BusAnnouncer(bus::Publisher& publisher) : publisher_(publisher) {}
  void work(const std::string& stage, std::int64_t id) override;
  void cancel_call(const std::string& gateway_instance, std::int64_t job_id) override;

 private:
  bus::Publisher& publisher_;
};

}  // namespace faxbridge::webapi
