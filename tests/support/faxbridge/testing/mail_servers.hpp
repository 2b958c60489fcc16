#pragma once
// Test support: real mail servers on loopback, each with its own folder, for the tests of
// libs/mail and the notifier (and, later, mail-ingest).
//
// - TestCertificate: a self-signed certificate for "localhost" and 127.0.0.1 (openssl).
// - DovecotAuth: Dovecot with no mail protocol, only its auth service on a TCP port, so
//   Postfix can check SASL passwords (Postfix has no SASL of its own). Users come from a
//   passwd-file written here.
// - Postfix: a private Postfix instance (its own config_directory, queue and data
//   folders, log file) started as `master -c DIR` in the foreground, listening on three
//   loopback ports: `plain_port` (STARTTLS offered but optional, no AUTH: like a relay
//   on the same host), `submission_port` (STARTTLS required, then AUTH required) and
//   `smtps_port` (implicit TLS, AUTH required). Every mail for @example.test lands in one
//   maildir (messages()); recipients listed in `refuse` get a 5xx at RCPT, those in
//   `defer` a 4xx. stop() and start() keep the folder, the ports and the queue, so a test
//   can take the server away and bring it back.
//   For mail-ingest's tests it can instead be the receiving server in front of a mail
//   store, as deployed: `Options::lmtp_destination` hands every mail for
//   `Options::domain` to an LMTP server (Dovecot's, mailbox_server.hpp) rather than the
//   maildir, and `Options::milter` puts a milter (opendkim, opendkim.hpp) in smtpd's
//   path, with milter_default_action = tempfail so a milter that is away delays mail
//   rather than letting it through unchecked.
//
// Needs root (Postfix drops to its `postfix` user) and the Debian packages postfix and
// dovecot-core (scripts/setup).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "faxbridge/testing/process.hpp"

namespace faxbridge::testing {

namespace mail_detail {
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}
inline bool run(const std::string& command) { return std::system(command.c_str()) == 0; }
inline bool tcp_listening(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}
}  // namespace mail_detail

struct TestCertificate {
  std::string cert_file, key_file;
  std::string sha256;  // of the DER form, lower-case hex without colons

  static TestCertificate make(const std::filesystem::path& dir, const std::string& name = "server") {
    TestCertificate c;
    c.cert_file = (dir / (name + "-cert.pem")).string();
    c.key_file = (dir / (name + "-key.pem")).string();
    mail_detail::run("openssl req -x509 -newkey rsa:2048 -nodes -days 3 -subj /CN=localhost -addext "
                     "subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + c.key_file + " -out " + c.cert_file +
                     " >/dev/null 2>&1");
    const std::string fp = (dir / (name + ".sha256")).string();
    mail_detail::run("openssl x509 -in " + c.cert_file + " -noout -fingerprint -sha256 > " + fp);
    std::string line = mail_detail::read_file(fp);
    line = line.substr(line.find('=') + 1);
    for (char ch : line)
      if (std::isxdigit(static_cast<unsigned char>(ch))) c.sha256.push_back(static_cast<char>(std::tolower(ch)));
    ::chmod(c.key_file.c_str(), 0644);  // Postfix reads it as root, Dovecot too; a test key
    return c;
  }
};

class DovecotAuth {
 public:
  // users: name -> password (plain; a test server)
  DovecotAuth(const std::filesystem::path& dir, const std::map<std::string, std::string>& users) : dir_(dir) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_ / "base");
    fs::create_directories(dir_ / "state");
    port_ = free_port();
    std::string passwd;
    for (const auto& [u, p] : users) passwd += u + ":{PLAIN}" + p + "\n";
    mail_detail::write_file(dir_ / "users", passwd);
    std::ostringstream conf;
    conf << "base_dir = " << (dir_ / "base").string() << "\n"
         << "state_dir = " << (dir_ / "state").string() << "\n"
         << "protocols =\nlisten = 127.0.0.1\nssl = no\n"
         << "log_path = " << (dir_ / "dovecot.log").string() << "\n"
         << "auth_mechanisms = plain login\n"
         << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " << (dir_ / "users").string()
         << "\n}\n"
         << "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=/nonexistent\n}\n"
         << "service auth {\n  inet_listener {\n    address = 127.0.0.1\n    port = " << port_ << "\n  }\n}\n";
    mail_detail::write_file(dir_ / "dovecot.conf", conf.str());
    child_ = std::make_unique<Child>("/usr/sbin/dovecot",
                                     std::vector<std::string>{"-F", "-c", (dir_ / "dovecot.conf").string()},
                                     std::map<std::string, std::string>{}, (dir_ / "dovecot.out").string());
    ready_ = eventually([&] { return mail_detail::tcp_listening(port_) || !child_->running(); }, 30s) && child_->running();
  }
  ~DovecotAuth() {
    if (child_ && child_->running()) {
      child_->signal(SIGTERM);
      (void)child_->wait(10s);
    }
  }
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string log() const { return mail_detail::read_file(dir_ / "dovecot.log"); }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

class Postfix {
 public:
  struct Options {
    std::string sasl_user = "faxbridge";
    std::string sasl_password = "secret";
    std::vector<std::string> refuse;  // RCPT answered 550
    std::vector<std::string> defer;   // RCPT answered 450
    std::string domain = "example.test";         // the one domain it accepts mail for
    std::string hostname = "mail.example.test";  // myhostname
    std::string lmtp_destination;  // "127.0.0.1:PORT": deliver by LMTP there; empty: the maildir
    std::string milter;            // "inet:127.0.0.1:PORT": smtpd_milters; empty: none
  };

  Postfix(const std::filesystem::path& dir, Options options) : dir_(dir), options_(std::move(options)) {
    namespace fs = std::filesystem;
    for (const char* d : {"etc", "queue", "data", "mail"}) fs::create_directories(dir_ / d);
    mail_detail::run("chown postfix:postfix " + (dir_ / "data").string() + " " + (dir_ / "mail").string());
    cert_ = TestCertificate::make(dir_ / "etc");
    auth_ = std::make_unique<DovecotAuth>(dir_ / "dovecot",
                                          std::map<std::string, std::string>{{options_.sasl_user, options_.sasl_password}});
    plain_port_ = free_port();
    submission_port_ = free_port();
    smtps_port_ = free_port();
    write_config();
    mail_detail::run("postfix -c " + (dir_ / "etc").string() + " check >/dev/null 2>&1");
    ready_ = auth_->ready() && start();
  }
  ~Postfix() { stop(); }
  Postfix(const Postfix&) = delete;
  Postfix& operator=(const Postfix&) = delete;

  bool ready() const { return ready_; }
  int plain_port() const { return plain_port_; }
  int submission_port() const { return submission_port_; }
  int smtps_port() const { return smtps_port_; }
  const TestCertificate& certificate() const { return cert_; }
  const Options& options() const { return options_; }

  // Starts the master again (after stop()); true once every port answers.
  bool start() {
    if (master_ && master_->running()) return true;
    master_ = std::make_unique<Child>("/usr/lib/postfix/sbin/master",
                                      std::vector<std::string>{"-c", (dir_ / "etc").string(), "-s"},
                                      std::map<std::string, std::string>{}, (dir_ / "master.out").string());
    return eventually(
               [&] {
                 return (mail_detail::tcp_listening(plain_port_) && mail_detail::tcp_listening(submission_port_) &&
                         mail_detail::tcp_listening(smtps_port_)) ||
                        !master_->running();
               },
               30s) &&
           master_->running();
  }
  // Stops the master and its processes (the queue stays on disk); true once the ports
  // are closed.
  bool stop() {
    if (!master_ || !master_->running()) return true;
    master_->signal(SIGTERM);
    (void)master_->wait(20s);
    master_.reset();
    return eventually([&] { return !mail_detail::tcp_listening(plain_port_); }, 20s);
  }

  // The delivered messages (whole files), oldest first.
  std::vector<std::string> messages() const {
    namespace fs = std::filesystem;
    std::vector<std::pair<fs::file_time_type, std::string>> found;
    for (const char* sub : {"new", "cur"}) {
      const auto d = dir_ / "mail" / "all" / sub;
      std::error_code ec;
      if (!fs::exists(d, ec)) continue;
      for (const auto& e : fs::directory_iterator(d, ec))
        found.emplace_back(e.last_write_time(), mail_detail::read_file(e.path()));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }
  std::string log() const { return mail_detail::read_file(dir_ / "postfix.log"); }

 private:
  void write_config() {
    const std::string d = dir_.string();
    std::string access;
    for (const auto& a : options_.refuse) access += a + " REJECT 5.1.1 no such mailbox here\n";
    for (const auto& a : options_.defer) access += a + " DEFER 4.2.1 mailbox busy, try later\n";
    mail_detail::write_file(dir_ / "etc" / "access", access);
    std::ostringstream main;
    main << "compatibility_level = 3.6\n"
         << "queue_directory = " << d << "/queue\n"
         << "data_directory = " << d << "/data\n"
         << "mail_owner = postfix\nsetgid_group = postdrop\n"
         << "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n"
         << "myhostname = " << options_.hostname << "\nmydestination =\nmynetworks = 127.0.0.0/8\nrelay_domains =\n"
         << "virtual_mailbox_domains = " << options_.domain << "\n"
         << "virtual_mailbox_base = " << d << "/mail\n"
         << "virtual_mailbox_maps = static:all/\n"
         << "virtual_uid_maps = static:" << uid_of("postfix") << "\nvirtual_gid_maps = static:" << gid_of("postfix") << "\n"
         << "virtual_minimum_uid = 1\n"
         << (options_.lmtp_destination.empty() ? "" : "virtual_transport = lmtp:inet:" + options_.lmtp_destination + "\n")
         << (options_.milter.empty() ? ""
                                     : "smtpd_milters = " + options_.milter + "\nmilter_default_action = tempfail\n")
         << "smtpd_tls_cert_file = " << cert_.cert_file << "\nsmtpd_tls_key_file = " << cert_.key_file << "\n"
         << "smtpd_tls_security_level = may\n"
         << "smtpd_sasl_type = dovecot\nsmtpd_sasl_path = inet:127.0.0.1:" << auth_->port() << "\n"
         << "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
         << "smtpd_recipient_restrictions = check_recipient_access texthash:" << d << "/etc/access\n"
         << "maillog_file = " << d << "/postfix.log\nmaillog_file_prefixes = " << d << "\n"
         << "biff = no\nnotify_classes =\nalias_maps =\nalias_database =\n"
         // Bounces for a test's refused mail must not go anywhere (example.test only).
         << "bounce_queue_lifetime = 0\n";
    mail_detail::write_file(dir_ / "etc" / "main.cf", main.str());
    const std::string rcpt_with_auth = "check_recipient_access,texthash:" + d + "/etc/access,permit_sasl_authenticated,reject";
    std::ostringstream master;
    master << "127.0.0.1:" << plain_port_ << " inet n - n - - smtpd\n"
           << "127.0.0.1:" << submission_port_ << " inet n - n - - smtpd\n"
           << "  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes\n"
           << "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
           << "  -o smtpd_recipient_restrictions=" << rcpt_with_auth << "\n"
           << "127.0.0.1:" << smtps_port_ << " inet n - n - - smtpd\n"
           << "  -o smtpd_tls_wrappermode=yes\n  -o smtpd_sasl_auth_enable=yes\n"
           << "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject\n"
           << "  -o smtpd_recipient_restrictions=" << rcpt_with_auth << "\n";
    // The daemons Postfix needs to queue and deliver, none chrooted.
    for (const char* line : {"pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
                             "qmgr unix n - n 300 1 qmgr", "tlsmgr unix - - n 1000? 1 tlsmgr",
                             "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce",
                             "defer unix - - n - 0 bounce", "trace unix - - n - 0 bounce",
                             "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush",
                             "proxymap unix - - n - - proxymap", "proxywrite unix - - n - 1 proxymap",
                             "smtp unix - - n - - smtp", "relay unix - - n - - smtp", "showq unix n - n - - showq",
                             "error unix - - n - - error", "retry unix - - n - - error",
                             "discard unix - - n - - discard", "local unix - n n - - local",
                             "virtual unix - n n - - virtual", "lmtp unix - - n - - lmtp", "anvil unix - - n - 1 anvil",
                             "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd"})
      master << line << "\n";
    mail_detail::write_file(dir_ / "etc" / "master.cf", master.str());
  }
  static std::string uid_of(const std::string& user) {
    const passwd* p = ::getpwnam(user.c_str());
    return p ? std::to_string(p->pw_uid) : "0";
  }
  static std::string gid_of(const std::string& user) {
    const passwd* p = ::getpwnam(user.c_str());
    return p ? std::to_string(p->pw_gid) : "0";
  }

  std::filesystem::path dir_;
  Options options_;
  TestCertificate cert_;
  std::unique_ptr<DovecotAuth> auth_;
  int plain_port_ = 0, submission_port_ = 0, smtps_port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> master_;
};

}  // namespace faxbridge::testing
