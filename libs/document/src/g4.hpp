#pragma once
// Internal: CCITT Group 4 (ITU-T T.6) encoding of one fax page.
#include <cstdint>
#include <vector>

#include "faxbridge/document/page.hpp"

namespace faxbridge::document::detail {

// The page as one T.6 stream ending in EOFB, bits in MSB-first order (FillOrder 1).
// The same coding decisions as libtiff's Fax4 encoder, so the bytes are the same.
std::vector<std::uint8_t> encode_g4(const Bitmap& page);

}  // namespace faxbridge::document::detail
