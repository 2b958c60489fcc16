#pragma once
// Test support: real child processes and polling waits, shared by the tests that run
// services as processes (bus, consumers racing, the service runtime).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <cstdio>
#include <vector>

#include "faxbridge/db/testing/pg_cluster.hpp"

extern char** environ;

namespace faxbridge::testing {

using namespace std::chrono_literals;
using db::testing::free_port;

// A child process, killed (SIGKILL) and reaped on destruction if still running.
class Child {
 public:
  Child(const std::string& path, const std::vector<std::string>& args,
        const std::map<std::string, std::string>& env = {}, const std::string& output_file = "") {
    // Everything exec needs is built before fork: only async-signal-safe calls after it.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string s(*e);
      if (env.count(s.substr(0, s.find('='))) == 0) env_strings.push_back(std::move(s));
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings{path};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!output_file.empty()) {
        if (FILE* f = std::freopen(output_file.c_str(), "a", stdout)) ::dup2(::fileno(f), 2);
      }
      ::execve(path.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Waits for the exit; the wait status, or nullopt after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() > end) return std::nullopt;
      std::this_thread::sleep_for(10ms);
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// Free loopback ports for one bus: publishers, subscribers, its side port.
struct Ports {
  int publish = free_port();
  int subscribe = free_port();
  int http = free_port();
  std::string publish_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(publish); }
  std::string subscribe_endpoint() const {
    return "tcp://127.0.0.1:" + std::to_string(subscribe);
  }
};

// The real faxbridge-bus on the given ports, side port on loopback.
inline std::unique_ptr<Child> start_bus(const std::string& binary, const Ports& p,
                                        std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"FAXBRIDGE_BUS_PUBLISH_ENDPOINT", p.publish_endpoint()},
      {"FAXBRIDGE_BUS_SUBSCRIBE_ENDPOINT", p.subscribe_endpoint()},
      {"FAXBRIDGE_HTTP_BIND_ADDRESS", "127.0.0.1"},
      {"FAXBRIDGE_HTTP_PORT", std::to_string(p.http)},
      {"FAXBRIDGE_LOG_LEVEL", "info"}};
  for (auto& [k, v] : extra) env[k] = v;
  return std::make_unique<Child>(binary, std::vector<std::string>{}, env);
}

// Polls `pred` every 20 ms until it holds or `limit` passes; the last answer.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}


}  // namespace faxbridge::testing
