#pragma once
// Internal: libtiff over an in-memory buffer.
#include <tiffio.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace faxbridge::document::detail {

struct MemFile {
  std::vector<std::uint8_t> data;
  std::size_t pos = 0;
  bool read_only = true;
};

struct TiffCloser {
  void operator()(TIFF* t) const;
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// mode "r" or "w"; the MemFile must outlive the handle.
TiffPtr open_tiff(MemFile& file, const char* mode);
void quiet_libtiff();

}  // namespace faxbridge::document::detail
