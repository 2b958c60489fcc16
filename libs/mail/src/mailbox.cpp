// DESIGN: one vmime store (IMAP or POP3) and its open folder per session, the way a
// poll uses them: connect, list, fetch each, mark each, close. The session holds no
// message objects between calls but the POP3 id -> message number map of the last
// list(): POP3 numbers are valid for one session only (RFC 1939 section 3), UIDLs for
// ever, so every POP3 call by id goes through that map and a session that lost it lists
// again. IMAP calls address messages by UID within the UIDVALIDITY read at open; an id of
// another UIDVALIDITY (the folder was recreated) is "gone", never another message.
//
// Every vmime exception is turned into one of our codes at this boundary (classify), and
// any failure drops the connection: a store in an unknown state is never reused.
#include "faxbridge/mail/mailbox.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <vmime/net/imap/IMAPCommand.hpp>
#include <vmime/net/imap/IMAPFolder.hpp>
#include <vmime/net/imap/IMAPFolderStatus.hpp>
#include <vmime/net/imap/IMAPParser.hpp>
#include <vmime/net/imap/IMAPStore.hpp>
#include <vmime/net/imap/IMAPUtils.hpp>
#include <vmime/security/cert/certificateException.hpp>
#include <vmime/vmime.hpp>

#include "coalescing_socket.hpp"
#include "imap_idle.hpp"
#include "tls_trust.hpp"
#include "vmime_platform.hpp"

namespace faxbridge::mail {
namespace {

namespace net = vmime::net;

// One line, without the final period, so our sentence can end it: "failed: X." not "X..".
std::string one_line(std::string s) {
  s = detail::one_line(std::move(s));
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  return s;
}

// Processed and failed messages in IMAP are copied, marked \Deleted and expunged:
// vmime 0.9.2 has no MOVE (RFC 6851) nor UID EXPUNGE (RFC 4315), so a message another
// client marked \Deleted in the same folder goes at that expunge too, as it would at the
// next one of any client.
constexpr int kImapDoneFlags = net::message::FLAG_SEEN | net::message::FLAG_DELETED;
// Without a processed folder: vmime 0.9.2 sets only the system flags, \Flagged is ours.
constexpr int kImapMarkFlags = net::message::FLAG_SEEN | net::message::FLAG_MARKED;

std::string server_of(const MailboxSettings& s) { return s.host + ":" + std::to_string(s.port); }

Error classify(const MailboxSettings& s, const char* step) {
  const std::string server = server_of(s);
  const std::string where = std::string(" (") + step + ")";
  try {
    throw;
  } catch (const vmime::exceptions::authentication_error& e) {
    return Error(Code::k_mail_mailbox_auth_failed,
                 "The mailbox server " + server + " refused the user name or password" +
                     (e.response().empty() ? std::string() : ": " + one_line(e.response())) +
                     ". Check the mailbox settings.")
        .with("reply", one_line(e.response()));
  } catch (const vmime::exceptions::authentication_exception& e) {
    return Error(Code::k_mail_mailbox_auth_failed, "Could not sign in to the mailbox server " + server + ": " +
                                                       one_line(e.what()) + ". Check the mailbox settings.");
  } catch (const vmime::security::cert::certificateException& e) {
    return Error(Code::k_mail_mailbox_tls_failed, "The mailbox server " + server + "'s certificate is not trusted: " +
                                                      one_line(e.what()) +
                                                      ". Fix the server's certificate or the mailbox TLS settings.");
  } catch (const vmime::exceptions::tls_exception& e) {
    return Error(Code::k_mail_mailbox_tls_failed,
                 "TLS with the mailbox server " + server + " failed: " + one_line(e.what()) + ".");
  } catch (const vmime::exceptions::command_error& e) {
    const std::string command = one_line(e.command());
    const std::string reply = one_line(e.response());
    // vmime's own refusal when STARTTLS is required but the server does not offer it.
    const bool tls = command.find("STARTTLS") != std::string::npos || command.find("STLS") != std::string::npos;
    return Error(tls ? Code::k_mail_mailbox_tls_failed : Code::k_mail_mailbox_failed,
                 "The mailbox server " + server + " answered \"" + reply + "\" to " +
                     (command.empty() ? std::string(step) : command.substr(0, command.find(' '))) + ".")
        .with("reply", reply);
  } catch (const vmime::exceptions::operation_timed_out&) {
    return Error(Code::k_mail_mailbox_unreachable, "The mailbox server " + server + " did not answer in time" + where + ".");
  } catch (const vmime::exceptions::connection_error& e) {
    return Error(Code::k_mail_mailbox_unreachable, "The mailbox server " + server + " could not be reached" + where +
                                                       ": " + one_line(e.what()) + ". Check the host and port.");
  } catch (const vmime::exceptions::connection_greeting_error& e) {
    return Error(Code::k_mail_mailbox_unreachable, "The mailbox server " + server + " did not greet as an " +
                                                       "IMAP or POP3 server" + where + ": " + one_line(e.response()) +
                                                       ". Check the port and protocol.");
  } catch (const vmime::exceptions::net_exception& e) {
    return Error(Code::k_mail_mailbox_unreachable,
                 "Talking to the mailbox server " + server + " failed" + where + ": " + one_line(e.what()) + ".");
  } catch (const vmime::exception& e) {
    return Error(Code::k_mail_mailbox_failed,
                 "Talking to the mailbox server " + server + " failed" + where + ": " + one_line(e.what()) + ".");
  } catch (const std::exception& e) {
    return Error(Code::k_mail_mailbox_failed,
                 "Talking to the mailbox server " + server + " failed" + where + ": " + one_line(e.what()) + ".");
  }
}

net::folder::path folder_path(const std::string& name) {
  // "Faxbridge/processed" is two levels; vmime writes them with the server's separator.
  return net::folder::path::fromString(name, "/", vmime::charsets::UTF_8);
}

// "<uidvalidity>.<uid>" -> uid, when the validity is the folder's.
bool parse_imap_id(const std::string& id, std::uint32_t validity, std::string& uid) {
  const auto dot = id.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == id.size()) return false;
  if (id.substr(0, dot) != std::to_string(validity)) return false;
  uid = id.substr(dot + 1);
  return uid.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

bool parse_mailbox_protocol(const std::string& text, MailboxProtocol& out) {
  if (text == "imap") out = MailboxProtocol::kImap;
  else if (text == "pop3") out = MailboxProtocol::kPop3;
  else return false;
  return true;
}

const char* mailbox_protocol_name(MailboxProtocol protocol) {
  return protocol == MailboxProtocol::kPop3 ? "pop3" : "imap";
}

Result<MailboxEndpoint> resolve_endpoint(const MailboxSettings& s) {
  MailboxEndpoint e;
  if (s.protocol) {
    e.protocol = *s.protocol;
  } else if (s.port == 110 || s.port == 995) {
    e.protocol = MailboxProtocol::kPop3;
  } else if (s.port == 143 || s.port == 993) {
    e.protocol = MailboxProtocol::kImap;
  } else {
    return Error(Code::k_mail_mailbox_protocol_unknown,
                 "Port " + std::to_string(s.port) +
                     " does not tell whether the mailbox speaks IMAP or POP3 (110 POP3, 995 POP3 over TLS, 143 IMAP, "
                     "993 IMAP over TLS): set the protocol.");
  }
  e.tls = s.tls ? *s.tls : (s.port == 993 || s.port == 995) ? TlsMode::kImplicit : TlsMode::kStartTls;
  return e;
}

struct MailboxSession::State {
  MailboxEndpoint endpoint;
  std::shared_ptr<net::session> session;
  std::shared_ptr<net::store> store;
  std::shared_ptr<net::folder> folder;
  std::uint32_t uid_validity = 0;                 // IMAP
  bool watching = false;                          // IMAP: watch() examined the folder for IDLE
  std::map<std::string, std::size_t> pop3_numbers;  // UIDL -> number, this session
  std::map<std::string, std::size_t> sizes;         // id -> size, from the last list()
};

MailboxSession::MailboxSession(MailboxSettings settings)
    : settings_(std::move(settings)), state_(std::make_unique<State>()) {}

MailboxSession::~MailboxSession() { (void)close(); }

bool MailboxSession::connected() const { return state_->store && state_->store->isConnected() && state_->folder; }

Result<void> MailboxSession::connect() {
  if (connected()) return {};
  detail::ensure_vmime_platform();
  if (settings_.host.empty() || settings_.port <= 0 || settings_.port > 65535)
    return Error(Code::k_mail_mailbox_unreachable, "No mailbox server is configured (host and port).");
  auto endpoint = resolve_endpoint(settings_);
  if (!endpoint) return endpoint.error();
  State& st = *state_;
  st = State{};
  st.endpoint = *endpoint;
  const bool imap = st.endpoint.protocol == MailboxProtocol::kImap;
  const bool implicit = st.endpoint.tls == TlsMode::kImplicit;
  const bool starttls = st.endpoint.tls == TlsMode::kStartTls;
  try {
    st.session = net::session::create();
    vmime::utility::url url(imap ? (implicit ? "imaps" : "imap") : (implicit ? "pop3s" : "pop3"), settings_.host,
                            settings_.port);
    auto store = st.session->getStore(url);
    store->setProperty("connection.tls", starttls);
    store->setProperty("connection.tls.required", starttls);
    store->setProperty("auth.username", settings_.username);
    store->setProperty("auth.password", settings_.password);
    if (!imap) store->setProperty("options.apop", false);  // APOP is MD5 of the password: never offered by us
    // USER/PASS (RFC 1939) and IMAP LOGIN (RFC 3501 6.2.3), not SASL: after a refused
    // AUTH vmime 0.9.2's POP3 SASL exchange waits for an answer Dovecot never sends, until
    // the deadline, and reports a wrong password as a time-out; its IMAP SASL tries every
    // mechanism and then LOGIN, one refusal each, which the server's failure delay
    // multiplies. One login, one answer. The password goes over TLS either way.
    store->setProperty("options.sasl", false);
    store->setCertificateVerifier(detail::make_certificate_verifier(
        {settings_.verify_certificate, settings_.ca_file, settings_.pinned_sha256}));
    store->setTimeoutHandlerFactory(detail::make_deadline_factory(settings_.timeout));
    // vmime writes a command in four pieces (tag, space, command, CRLF) with Nagle's
    // algorithm on, so each command waited for Dovecot's delayed ACK: 10-40 ms per
    // command, five commands per mail (bench/mail/README.md). One write per turn.
    store->setSocketFactory(
        vmime::make_shared<detail::CoalescingSocketFactory>(vmime::platform::getHandler()->getSocketFactory()));
    store->connect();
    st.store = store;
    auto folder = imap ? store->getFolder(folder_path(settings_.folder)) : store->getDefaultFolder();
    folder->open(net::folder::MODE_READ_WRITE);
    st.folder = folder;
    if (imap) {
      auto status = std::dynamic_pointer_cast<net::imap::IMAPFolderStatus>(folder->getStatus());
      st.uid_validity = status ? status->getUIDValidity() : 0;
    }
    return {};
  } catch (...) {
    Error e = classify(settings_, "connect");
    st.folder.reset();
    st.store.reset();
    return e.with("server", server_of(settings_)).with("protocol", mailbox_protocol_name(st.endpoint.protocol));
  }
}

Result<std::size_t> MailboxSession::count() {
  if (auto c = connect(); !c) return c.error();
  try {
    return state_->folder->getMessageCount();
  } catch (...) {
    Error e = classify(settings_, "count");
    (void)close();
    return e;
  }
}

Result<std::vector<MailboxEntry>> MailboxSession::list() {
  if (auto c = connect(); !c) return c.error();
  State& st = *state_;
  const bool imap = st.endpoint.protocol == MailboxProtocol::kImap;
  try {
    std::vector<MailboxEntry> out;
    st.pop3_numbers.clear();
    st.sizes.clear();
    const std::size_t n = st.folder->getMessageCount();
    if (n == 0) return out;
    auto messages = st.folder->getMessages(net::messageSet::byNumber(1, n));
    int attributes = net::fetchAttributes::UID | net::fetchAttributes::SIZE;
    if (imap) attributes |= net::fetchAttributes::FLAGS;
    st.folder->fetchMessages(messages, net::fetchAttributes(attributes));
    const bool skip_flagged = imap && settings_.processed_folder.empty();
    for (const auto& m : messages) {
      if (imap && (m->getFlags() & net::message::FLAG_DELETED)) continue;
      if (skip_flagged && (m->getFlags() & net::message::FLAG_MARKED)) continue;
      MailboxEntry entry;
      const std::string uid = std::string(m->getUID());
      entry.id = imap ? std::to_string(st.uid_validity) + "." + uid : uid;
      entry.size = m->getSize();
      if (!imap) st.pop3_numbers[entry.id] = m->getNumber();
      st.sizes[entry.id] = entry.size;
      out.push_back(std::move(entry));
    }
    return out;
  } catch (...) {
    Error e = classify(settings_, "list");
    (void)close();
    return e;
  }
}

namespace {
Error gone(const MailboxSettings& s, const std::string& id) {
  return Error(Code::k_mail_mailbox_message_gone,
               "The message " + id + " is no longer in the mailbox " + s.username + "@" + server_of(s) +
                   " (another reader took it, or the folder was recreated).")
      .with("message", id);
}
}  // namespace

Result<std::string> MailboxSession::fetch(const std::string& id, std::size_t max_bytes) {
  if (auto c = connect(); !c) return c.error();
  State& st = *state_;
  const bool imap = st.endpoint.protocol == MailboxProtocol::kImap;
  try {
    std::shared_ptr<net::message> message;
    if (imap) {
      std::string uid;
      if (!parse_imap_id(id, st.uid_validity, uid)) return gone(settings_, id);
      auto found = st.folder->getMessages(net::messageSet::byUID(uid));
      if (found.empty()) return gone(settings_, id);
      // The size list() read is the server's answer already: one round trip fewer a mail.
      if (!st.sizes.count(id))
        st.folder->fetchMessages(found, net::fetchAttributes(net::fetchAttributes::SIZE | net::fetchAttributes::UID));
      if (std::string(found[0]->getUID()) != uid) return gone(settings_, id);
      message = found[0];
    } else {
      if (st.pop3_numbers.empty()) {
        auto l = list();
        if (!l) return l.error();
      }
      auto it = st.pop3_numbers.find(id);
      if (it == st.pop3_numbers.end()) return gone(settings_, id);
      message = st.folder->getMessage(it->second);
      if (!st.sizes.count(id)) st.folder->fetchMessage(message, net::fetchAttributes(net::fetchAttributes::SIZE));
    }
    const std::size_t size = st.sizes.count(id) ? st.sizes[id] : message->getSize();
    if (size > max_bytes)
      return Error(Code::k_mail_message_too_large, "The message is " + std::to_string(size) +
                                                       " bytes, more than the " + std::to_string(max_bytes) +
                                                       " a mail to fax may have.")
          .with("message", id)
          .with("size", std::to_string(size));
    std::string bytes;
    vmime::utility::outputStreamStringAdapter out(bytes);
    message->extract(out, nullptr, 0, static_cast<std::size_t>(-1), /*peek=*/true);
    out.flush();
    // vmime's POP3 RETR drops the CRLF of the last line with the ".\r\n" terminator
    // (RFC 1939 3: every line of the message ends in CRLF); put it back so both protocols
    // give the bytes as stored.
    if (!imap && !bytes.empty() && (bytes.size() < 2 || bytes.compare(bytes.size() - 2, 2, "\r\n") != 0)) bytes += "\r\n";
    return bytes;
  } catch (...) {
    Error e = classify(settings_, "fetch");
    (void)close();
    return e.with("message", id);
  }
}

Result<void> MailboxSession::mark_processed(const std::string& id) {
  return move({id}, settings_.processed_folder, settings_.processed_folder.empty());
}

Result<void> MailboxSession::move_to_failed(const std::string& id) { return move({id}, settings_.failed_folder, false); }

Result<void> MailboxSession::mark_processed(const std::vector<std::string>& ids) {
  return move(ids, settings_.processed_folder, settings_.processed_folder.empty());
}

Result<void> MailboxSession::move_to_failed(const std::vector<std::string>& ids) {
  return move(ids, settings_.failed_folder, false);
}

// Several ids go as one message set: IMAP one COPY, one STORE and one EXPUNGE for all
// (Dovecot syncs its files and index at each, milliseconds apiece: bench/mail/README.md).
// An id no longer here is reported (the first one) after the others were moved.
Result<void> MailboxSession::move(const std::vector<std::string>& ids, const std::string& folder, bool flag_only) {
  if (ids.empty()) return {};
  if (auto c = connect(); !c) return c.error();
  State& st = *state_;
  std::optional<Error> missing;
  std::string named;  // the ids, for an error's context
  for (const auto& id : ids) named += (named.empty() ? "" : ",") + id;
  try {
    if (st.endpoint.protocol == MailboxProtocol::kPop3) {
      if (st.pop3_numbers.empty()) {
        auto l = list();
        if (!l) return l.error();
      }
      std::vector<std::size_t> numbers;
      for (const auto& id : ids) {
        auto it = st.pop3_numbers.find(id);
        if (it != st.pop3_numbers.end()) numbers.push_back(it->second);
        else if (!missing) missing = gone(settings_, id);
      }
      if (!numbers.empty()) st.folder->deleteMessages(net::messageSet::byNumber(numbers));
      if (missing) return *missing;
      return {};
    }
    std::vector<net::message::uid> uids;
    for (const auto& id : ids) {
      std::string uid;
      if (parse_imap_id(id, st.uid_validity, uid)) uids.push_back(uid);
      else if (!missing) missing = gone(settings_, id);
    }
    if (uids.empty()) return *missing;
    const auto set = net::messageSet::byUID(uids);
    if (flag_only) {
      st.folder->setMessageFlags(set, kImapMarkFlags, net::message::FLAG_MODE_ADD);
      if (missing) return *missing;
      return {};
    }
    if (folder.empty())
      return Error(Code::k_mail_mailbox_failed, "No failed folder is set for the mailbox: set mail.failed_folder.");
    auto target = st.store->getFolder(folder_path(folder));
    if (!target->exists()) {
      net::folderAttributes attributes;
      attributes.setType(net::folderAttributes::TYPE_CONTAINS_MESSAGES);
      target->create(attributes);
    }
    st.folder->copyMessages(target->getFullPath(), set);
    st.folder->setMessageFlags(set, kImapDoneFlags, net::message::FLAG_MODE_ADD);
    st.folder->expunge();
    if (missing) return *missing;
    return {};
  } catch (...) {
    Error e = classify(settings_, "move");
    (void)close();
    return e.with("message", named).with("folder", folder);
  }
}

namespace {
// The store's connection when it can IDLE, else null.
std::shared_ptr<net::imap::IMAPConnection> idle_connection(const std::shared_ptr<net::store>& store) {
  auto imap_store = std::dynamic_pointer_cast<net::imap::IMAPStore>(store);
  auto connection = imap_store ? imap_store->getConnection() : nullptr;
  return connection && connection->hasCapability("IDLE") ? connection : nullptr;
}
}  // namespace

Result<bool> MailboxSession::watch() {
  if (auto c = connect(); !c) return c.error();
  State& st = *state_;
  if (st.endpoint.protocol != MailboxProtocol::kImap) return false;
  if (st.watching) return true;
  try {
    auto connection = idle_connection(st.store);
    if (!connection) return false;
    // vmime talks to an open folder over a connection of its own and keeps that one to
    // itself; the store's connection is signed in with no folder selected. IDLE goes
    // there, on the folder opened read-only (EXAMINE): nothing there can change a flag.
    namespace imap = net::imap;
    imap::IMAPCommand::SELECT(/*readOnly=*/true,
                              imap::IMAPUtils::quoteString(imap::IMAPUtils::pathToString(
                                  connection->hierarchySeparator(), folder_path(settings_.folder))),
                              {})
        ->send(connection);
    std::unique_ptr<imap::IMAPParser::response> answer(connection->readResponse());
    if (answer->isBad() ||
        answer->response_done()->response_tagged()->resp_cond_state()->status() != imap::IMAPParser::resp_cond_state::OK)
      throw vmime::exceptions::command_error("EXAMINE", answer->getErrorLog());
    st.watching = true;
    return true;
  } catch (...) {
    Error e = classify(settings_, "watch");
    (void)close();
    return e;
  }
}

Result<IdleResult> MailboxSession::idle(std::chrono::milliseconds max_wait, const std::function<bool()>& stop) {
  auto watching = watch();
  if (!watching) return watching.error();
  if (!*watching) return IdleResult::kUnsupported;
  State& st = *state_;
  try {
    auto connection = idle_connection(st.store);
    constexpr std::chrono::minutes kLongestIdle{25};
    const auto until = std::chrono::steady_clock::now() + max_wait;
    for (;;) {
      const auto this_idle_until = std::min(until, std::chrono::steady_clock::now() + kLongestIdle);
      const detail::IdleEnd end = detail::imap_idle(*connection, this_idle_until, stop);
      // What happened meanwhile reaches the folder's own connection at its next command;
      // a NOOP brings it now, so a list() after the IDLE sees the new mail.
      if (auto folder = std::dynamic_pointer_cast<net::imap::IMAPFolder>(st.folder)) folder->noop();
      switch (end) {
        case detail::IdleEnd::kChanged: return IdleResult::kNewMail;
        case detail::IdleEnd::kStopped: return IdleResult::kStopped;
        case detail::IdleEnd::kRefused: return IdleResult::kUnsupported;
        case detail::IdleEnd::kTimedOut:
          if (this_idle_until >= until) return IdleResult::kTimedOut;
          break;
      }
    }
  } catch (...) {
    Error e = classify(settings_, "idle");
    (void)close();
    return e;
  }
}

Result<void> MailboxSession::close() {
  State& st = *state_;
  if (!st.store) return {};
  Result<void> result;
  try {
    // POP3: closing the folder with expunge sends QUIT, where the server deletes.
    if (st.folder && st.folder->isOpen()) st.folder->close(/*expunge=*/st.endpoint.protocol == MailboxProtocol::kPop3);
    if (st.store->isConnected()) st.store->disconnect();
  } catch (...) {
    result = classify(settings_, "close");
  }
  st.folder.reset();
  st.store.reset();
  st.pop3_numbers.clear();
  return result;
}

}  // namespace faxbridge::mail
