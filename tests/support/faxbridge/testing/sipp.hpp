#pragma once
// SIPp (Debian sip-tester) as an independent SIP peer in tests: one scenario, one call
// (or `calls`), on loopback, its messages and errors logged under `dir`. Its exit status
// says whether the scenario went as scripted (0).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "faxbridge/testing/ports.hpp"
#include "faxbridge/testing/process.hpp"

namespace faxbridge::testing {

struct SippRun {
  std::string binary;    // FAXBRIDGE_SIPP_BIN
  std::string scenario;  // full path of the XML file
  std::filesystem::path dir;
  // SIPp's SIP port: free_port() only checks TCP, and a port some other test holds for UDP
  // makes SIPp exit at start, so the call never comes.
  int port = free_udp_block(1);
  int media_port = free_udp_block(4);  // SIPp's media port (it also binds media_port + 2)
  std::string remote;    // host:port to call (UAC scenarios); empty for a UAS
  std::string service = "403";  // the number a UAC scenario calls
  int calls = 1;
  std::string transport = "u1";  // SIPp's -t: u1 UDP, t1 TCP (one socket)
  std::chrono::seconds timeout{60};
  std::vector<std::string> extra_args;  // e.g. {"-key", "red_port", "20004"}: [red_port] in the scenario

  std::unique_ptr<Child> start() const {
    std::filesystem::create_directories(dir);
    std::vector<std::string> args = {"-sf", scenario, "-i", "127.0.0.1", "-p", std::to_string(port),
                                     "-mp", std::to_string(media_port), "-m", std::to_string(calls),
                                     "-timeout", std::to_string(timeout.count()) + "s", "-timeout_error",
                                     "-nostdin", "-t", transport, "-trace_err", "-error_file", (dir / "errors.log").string(),
                                     "-trace_msg", "-message_file", (dir / "messages.log").string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    if (!remote.empty()) args.insert(args.end(), {"-s", service, remote});
    auto child = std::make_unique<Child>(binary, args, std::map<std::string, std::string>{},
                                         (dir / "sipp.out").string());
    // A UAS must listen before anybody calls it.
    eventually([&] { return udp_port_bound(port) || !child->running(); }, 10s);
    return child;
  }

  // SIPp's exit code (0: as scripted; -1: still running after `limit`); its logs go to
  // `report` when it is not 0.
  int finish(Child& sipp, std::chrono::milliseconds limit, std::string* report = nullptr) const {
    auto status = sipp.wait(limit);
    if (!status) return -1;
    const int code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    if (code != 0 && report != nullptr) {
      for (const char* f : {"errors.log", "messages.log", "sipp.out"}) {
        std::ifstream in(dir / f);
        std::stringstream ss;
        ss << in.rdbuf();
        *report += std::string(f) + ":\n" + ss.str().substr(0, 6000) + "\n";
      }
    }
    return code;
  }
};

}  // namespace faxbridge::testing
