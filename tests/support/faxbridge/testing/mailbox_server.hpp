#pragma once
// Test support: a real Dovecot serving IMAP and POP3 on loopback for the mailbox tests of
// libs/mail and mail-ingest, beside mail_servers.hpp's Postfix (whose TestCertificate and
// helpers it reuses).
//
// One Dovecot per object, its own folder (config, base_dir, log, maildirs), four ports on
// 127.0.0.1 chosen by free_port(): `imap_port` and `pop3_port` plain with STARTTLS/STLS
// offered (plain-text logins allowed, so a test can try a server without TLS),
// `imaps_port` and `pop3s_port` implicit TLS. The certificate is a TestCertificate for
// localhost and 127.0.0.1. Users come from a passwd-file; each has a Maildir++ under
// mail/<user> (INBOX at its root, folder F in .F), owned by the unprivileged
// `faxbridge-test` user the mail processes run as (Dovecot's master stays root, its login
// processes run as dovenull: ARCHITECTURE.md section 8).
//
// deliver() writes a message straight into a user's maildir (tmp/, then a rename into
// new/, as maildir(5) asks) and messages() reads a folder back, so a test needs no SMTP.
// `lmtp_port` is Dovecot's LMTP service (RFC 2033) on 127.0.0.1, which a Postfix in
// front (mail_servers.hpp, Options::lmtp_destination) delivers to, as a deployment of
// Postfix and Dovecot does: Dovecot writes its own maildir and indexes, as the mail
// user, where Postfix's virtual delivery into the same maildir would write files
// Dovecot only finds later, owned by Postfix's user. A recipient user@any.domain is the
// user `user` (%n): the fax mailbox's address is `fax@<fax domain>`.
//
// Needs root and the Debian packages dovecot-core, dovecot-imapd, dovecot-pop3d,
// dovecot-lmtpd (scripts/setup).
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faxbridge/testing/mail_servers.hpp"

namespace faxbridge::testing {

class DovecotMailbox {
 public:
  // users: name -> password (plain; a test server)
  DovecotMailbox(const std::filesystem::path& dir, const std::map<std::string, std::string>& users) : dir_(dir) {
    namespace fs = std::filesystem;
    for (const char* d : {"base", "state", "mail", "etc"}) fs::create_directories(dir_ / d);
    cert_ = TestCertificate::make(dir_ / "etc", "dovecot");
    const passwd* pw = ::getpwnam("faxbridge-test");
    uid_ = pw ? pw->pw_uid : 65534;
    gid_ = pw ? pw->pw_gid : 65534;
    std::string passwd;
    for (const auto& [u, p] : users) {
      passwd += u + ":{PLAIN}" + p + "\n";
      for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(dir_ / "mail" / u / sub);
    }
    chown_tree(dir_ / "mail");
    mail_detail::write_file(dir_ / "etc" / "users", passwd);
    imap_port_ = free_port();
    imaps_port_ = free_port();
    pop3_port_ = free_port();
    pop3s_port_ = free_port();
    lmtp_port_ = free_port();
    std::ostringstream conf;
    conf << "base_dir = " << (dir_ / "base").string() << "\n"
         << "state_dir = " << (dir_ / "state").string() << "\n"
         << "protocols = imap pop3 lmtp\nlisten = 127.0.0.1\n"
         << "log_path = " << (dir_ / "dovecot.log").string() << "\n"
         // STARTTLS offered, not required, and plain-text logins allowed: the tests try
         // every TLS mode against the same server.
         << "ssl = yes\nssl_cert = <" << cert_.cert_file << "\nssl_key = <" << cert_.key_file << "\n"
         << "disable_plaintext_auth = no\nauth_mechanisms = plain login\n"
         // A wrong password is answered at once (the default waits 2 s against guessing).
         << "auth_failure_delay = 0\n"

         << "mail_location = maildir:" << (dir_ / "mail").string() << "/%n\n"
         << "namespace inbox {\n  inbox = yes\n  separator = /\n}\n"
         << "first_valid_uid = 1\n"
         << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%n "
         << (dir_ / "etc" / "users").string() << "\n}\n"
         << "userdb {\n  driver = static\n  args = uid=" << uid_ << " gid=" << gid_ << " home="
         << (dir_ / "mail").string() << "/%n\n}\n"
         << "service imap-login {\n"
         << "  inet_listener imap {\n    address = 127.0.0.1\n    port = " << imap_port_ << "\n  }\n"
         << "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " << imaps_port_ << "\n    ssl = yes\n  }\n}\n"
         << "service pop3-login {\n"
         << "  inet_listener pop3 {\n    address = 127.0.0.1\n    port = " << pop3_port_ << "\n  }\n"
         << "  inet_listener pop3s {\n    address = 127.0.0.1\n    port = " << pop3s_port_ << "\n    ssl = yes\n  }\n}\n"
         << "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = " << lmtp_port_ << "\n  }\n}\n"
         << "service anvil {\n  chroot =\n}\n";
    mail_detail::write_file(dir_ / "etc" / "dovecot.conf", conf.str());
    child_ = std::make_unique<Child>("/usr/sbin/dovecot",
                                     std::vector<std::string>{"-F", "-c", (dir_ / "etc" / "dovecot.conf").string()},
                                     std::map<std::string, std::string>{}, (dir_ / "dovecot.out").string());
    ready_ = eventually(
                 [&] {
                   return (mail_detail::tcp_listening(imap_port_) && mail_detail::tcp_listening(imaps_port_) &&
                           mail_detail::tcp_listening(pop3_port_) && mail_detail::tcp_listening(pop3s_port_) &&
                           mail_detail::tcp_listening(lmtp_port_)) ||
                          !child_->running();
                 },
                 30s) &&
             child_->running();
  }
  ~DovecotMailbox() {
    if (child_ && child_->running()) {
      child_->signal(SIGTERM);
      (void)child_->wait(10s);
    }
  }
  DovecotMailbox(const DovecotMailbox&) = delete;
  DovecotMailbox& operator=(const DovecotMailbox&) = delete;

  bool ready() const { return ready_; }
  int imap_port() const { return imap_port_; }
  int imaps_port() const { return imaps_port_; }
  int pop3_port() const { return pop3_port_; }
  int pop3s_port() const { return pop3s_port_; }
  int lmtp_port() const { return lmtp_port_; }
  const TestCertificate& certificate() const { return cert_; }
  std::string log() const {
    return mail_detail::read_file(dir_ / "dovecot.log") + mail_detail::read_file(dir_ / "dovecot.out");
  }

  // Puts a message into the user's folder ("" or "INBOX": the inbox), as a local delivery
  // agent would; returns its file name.
  std::string deliver(const std::string& user, const std::string& bytes, const std::string& folder = "") {
    namespace fs = std::filesystem;
    const fs::path box = folder_dir(user, folder);
    for (const char* sub : {"tmp", "new", "cur"}) fs::create_directories(box / sub);
    static std::atomic<unsigned> counter{0};
    const std::string name = std::to_string(::time(nullptr)) + ".M" + std::to_string(++counter) + "P" +
                             std::to_string(::getpid()) + ".faxbridge-test";
    mail_detail::write_file(box / "tmp" / name, bytes);
    fs::rename(box / "tmp" / name, box / "new" / name);
    chown_tree(dir_ / "mail" / user);
    return name;
  }

  // The messages of a folder (whole files), in file-name order (delivery order here).
  std::vector<std::string> messages(const std::string& user, const std::string& folder = "") const {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::string, std::string>> found;
    for (const char* sub : {"new", "cur"}) {
      const auto d = folder_dir(user, folder) / sub;
      std::error_code ec;
      if (!fs::exists(d, ec)) continue;
      for (const auto& e : fs::directory_iterator(d, ec))
        found.emplace_back(e.path().filename().string(), mail_detail::read_file(e.path()));
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }
  // The maildir flags of a folder's messages ("S", "FS", ...), in the same order.
  std::vector<std::string> flags(const std::string& user, const std::string& folder = "") const {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::string, std::string>> found;
    for (const char* sub : {"new", "cur"}) {
      const auto d = folder_dir(user, folder) / sub;
      std::error_code ec;
      if (!fs::exists(d, ec)) continue;
      for (const auto& e : fs::directory_iterator(d, ec)) {
        const std::string n = e.path().filename().string();
        const auto info = n.find(":2,");
        found.emplace_back(n, info == std::string::npos ? std::string() : n.substr(info + 3));
      }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> out;
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
  }

 private:
  std::filesystem::path folder_dir(const std::string& user, const std::string& folder) const {
    if (folder.empty() || folder == "INBOX") return dir_ / "mail" / user;
    // Maildir++: folder a/b is ".a.b" under the root.
    std::string name = "." + folder;
    std::replace(name.begin(), name.end(), '/', '.');
    return dir_ / "mail" / user / name;
  }
  void chown_tree(const std::filesystem::path& root) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    (void)::chown(root.c_str(), uid_, gid_);
    for (const auto& e : fs::recursive_directory_iterator(root, ec)) (void)::chown(e.path().c_str(), uid_, gid_);
  }

  std::filesystem::path dir_;
  TestCertificate cert_;
  uid_t uid_ = 65534;
  gid_t gid_ = 65534;
  int imap_port_ = 0, imaps_port_ = 0, pop3_port_ = 0, pop3s_port_ = 0, lmtp_port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

}  // namespace faxbridge::testing
