#pragma once
// Test support: DKIM as a receiving mail server checks it, for mail-ingest's forged-sender
// tests: Debian's opendkim as a verifying milter of the test Postfix (mail_servers.hpp),
// test keys made by opendkim-genkey, and mails signed with python3-dkim's dkimsign.
//
// - DkimKey::generate: an RSA key pair for `selector._domainkey.domain` (opendkim-genkey,
//   2048 bits), the private key in a file, the public key as its DNS TXT record.
// - dkim_sign: the message with a DKIM-Signature prepended (dkimsign, relaxed/simple), by
//   an implementation independent of the verifier.
// - OpenDkim: opendkim in verify mode (Mode v), in the foreground, its own folder and
//   config, dropping to the unprivileged `faxbridge-test` user (UserID), its milter socket
//   on a 127.0.0.1 port. Public keys come from a file (TestPublicKeys, opendkim's option
//   for automated tests) instead of DNS, so a test domain's key is found without a
//   resolver. Every verified mail gets `Authentication-Results: <authserv_id>; dkim=...`
//   above Postfix's own Received field, as in production. Options::remove_all_ar is
//   RemoveARAll (remove every field claiming the authserv-id, not only those with a DKIM
//   result, opendkim's default), Options::always_add_ar is AlwaysAddARHeader (stamp
//   unsigned mail too: `dkim=none`).
//
// Needs root (to start and drop to faxbridge-test) and the Debian packages opendkim,
// opendkim-tools and python3-dkim (scripts/setup).
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "faxbridge/testing/mail_servers.hpp"

namespace faxbridge::testing {

struct DkimKey {
  std::string domain, selector;
  std::string private_key_file;
  std::string txt_record;  // "v=DKIM1; h=sha256; k=rsa; p=..."

  // Empty txt_record when opendkim-genkey failed.
  static DkimKey generate(const std::filesystem::path& dir, const std::string& domain,
                          const std::string& selector = "test") {
    namespace fs = std::filesystem;
    DkimKey k{domain, selector, {}, {}};
    const fs::path d = dir / domain;
    fs::create_directories(d);
    if (!mail_detail::run("opendkim-genkey -b 2048 -d " + domain + " -s " + selector + " -D " + d.string() +
                          " >" + (d / "genkey.out").string() + " 2>&1"))
      return k;
    k.private_key_file = (d / (selector + ".private")).string();
    // The zone file line: `sel._domainkey IN TXT ( "v=DKIM1; ..." "p=..." "..." )`: the
    // record is its quoted strings joined.
    const std::string zone = mail_detail::read_file(d / (selector + ".txt"));
    static const std::regex quoted("\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(zone.begin(), zone.end(), quoted); it != std::sregex_iterator(); ++it)
      k.txt_record += (*it)[1].str();
    return k;
  }
  std::string dns_name() const { return selector + "._domainkey." + domain; }
};

// The message signed by `key` (its DKIM-Signature on top), or "" when dkimsign failed.
// `domain` overrides the key's domain in d=, to sign in another domain's name.
inline std::string dkim_sign(const DkimKey& key, const std::string& message, const std::string& domain = "") {
  namespace fs = std::filesystem;
  static int counter = 0;
  const fs::path dir = fs::path(key.private_key_file).parent_path();
  const fs::path in = dir / ("unsigned-" + std::to_string(++counter) + ".eml");
  const fs::path out = dir / ("signed-" + std::to_string(counter) + ".eml");
  mail_detail::write_file(in, message);
  if (!mail_detail::run("/usr/bin/dkimsign " + key.selector + " " + (domain.empty() ? key.domain : domain) + " " +
                        key.private_key_file + " <" + in.string() + " >" + out.string() + " 2>" +
                        (dir / "dkimsign.err").string()))
    return {};
  return mail_detail::read_file(out);
}

class OpenDkim {
 public:
  struct Options {
    std::string authserv_id = "mx.faxbridge.test";
    std::vector<DkimKey> keys;  // the public keys it finds, as if published in DNS
    bool remove_all_ar = false;  // RemoveARAll
    bool always_add_ar = true;   // AlwaysAddARHeader
  };

  OpenDkim(const std::filesystem::path& dir, Options options) : dir_(dir), options_(std::move(options)) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_);
    port_ = free_port();
    std::string keys;
    for (const auto& k : options_.keys) keys += k.dns_name() + " " + k.txt_record + "\n";
    mail_detail::write_file(dir_ / "public-keys", keys);
    std::ostringstream conf;
    conf << "Mode v\n"
         << "Socket inet:" << port_ << "@127.0.0.1\n"
         << "AuthservID " << options_.authserv_id << "\n"
         << "TestPublicKeys " << (dir_ / "public-keys").string() << "\n"
         << "RemoveARAll " << (options_.remove_all_ar ? "yes" : "no") << "\n"
         << "AlwaysAddARHeader " << (options_.always_add_ar ? "yes" : "no") << "\n"
         // A mail whose signature fails is still delivered, with dkim=fail: the decision
         // is mail-ingest's, as with a server that does not reject.
         << "On-BadSignature accept\nOn-NoSignature accept\n"
         << "Background no\nUserID faxbridge-test\n"
         << "PidFile " << (dir_ / "opendkim.pid").string() << "\n"
         << "Syslog no\n";
    mail_detail::write_file(dir_ / "opendkim.conf", conf.str());
    const passwd* pw = ::getpwnam("faxbridge-test");
    if (pw) {
      (void)::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid);
      (void)::chown((dir_ / "public-keys").c_str(), pw->pw_uid, pw->pw_gid);
    }
    child_ = std::make_unique<Child>("/usr/sbin/opendkim",
                                     std::vector<std::string>{"-f", "-x", (dir_ / "opendkim.conf").string()},
                                     std::map<std::string, std::string>{}, (dir_ / "opendkim.out").string());
    ready_ = eventually([&] { return mail_detail::tcp_listening(port_) || !child_->running(); }, 30s) &&
             child_->running();
  }
  ~OpenDkim() {
    if (child_ && child_->running()) {
      child_->signal(SIGTERM);
      (void)child_->wait(10s);
    }
  }
  OpenDkim(const OpenDkim&) = delete;
  OpenDkim& operator=(const OpenDkim&) = delete;

  bool ready() const { return ready_; }
  // Postfix's smtpd_milters value.
  std::string milter() const { return "inet:127.0.0.1:" + std::to_string(port_); }
  const Options& options() const { return options_; }
  std::string log() const { return mail_detail::read_file(dir_ / "opendkim.out"); }

 private:
  std::filesystem::path dir_;
  Options options_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

}  // namespace faxbridge::testing
