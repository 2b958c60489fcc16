#include "page_buffers.hpp"

#include <mutex>

namespace faxbridge::fax::page_buffers {

namespace {

// Enough for the pages that end while the finishing thread is busy with others; beyond it
// memory goes back to the system.
constexpr std::size_t kKept = 64;

std::mutex mu;
std::vector<std::vector<std::uint8_t>>& stock() {
  static std::vector<std::vector<std::uint8_t>> s;
  return s;
}

}  // namespace

std::vector<std::uint8_t> take() {
  std::lock_guard lk(mu);
  auto& s = stock();
  if (s.empty()) return {};
  std::vector<std::uint8_t> b = std::move(s.back());
  s.pop_back();
  return b;
}

void give(std::vector<std::uint8_t>&& buffer) {
  buffer.clear();
  std::lock_guard lk(mu);
  if (stock().size() < kKept) stock().push_back(std::move(buffer));
}

}  // namespace faxbridge::fax::page_buffers
