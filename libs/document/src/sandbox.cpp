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

#include <cairo-pdf.h>
#include <cairo.h>
#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
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

// The 'E' frame: the code by its table name, so the parent reads back the same Code.
void put_error(std::string& frame, const Error& e) {
  frame += 'E';
  put_str(frame, std::string(e.name()));
  put_str(frame, e.message);
  put_u32(frame, static_cast<std::uint32_t>(e.context.size()));
  for (const auto& [k, v] : e.context) {
    put_str(frame, k);
    put_str(frame, v);
  }
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
      put_error(frame, r.error());
    }
  } catch (const std::bad_alloc&) {
    frame.clear();
    put_error(frame, Error(Code::k_document_too_large, "The document needs more memory than a conversion may use."));
  } catch (...) {
    frame.clear();
    put_error(frame, Error(Code::k_document_corrupt, "The document could not be converted."));
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

Result<std::string> outcome(const std::string& frame, int status, bool timed_out, int timeout_ms) {
  if (timed_out)
    return Error(Code::k_document_timeout, "Converting the document took too long; please send it as a simpler PDF.")
        .with("limit_ms", std::to_string(timeout_ms));
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

// Reads until EOF or the deadline; false on timeout.
bool read_until_eof(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int pr = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (pr < 0 && errno != EINTR) return true;
    if (pr <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return true;
    }
    if (n == 0) return true;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool read_exact(int fd, void* dst, std::size_t n) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

struct ZygoteRequest {
  SandboxLimits limits;
};

// The zygote's loop: single-threaded; SIGCHLD through a signalfd. For each request
// (two descriptors and the limits over the control socket) it forks a child that
// reads the request from its descriptor, runs the handler and answers there; the
// child's pid and then its wait status go back on the status descriptor.
[[noreturn]] void zygote_main(int control, const RequestHandler& handler) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  std::map<pid_t, int> status_fds;
  for (;;) {
    pollfd fds[2] = {{control, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) _exit(1);
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) > 0) {
      }
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        auto it = status_fds.find(pid);
        if (it == status_fds.end()) continue;
        write_all(it->second, reinterpret_cast<const char*>(&status), sizeof status);
        close(it->second);
        status_fds.erase(it);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ZygoteRequest req;
      char cbuf[CMSG_SPACE(2 * sizeof(int))];
      iovec iov{&req, sizeof req};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      const ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
      if (n == 0) _exit(0);  // the service closed the control socket: it is gone
      if (n != static_cast<ssize_t>(sizeof req)) continue;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) continue;
      int fds2[2];
      std::memcpy(fds2, CMSG_DATA(c), sizeof fds2);
      const int io = fds2[0], st = fds2[1];
      const pid_t pid = fork();
      if (pid == 0) {
        close(control);
        close(sfd);
        close(st);
        for (auto& [p, f] : status_fds) close(f);
        sigprocmask(SIG_UNBLOCK, &chld, nullptr);
        std::uint64_t len = 0;
        std::string request;
        if (read_exact(io, &len, sizeof len) && len < (std::uint64_t{1} << 34)) {
          request.resize(static_cast<std::size_t>(len));
          if (!read_exact(io, request.data(), request.size())) request.clear();
        }
        child_main(io, req.limits, [&] { return handler(request); });
      }
      close(io);
      if (pid < 0) {
        const int status = -1;
        write_all(st, reinterpret_cast<const char*>(&pid), sizeof pid);
        write_all(st, reinterpret_cast<const char*>(&status), sizeof status);
        close(st);
        continue;
      }
      write_all(st, reinterpret_cast<const char*>(&pid), sizeof pid);
      status_fds[pid] = st;
    }
  }
}

}  // namespace

std::unique_ptr<Zygote> Zygote::start(RequestHandler handler) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
  const pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return nullptr;
  }
  if (pid == 0) {
    close(sv[0]);
    // Dies with the service (and never outlives it as an orphan).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    zygote_main(sv[1], handler);
  }
  close(sv[1]);
  std::unique_ptr<Zygote> z(new Zygote());
  z->control_ = sv[0];
  z->pid_ = pid;
  return z;
}

Zygote::~Zygote() {
  if (control_ >= 0) close(control_);  // the zygote exits on EOF
  if (pid_ > 0) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

double Zygote::cpu_seconds() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; rest >> field; ++i)
    if (i >= 14 && i <= 17) ticks += std::stod(field);  // utime stime cutime cstime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool Zygote::alive() const {
  std::lock_guard lock(mutex_);
  return pid_ > 0 && kill(pid_, 0) == 0;
}

Result<std::string> Zygote::run(const SandboxLimits& limits, std::string_view request) {
  int io[2], st[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) != 0)
    return Error(Code::k_io_failed, "Could not create a socket pair for the converter.").with("reason", std::strerror(errno));
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st) != 0) {
    const int err = errno;
    close(io[0]);
    close(io[1]);
    return Error(Code::k_io_failed, "Could not create a socket pair for the converter.").with("reason", std::strerror(err));
  }
  ZygoteRequest req{limits};
  {
    char cbuf[CMSG_SPACE(2 * sizeof(int))] = {};
    iovec iov{&req, sizeof req};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(2 * sizeof(int));
    const int pass[2] = {io[1], st[1]};
    std::memcpy(CMSG_DATA(c), pass, sizeof pass);
    std::lock_guard lock(mutex_);
    const ssize_t sent = sendmsg(control_, &msg, MSG_NOSIGNAL);
    close(io[1]);
    close(st[1]);
    if (sent != static_cast<ssize_t>(sizeof req)) {
      close(io[0]);
      close(st[0]);
      return Error(Code::k_document_sandbox_lost, "The converter's zygote process is gone.");
    }
  }
  pid_t child = -1;
  const bool have_pid = read_exact(st[0], &child, sizeof child);
  if (!have_pid || child <= 0) {
    close(io[0]);
    close(st[0]);
    // No pid at all: the zygote died. A pid of -1: it is alive but its fork failed.
    if (!have_pid) return Error(Code::k_document_sandbox_lost, "The converter's zygote process is gone.");
    return Error(Code::k_io_failed, "The converter's zygote could not start a child.");
  }
  // The request: its length, then its bytes. A child that dies early makes send
  // fail (no SIGPIPE); its status tells why.
  const std::uint64_t len = request.size();
  bool sent = send(io[0], &len, sizeof len, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof len);
  for (std::size_t off = 0; sent && off < request.size();) {
    const ssize_t n = send(io[0], request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) sent = false;
    else off += static_cast<std::size_t>(n);
  }
  shutdown(io[0], SHUT_WR);
  std::string frame;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  const bool timed_out = !read_until_eof(io[0], frame, deadline);
  close(io[0]);
  if (timed_out) kill(child, SIGKILL);
  int status = 0;
  const bool have_status = read_exact(st[0], &status, sizeof status);
  close(st[0]);
  if (!have_status) return Error(Code::k_document_sandbox_lost, "The converter's zygote process is gone.");
  return outcome(frame, status, timed_out, limits.timeout_ms);
}

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
  return outcome(frame, status, timed_out, limits.timeout_ms);
}

namespace {
cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}
}  // namespace

void warm_up() {
  ConvertOptions options;
  // Pango's font map, fontconfig's caches, glib's types and libmagic.
  (void)convert("warm up\n", "warm.txt", options);
  // Poppler's global state (built-in fonts, CMaps), Cairo's PDF path and font
  // caches: a small PDF with text and a grey fill, made here with Cairo.
  std::string pdf;
  cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_bytes, &pdf, 595.276, 841.89);
  cairo_t* cr = cairo_create(surface);
  cairo_select_font_face(cr, "DejaVu Serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 10);
  cairo_move_to(cr, 72, 72);
  cairo_show_text(cr, "Warm up 0123456789");
  cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
  cairo_rectangle(cr, 72, 100, 100, 100);
  cairo_fill(cr);
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  cairo_surface_destroy(surface);
  (void)convert(pdf, "warm.pdf", options);
}

}  // namespace faxbridge::document
