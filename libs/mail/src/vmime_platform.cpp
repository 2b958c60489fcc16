#include "vmime_platform.hpp"

#include <mutex>
#include <vmime/platforms/posix/posixHandler.hpp>
#include <vmime/vmime.hpp>

namespace faxbridge::mail::detail {

void ensure_vmime_platform() {
  static std::once_flag once;
  std::call_once(once, [] { vmime::platform::setHandler<vmime::platforms::posix::posixHandler>(); });
}

}  // namespace faxbridge::mail::detail
