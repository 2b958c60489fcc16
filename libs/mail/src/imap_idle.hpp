#pragma once
// IMAP IDLE (RFC 2177) on vmime's open IMAP connection: vmime 0.9.2 has no IDLE, so this
// speaks it on the connection's socket, between two of vmime's own commands, the way
// smtp.cpp does its own mail transaction. While idling the connection belongs to this
// code alone: the command uses a tag of its own, and the exchange reads up to and
// including its tagged completion, so vmime's parser finds nothing of it afterwards.
#include <chrono>
#include <functional>

#include <vmime/net/imap/IMAPConnection.hpp>

namespace faxbridge::mail::detail {

enum class IdleEnd { kChanged, kTimedOut, kStopped, kRefused };

// Idles until the server announces a new message ("* n EXISTS"), `until` passes, or
// stop() is true (checked at least every 50 ms); then ends the IDLE (DONE) and reads its
// completion. kRefused when the server answers the IDLE with NO or BAD. vmime exceptions
// (connection lost, no answer within the socket's deadline after DONE) pass through.
IdleEnd imap_idle(vmime::net::imap::IMAPConnection& connection, std::chrono::steady_clock::time_point until,
                  const std::function<bool()>& stop);

}  // namespace faxbridge::mail::detail
