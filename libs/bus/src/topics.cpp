#include "faxbridge/bus/topics.hpp"

namespace faxbridge::bus::topics {

std::string cancel_topic(std::string_view gateway_instance) {
  std::string t(kJobCancelPrefix);
  t += gateway_instance;
  return t;
}

std::string work_topic(std::string_view table) {
  std::string t(kWorkPrefix);
  t += table;
  return t;
}

}  // namespace faxbridge::bus::topics
