#pragma once
// The fax recipients of a mail: every To and Cc mailbox (groups opened) whose domain is
// one of the fax domains; the local part is the number, normalised by libs/core. Other
// addresses (a colleague in Cc) are no business of ours. The same number twice is one
// fax.
#include <string>
#include <vector>
#include <vmime/vmime.hpp>

#include "faxbridge/core/result.hpp"
#include "faxbridge/ingest/fax_request.hpp"

namespace faxbridge::ingest::detail {

// Errors: ingest.too_many_recipients, ingest.no_valid_number.
Result<std::vector<FaxRecipient>> fax_recipients(const vmime::header& h, const IngestSettings& settings);

// A mailbox's display name as UTF-8.
std::string display_name(const vmime::mailbox& m);

}  // namespace faxbridge::ingest::detail
