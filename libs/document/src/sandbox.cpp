// DESIGN: the decoder sandbox. Every untrusted document is decoded in a child made by
// fork() (no exec: the child inherits the decoders already loaded and warmed by
// warm_up(), which is what keeps a resident converter fast). The child sets
// RLIMIT_CPU and RLIMIT_AS, runs the function and writes one frame to a pipe:
//   'O' <u64 size> <bytes>            the result
//   'E' <u32 n> <code> <u32 n> <message> <u32 count> (<u32 n> <key> <u32 n> <value>)*
// then _exit()s (no atexit handlers, no flushing of the parent's stdio buffers).
// The parent reads the pipe with poll() against the wall-clock deadline, SIGKILLs the
// child when it passes, and reaps it. Death by SIGXCPU/SIGKILL means the time limit;
// any other signal means the decoder crashed on the file (document.corrupt).
// fork() in a multithreaded parent is safe here because the parent never runs the
// decoders itself after warm_up(): no decoder lock can be held at fork time, and
// glibc resets malloc's locks in the child.
#include "faxbridge/document/sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <string>

#include "faxbridge/document/convert.hpp"

namespace faxbridge::document {
namespace {

void put_u32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put_str(std::string& out, const std::string& s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out += s;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

[[noreturn]] void child_main(int fd, const SandboxLimits& limits, const std::function<Result<std::string>()>& fn) {
  // The child must not die of the parent's signal dispositions or masks.
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  rlimit cpu{static_cast<rlim_t>(limits.cpu_seconds), static_cast<rlim_t>(limits.cpu_seconds + 2)};
  setrlimit(RLIMIT_CPU, &cpu);
  rlimit as{static_cast<rlim_t>(limits.memory_bytes), static_cast<rlim_t>(limits.memory_bytes)};
  setrlimit(RLIMIT_AS, &as);
  rlimit core{0, 0};
  setrlimit(RLIMIT_CORE, &core);
  std::string frame;
  try {
    auto r = fn();
    if (r) {
      frame += 'O';
      const std::uint64_t n = r->size();
      frame.append(reinterpret_cast<const char*>(&n), sizeof n);
      frame += *r;
    } else {
      const Error& e = r.error();
      frame += 'E';
      put_str(frame, std::string(e.name()));
      put_str(frame, e.message);
      put_u32(frame, static_cast<std::uint32_t>(e.context.size()));
      for (const auto& [k, v] : e.context) {
        put_str(frame, k);
        put_str(frame, v);
      }
    }
  } catch (const std::bad_alloc&) {
    frame.clear();
    frame += 'E';
    put_str(frame, "document.too_large");
    put_str(frame, "The document needs more memory than a conversion may use.");
    put_u32(frame, 0);
  } catch (...) {
    frame.clear();
    frame += 'E';
    put_str(frame, "document.corrupt");
    put_str(frame, "The document could not be converted.");
    put_u32(frame, 0);
  }
  _exit(write_all(fd, frame.data(), frame.size()) ? 0 : 3);
}

struct Reader {
  const std::string& s;
  std::size_t pos = 0;
  bool u32(std::uint32_t& v) {
    if (pos + sizeof v > s.size()) return false;
    std::memcpy(&v, s.data() + pos, sizeof v);
    pos += sizeof v;
    return true;
  }
  bool str(std::string& out) {
    std::uint32_t n = 0;
    if (!u32(n) || pos + n > s.size()) return false;
    out.assign(s, pos, n);
    pos += n;
    return true;
  }
};

Result<std::string> decode_frame(const std::string& frame) {
  if (frame.empty()) return Error(Code::k_document_corrupt, "The document could not be converted.");
  if (frame[0] == 'O') {
    std::uint64_t n = 0;
    if (frame.size() < 1 + sizeof n) return Error(Code::k_internal, "A conversion result was cut short.");
    std::memcpy(&n, frame.data() + 1, sizeof n);
    if (frame.size() != 1 + sizeof n + n) return Error(Code::k_internal, "A conversion result was cut short.");
    return frame.substr(1 + sizeof n);
  }
  Reader r{frame, 1};
  std::string name, message;
  std::uint32_t count = 0;
  if (frame[0] != 'E' || !r.str(name) || !r.str(message) || !r.u32(count))
    return Error(Code::k_internal, "A conversion result could not be read.");
  Code code = Code::k_internal;
  if (!code_from_name(name, code)) code = Code::k_internal;
  Error e(code, message);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string k, v;
    if (!r.str(k) || !r.str(v)) break;
    e.with(k, v);
  }
  return e;
}

}  // namespace

Result<std::string> run_sandboxed(const SandboxLimits& limits, const std::function<Result<std::string>()>& fn) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Error(Code::k_io_failed, "Could not create a pipe for the converter.").with("reason", std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Error(Code::k_io_failed, "Could not start a converter process.").with("reason", std::strerror(err));
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(fds[1], limits, fn);
  }
  close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  std::string frame;
  bool timed_out = false;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int pr = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) break;
    if (pr <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break;  // EOF: the child exited (or closed the pipe)
    frame.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return Error(Code::k_document_timeout, "Converting the document took too long; please send it as a simpler PDF.")
        .with("limit_ms", std::to_string(limits.timeout_ms));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGXCPU || sig == SIGKILL)
      return Error(Code::k_document_timeout, "Converting the document took too long; please send it as a simpler PDF.")
          .with("signal", std::to_string(sig));
    return Error(Code::k_document_corrupt, "The document is damaged and could not be converted; please send it again.")
        .with("signal", std::to_string(sig));
  }
  return decode_frame(frame);
}

void warm_up() {
  ConvertOptions options;
  // Loads fontconfig's caches, Pango's font map, glib's types and libmagic.
  (void)convert("warm up\n", "warm.txt", options);
}

}  // namespace faxbridge::document
