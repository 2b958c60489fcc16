// Cover page tags in a subject (subject_tags.hpp).
#include "subject_tags.hpp"

#include <cctype>

#include "vmime_text.hpp"

namespace faxbridge::ingest::detail {

SubjectTags parse_subject_tags(const std::string& subject) {
  SubjectTags out;
  std::string rest;
  std::size_t i = 0;
  while (i < subject.size()) {
    const std::size_t open = subject.find('[', i);
    if (open == std::string::npos) {
      rest += subject.substr(i);
      break;
    }
    rest += subject.substr(i, open - i);
    const std::size_t close = subject.find(']', open);
    const std::string inside = close == std::string::npos ? "" : subject.substr(open + 1, close - open - 1);
    const std::string key = lower(inside.substr(0, 6));
    bool tag = false;
    if (key == "cover:") {
      const std::string name = trim(inside.substr(6));
      bool ok = !name.empty() && name.size() <= 64;
      for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') ok = false;
      if (ok) {
        tag = true;
        if (lower(name) == "none") {
          out.cover = CoverChoice::kNone;
          out.cover_name.clear();
        } else {
          out.cover = CoverChoice::kNamed;
          out.cover_name = name;
        }
      }
    }
    if (tag) {
      i = close + 1;
    } else {
      rest += '[';
      i = open + 1;
    }
  }
  // The tag's place leaves two spaces or one at an end.
  std::string collapsed;
  for (char c : rest) {
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed.push_back(c);
  }
  out.subject = trim(collapsed);
  return out;
}

}  // namespace faxbridge::ingest::detail
