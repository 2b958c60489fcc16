#pragma once
// Internal: a process-wide stock of page bitmaps for received pages. A fine A4 page is
// ~0.5 MB: a fresh buffer costs a mmap and ~120 page faults inside the tick where the page
// ends, and its munmap later contends with the media workers for the process's memory map.
// Stored pages hand their buffers back for the next page. Thread-safe.
#include <cstdint>
#include <vector>

namespace faxbridge::fax::page_buffers {

// An empty buffer, with the capacity of a returned one when there is one.
std::vector<std::uint8_t> take();
// Keeps the buffer for reuse (up to a fixed number; the rest are freed).
void give(std::vector<std::uint8_t>&& buffer);

}  // namespace faxbridge::fax::page_buffers
