#pragma once
// The administrator alert of a mailbox mail-ingest cannot read (poller.cpp calls it when
// the session cannot connect, start TLS, sign in or open the folder). See mailbox_alert.cpp.
#include "faxbridge/core/error.hpp"
#include "faxbridge/core/result.hpp"
#include "faxbridge/db/pool.hpp"
#include "faxbridge/mailingest/mailbox_config.hpp"

namespace faxbridge::mailingest {

// The alert's sentence: which mailbox (protocol, user, host, port, folder; never the
// password), the session's error and what to check for that error's code.
std::string unreadable_mailbox_message(const MailIngestConfig& config, const Error& error);

// Writes one admin_alert row for `error` unless one of the same cause (its code) was
// written within config.alert_interval, or no administrator address is set. True when
// a row was written.
Result<bool> alert_unreadable_mailbox(db::Pool& pool, const MailIngestConfig& config, const Error& error);

}  // namespace faxbridge::mailingest
