#pragma once
// Glue between the bus and a claim-and-sweep consumer: a thread receives WorkAvailable
// messages for one table and calls Consumer::notify (id 0 asks for a sweep). A message
// lost on the way costs latency only: the consumer's sweep finds the row anyway. Its
// subscriber and decoding count in `metrics` (bus.hpp's series; none when nullptr).
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "faxbridge/bus/bus.hpp"
#include "faxbridge/bus/consumer.hpp"

namespace faxbridge::bus {

class WorkFeed final {
 public:
  WorkFeed(const std::string& subscribe_endpoint, std::string table, Consumer& consumer, metrics::Registry* metrics);
  ~WorkFeed();
  void start();
  void stop();
  bool connected() const { return subscriber_.connected(); }

 private:
  void run();
  Subscriber subscriber_;
  std::string table_;
  Consumer& consumer_;
  metrics::Registry* metrics_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Tells the consumers of `table` that row `id` is claimable. Call after the commit.
Result<void> announce_work(Publisher& publisher, const std::string& table, std::int64_t id);

}  // namespace faxbridge::bus
