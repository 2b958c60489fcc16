#include "faxbridge/bus/work_feed.hpp"

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/topics.hpp"
#include "faxbridge/core/log.hpp"

namespace faxbridge::bus {

WorkFeed::WorkFeed(const std::string& subscribe_endpoint, std::string table, Consumer& consumer,
                   metrics::Registry* metrics)
    : subscriber_(subscribe_endpoint, {topics::work_topic(table)}, metrics),
      table_(std::move(table)),
      consumer_(consumer),
      metrics_(metrics) {}

WorkFeed::~WorkFeed() { stop(); }

void WorkFeed::start() {
  stop_ = false;
  thread_ = std::thread(&WorkFeed::run, this);
}

void WorkFeed::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void WorkFeed::run() {
  const std::string topic = topics::work_topic(table_);
  while (!stop_) {
    auto m = subscriber_.receive(std::chrono::milliseconds(200));
    if (!m) {
      log::write_error(log::Level::kWarn, "bus.receive_failed", m.error(), {{"topic", topic}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (!m->has_value() || (*m)->topic != topic) continue;  // a longer topic with our prefix
    auto work = decode<v1::WorkAvailable>(**m, metrics_);
    if (!work) continue;  // logged and counted by decode; never stops the feed
    if (work->id() == 0) consumer_.sweep_now();
    else consumer_.notify(work->id());
  }
}

Result<void> announce_work(Publisher& publisher, const std::string& table, std::int64_t id) {
  v1::WorkAvailable msg;
  msg.set_table(table);
  msg.set_id(id);
  return publisher.publish(topics::work_topic(table), msg);
}

}  // namespace faxbridge::bus
