#pragma once
// G.711 companding of whole frames by table. spandsp's per-sample functions (branches and a
// bit scan per sample) were most of what a G.711 channel cost beyond spandsp's modems; the
// tables are filled from those same functions once, so the bytes are identical.
#include <cstdint>
#include <span>

namespace faxbridge::fax {

enum class G711Law { kAlaw, kUlaw };

// `out` must be at least as long as `in`.
void g711_encode(G711Law law, std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void g711_decode(G711Law law, std::span<const std::uint8_t> in, std::span<std::int16_t> out);

}  // namespace faxbridge::fax
