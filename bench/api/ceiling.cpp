// bench/api ceiling: a bare cpp-httplib server that answers every GET with one fixed
// body and every POST with another (201), both application/json, after reading the
// request as cpp-httplib does. It is configured like libs/api's server (the same
// cpp-httplib, a pool of as many threads as web-api's, SO_REUSEADDR, the same
// timeouts and cpp-httplib's default keep-alive count), so what separates it from
// web-api is what web-api does per request: routing, the caller's token, the body
// checks, the database, the JSON.
// Usage: bench_api_ceiling PORT GET_BODY_FILE POST_BODY_FILE [threads=8] [nodelay]
// Prints "ready PORT" when it listens; stops on SIGTERM/SIGINT.
#include <httplib.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace {

std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_api_ceiling PORT GET_BODY_FILE POST_BODY_FILE [threads=8]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string get_body = slurp(argv[2]);
  const std::string post_body = slurp(argv[3]);
  const std::size_t threads = argc > 4 ? static_cast<std::size_t>(std::atoi(argv[4])) : 8;
  const bool nodelay = argc > 5 && std::string(argv[5]) == "nodelay";  // TCP_NODELAY (libs/api does not set it)

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before any thread starts

  httplib::Server http;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_socket_options([nodelay](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (nodelay) ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  http.set_read_timeout(30, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive_timeout(5);
  http.Get(".*", [&](const httplib::Request&, httplib::Response& res) { res.set_content(get_body, "application/json"); });
  http.Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 201;
    res.set_content(post_body, "application/json");
  });
  if (!http.bind_to_port("127.0.0.1", port)) {
    std::fprintf(stderr, "bench_api_ceiling: cannot bind 127.0.0.1:%d\n", port);
    return 1;
  }
  std::thread serve([&] { http.listen_after_bind(); });
  std::printf("ready %d\n", port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  http.stop();
  serve.join();
  return 0;
}
