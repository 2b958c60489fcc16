#pragma once
// DESIGN: the gateway's pool of local UDP media ports. Private to libs/gateway.
// Even ports of the configured range, handed out round robin so a port just released
// (whose far end may still send a few late packets) is the last to be reused. A port is
// checked with a real bind before it is offered: other programs may hold some of the
// range, and an SDP that names a port we cannot bind fails the call after the answer.
// Control thread only.
#include <optional>
#include <set>
#include <string>

namespace faxbridge::gateway {

struct CallPorts {
  int media = 0;  // the call's first stream
  int t38 = 0;    // an audio call that may move to T.38: the port T.38 moves to; else 0
};

class MediaPorts final {
 public:
  MediaPorts(std::string address, int first, int last);

  // One port that binds now; 0 when the range is exhausted or every try was taken.
  int reserve();
  // A call's ports (two when `with_t38` is set); nullopt, and nothing held, when short.
  std::optional<CallPorts> reserve_call(bool with_t38);
  void release(int port);
  void release(const CallPorts& ports);

 private:
  int next_candidate();

  std::string address_;
  int first_, last_;
  int next_;
  std::set<int> in_use_;
};

}  // namespace faxbridge::gateway
