#pragma once
// "[cover:urgent] Invoice 12" -> the cover page "urgent", subject "Invoice 12";
// "[cover:none]" -> no cover page. Tags are case-insensitive; a name is 1-64 letters,
// digits, '-' or '_' (cover page names as the catalog stores them). A bracket that is no
// tag stays in the subject.
#include <string>

#include "faxbridge/ingest/fax_request.hpp"

namespace faxbridge::ingest::detail {

struct SubjectTags {
  std::string subject;
  CoverChoice cover = CoverChoice::kSenderDefault;
  std::string cover_name;
};

SubjectTags parse_subject_tags(const std::string& subject);

}  // namespace faxbridge::ingest::detail
