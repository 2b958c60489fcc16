// Test helper: publishes JobSubmitted{job_id = n} for n = 1, 2, ... on every topic given,
// one round every <interval_ms>, until killed. A topic written "!single:<t>" sends the
// single frame <t> instead (not a [topic, payload] message); "!garbage:<t>" sends
// [<t>, bytes that are not protobuf]. Usage: bus_test_publisher <endpoint> <interval_ms> <topic>...
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "faxbridge/bus.pb.h"
#include "faxbridge/bus/bus.hpp"

using namespace faxbridge;

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  const std::string endpoint = argv[1];
  const auto interval = std::chrono::milliseconds(std::atoi(argv[2]));
  const std::vector<std::string> topics(argv + 3, argv + argc);

  bus::Publisher publisher(endpoint, "test-publisher", "pub-1", nullptr);
  // Forged frames go through a second PUB socket on the same bus.
  zmq::context_t context;
  zmq::socket_t forger(context, zmq::socket_type::pub);
  forger.set(zmq::sockopt::linger, 0);
  forger.connect(endpoint);

  constexpr std::string_view kSingle = "!single:";
  constexpr std::string_view kGarbage = "!garbage:";
  for (std::int64_t n = 1;; ++n) {
    for (const auto& t : topics) {
      if (t.rfind(kSingle, 0) == 0) {
        forger.send(zmq::buffer(t.substr(kSingle.size())), zmq::send_flags::dontwait);
      } else if (t.rfind(kGarbage, 0) == 0) {
        (void)publisher.publish_raw(t.substr(kGarbage.size()), std::string("\x00\xff\xfe", 3));
      } else {
        bus::v1::JobSubmitted m;
        m.set_job_id(n);
        (void)publisher.publish(t, m);  // errors while the bus is down are expected
      }
    }
    std::this_thread::sleep_for(interval);
  }
}
