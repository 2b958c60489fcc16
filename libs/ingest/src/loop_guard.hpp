#pragma once
// Mail loops: a fax server that answers an auto-reply gets an auto-reply back, for ever.
// A message is "automatic" (never faxed, never answered) when
//   Auto-Submitted is anything but "no"                      RFC 3834 section 5
//   X-Autoreply, X-Autorespond are present                   common auto-responders
//   Precedence is bulk, list or junk                         RFC 2076, RFC 3834 3.1.8
//   List-Id is present                                       RFC 2919: a list's copy
//   Return-Path is <>                                        a bounce (RFC 5321 4.5.5)
//   the top Content-Type is multipart/report                 a DSN or MDN (RFC 6522)
//   From is one of our own addresses                         our notifications
//   the subject starts as an out-of-office reply does        clients that set no header
// The reason is a short phrase for logs; empty: a person wrote it.
#include <string>
#include <vector>
#include <vmime/vmime.hpp>

namespace faxbridge::ingest::detail {

std::string automatic_reason(const vmime::header& h, const std::string& from_email, const std::string& subject,
                             const std::vector<std::string>& own_addresses);

}  // namespace faxbridge::ingest::detail
