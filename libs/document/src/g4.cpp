// DESIGN: our own T.6 (Group 4) encoder, written because libtiff's was measured to be
// the bottleneck: on long text documents (bench/convert corpus b) libtiff's Fax4
// encoder took ~4.4 ms of a ~11 ms page, and the target (1.5x Ghostscript, ~5 ms per
// page on the bench machine) was out of reach with rendering (~3 ms) plus libtiff
// alone. libtiff looks for each colour change a byte at a time through lookup
// tables, three times per coding step; here each row's changes are found once, from
// 64-bit words (one test per 64 blank pixels, a count-leading-zeros per change), and
// serve again as the next row's reference. The coding decisions (pass, vertical,
// horizontal) are libtiff's Fax3Encode2DRow step for step, so the output is the same
// bytes (tests/libs/document/g4_test.cpp compares them and decodes with libtiff).
// libtiff still writes and reads every TIFF; only the strip's bits are made here.
#include "g4.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

namespace faxbridge::document::detail {
namespace {

struct Code {
  std::uint32_t bits = 0;
  int length = 0;
};

constexpr Code code_of(std::string_view s) {
  Code c;
  for (char ch : s) c.bits = (c.bits << 1) | (ch == '1' ? 1u : 0u);
  c.length = static_cast<int>(s.size());
  return c;
}

// T.4 tables 2 and 3: terminating codes for runs 0..63, make-up codes for 64..1728
// (index run/64), and the make-up codes both colours share for 1792..2560.
constexpr std::string_view kWhiteTerminating[64] = {
    "00110101", "000111",   "0111",     "1000",     "1011",     "1100",     "1110",     "1111",
    "10011",    "10100",    "00111",    "01000",    "001000",   "000011",   "110100",   "110101",
    "101010",   "101011",   "0100111",  "0001100",  "0001000",  "0010111",  "0000011",  "0000100",
    "0101000",  "0101011",  "0010011",  "0100100",  "0011000",  "00000010", "00000011", "00011010",
    "00011011", "00010010", "00010011", "00010100", "00010101", "00010110", "00010111", "00101000",
    "00101001", "00101010", "00101011", "00101100", "00101101", "00000100", "00000101", "00001010",
    "00001011", "01010010", "01010011", "01010100", "01010101", "00100100", "00100101", "01011000",
    "01011001", "01011010", "01011011", "01001010", "01001011", "00110010", "00110011", "00110100"};
constexpr std::string_view kWhiteMakeup[28] = {
    "",          "11011",     "10010",     "010111",    "0110111",   "00110110",  "00110111",
    "01100100",  "01100101",  "01101000",  "01100111",  "011001100", "011001101", "011010010",
    "011010011", "011010100", "011010101", "011010110", "011010111", "011011000", "011011001",
    "011011010", "011011011", "010011000", "010011001", "010011010", "011000",    "010011011"};
constexpr std::string_view kBlackTerminating[64] = {
    "0000110111",   "010",          "11",           "10",           "011",          "0011",
    "0010",         "00011",        "000101",       "000100",       "0000100",      "0000101",
    "0000111",      "00000100",     "00000111",     "000011000",    "0000010111",   "0000011000",
    "0000001000",   "00001100111",  "00001101000",  "00001101100",  "00000110111",  "00000101000",
    "00000010111",  "00000011000",  "000011001010", "000011001011", "000011001100", "000011001101",
    "000001101000", "000001101001", "000001101010", "000001101011", "000011010010", "000011010011",
    "000011010100", "000011010101", "000011010110", "000011010111", "000001101100", "000001101101",
    "000011011010", "000011011011", "000001010100", "000001010101", "000001010110", "000001010111",
    "000001100100", "000001100101", "000001010010", "000001010011", "000000100100", "000000110111",
    "000000111000", "000000100111", "000000101000", "000001011000", "000001011001", "000000101011",
    "000000101100", "000001011010", "000001100110", "000001100111"};
constexpr std::string_view kBlackMakeup[28] = {
    "",              "0000001111",    "000011001000",  "000011001001",  "000001011011",  "000000110011",
    "000000110100",  "000000110101",  "0000001101100", "0000001101101", "0000001001010", "0000001001011",
    "0000001001100", "0000001001101", "0000001110010", "0000001110011", "0000001110100", "0000001110101",
    "0000001110110", "0000001110111", "0000001010010", "0000001010011", "0000001010100", "0000001010101",
    "0000001011010", "0000001011011", "0000001100100", "0000001100101"};
constexpr std::string_view kSharedMakeup[13] = {  // 1792 .. 2560
    "00000001000",  "00000001100",  "00000001101",  "000000010010", "000000010011", "000000010100", "000000010101",
    "000000010110", "000000010111", "000000011100", "000000011101", "000000011110", "000000011111"};

struct RunCodes {
  std::array<Code, 64> terminating;
  std::array<Code, 41> makeup;  // index run / 64, 1 .. 40
};

template <std::size_t N>
constexpr RunCodes run_codes(const std::string_view (&terminating)[64], const std::string_view (&makeup)[N]) {
  RunCodes c{};
  for (int i = 0; i < 64; ++i) c.terminating[static_cast<std::size_t>(i)] = code_of(terminating[i]);
  for (std::size_t i = 1; i < N; ++i) c.makeup[i] = code_of(makeup[i]);
  for (std::size_t i = 0; i < 13; ++i) c.makeup[28 + i] = code_of(kSharedMakeup[i]);
  return c;
}
constexpr RunCodes kWhite = run_codes(kWhiteTerminating, kWhiteMakeup);
constexpr RunCodes kBlack = run_codes(kBlackTerminating, kBlackMakeup);

// T.4 table 4 (two-dimensional codes).
constexpr Code kPass = code_of("0001");
constexpr Code kHorizontal = code_of("001");
// Indexed by b1 - a1 + 3: a1 three to the right of b1 (VR3) .. three to the left (VL3).
constexpr Code kVertical[7] = {code_of("0000011"), code_of("000011"), code_of("011"), code_of("1"),
                               code_of("010"),     code_of("000010"), code_of("0000010")};
constexpr Code kEol = code_of("000000000001");

// Codes into a byte buffer through a 64-bit accumulator. Before each row the caller
// makes room for the most that row can write (reserve()), so put() never checks.
class BitWriter {
 public:
  void reserve(std::size_t bytes) {
    if (out_.size() < used_ + bytes) out_.resize(std::max(out_.size() * 2, used_ + bytes));
  }
  [[gnu::always_inline]] void put(Code c) {
    acc_ = (acc_ << c.length) | c.bits;
    pending_ += c.length;
    if (pending_ >= 32) {  // codes are at most 13 bits: the accumulator never overflows
      pending_ -= 32;
      const auto word = static_cast<std::uint32_t>(acc_ >> pending_);
      std::uint8_t* p = out_.data() + used_;
      p[0] = static_cast<std::uint8_t>(word >> 24);
      p[1] = static_cast<std::uint8_t>(word >> 16);
      p[2] = static_cast<std::uint8_t>(word >> 8);
      p[3] = static_cast<std::uint8_t>(word);
      used_ += 4;
    }
  }
  [[gnu::always_inline]] void run(const RunCodes& codes, int length) {
    while (length >= 2560 + 64) {  // longer than one make-up code holds
      put(codes.makeup[40]);
      length -= 2560;
    }
    if (length >= 64) {
      put(codes.makeup[static_cast<std::size_t>(length / 64)]);
      length %= 64;
    }
    put(codes.terminating[static_cast<std::size_t>(length)]);
  }
  std::vector<std::uint8_t> finish() {
    reserve(8);
    for (; pending_ >= 8; pending_ -= 8) out_[used_++] = static_cast<std::uint8_t>(acc_ >> (pending_ - 8));
    if (pending_ > 0) out_[used_++] = static_cast<std::uint8_t>(acc_ << (8 - pending_));
    pending_ = 0;
    out_.resize(used_);
    return std::move(out_);
  }

 private:
  std::vector<std::uint8_t> out_;
  std::size_t used_ = 0;
  std::uint64_t acc_ = 0;  // only the low `pending_` bits are still to be written
  int pending_ = 0;
};

// A row as 64-bit words, leftmost pixel in the top bit, padding bits white.
void load_row(const std::uint8_t* bytes, int stride, int width, std::vector<std::uint64_t>& words) {
  std::fill(words.begin(), words.end(), 0);
  int i = 0;
  for (; i + 8 <= stride; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, bytes + i, sizeof v);
    words[static_cast<std::size_t>(i / 8)] = __builtin_bswap64(v);  // rows are big-endian bit strings
  }
  for (; i < stride; ++i)
    words[static_cast<std::size_t>(i / 8)] |= static_cast<std::uint64_t>(bytes[i]) << (56 - 8 * (i % 8));
  if (width % 64) words[static_cast<std::size_t>(width / 64)] &= ~0ull << (64 - width % 64);
}

// The row's changing elements (T.6 section 2.2.2): each position whose pixel differs
// from the one before it (an imaginary white pixel before the first), in order; even
// entries turn black, odd ones white. Three `width` entries follow, so the coder can
// look one past any change it finds.
// `changes` has room for width + 4 entries (a row has at most width + 1 changes);
// returns how many it holds, the three `width` entries included.
std::size_t find_changes(const std::vector<std::uint64_t>& words, int width, std::vector<int>& changes) {
  int* out = changes.data();
  std::uint64_t previous = 0;  // the last pixel of the word before, as the top bit
  for (std::size_t k = 0; k < words.size(); ++k) {
    const std::uint64_t w = words[k];
    std::uint64_t t = w ^ ((w >> 1) | previous);
    previous = w << 63;
    while (t) {
      const int bit = __builtin_clzll(t);
      *out++ = static_cast<int>(k) * 64 + bit;
      t ^= std::uint64_t{1} << (63 - bit);
    }
  }
  // The padding is white: the only change past the row is to white at `width`,
  // which the entries below stand for.
  if (out != changes.data() && out[-1] >= width) --out;
  out[0] = out[1] = out[2] = width;
  return static_cast<std::size_t>(out + 3 - changes.data());
}

// One row against the reference row (T.6 section 2.2; the decisions of libtiff's
// Fax3Encode2DRow, on lists of changes instead of pixels).
void encode_row(BitWriter& out, const int* row, const int* ref, int width) {
  int a0 = -1;     // before the first pixel at the start of the row
  int color = 0;   // of the pixels from a0 on: 0 white, 1 black
  std::size_t ia = 0, ib = 0;
  for (;;) {
    while (row[ia] <= a0) ++ia;
    const int a1 = row[ia];
    // b1: the first change on the reference line right of a0 to the colour opposite
    // a0's (even entries turn black). The search may go back one entry: the one it
    // skipped last time for its colour can be the answer now.
    if (ib > 0) --ib;
    if (static_cast<int>(ib & 1) != color) ++ib;
    while (ref[ib] <= a0) ib += 2;  // only entries of b1's colour
    const int b1 = ref[ib], b2 = ref[ib + 1];
    if (b2 < a1) {
      out.put(kPass);
      a0 = b2;
    } else if (const int d = b1 - a1; d >= -3 && d <= 3) {
      out.put(kVertical[d + 3]);
      a0 = a1;
      color ^= 1;
    } else {
      const int a2 = row[ia + 1];
      const int start = std::max(a0, 0);
      out.put(kHorizontal);
      out.run(color ? kBlack : kWhite, a1 - start);
      out.run(color ? kWhite : kBlack, a2 - a1);
      a0 = a2;
    }
    if (a0 >= width) break;
  }
}

}  // namespace

std::vector<std::uint8_t> encode_g4(const Bitmap& page) {
  BitWriter bits;
  bits.reserve(16384);
  const auto words = static_cast<std::size_t>((page.width + 63) / 64 + 1);
  std::vector<std::uint64_t> row(words, 0);
  std::vector<int> changes(static_cast<std::size_t>(page.width) + 4), ref(changes.size());
  std::size_t ref_count = 3;
  ref[0] = ref[1] = ref[2] = page.width;  // the line above the first is white
  // Each coding step but the last consumes a change of one row or the other and
  // writes at most a horizontal mode: 3 bits and two runs, each of 13-bit codes (a
  // terminating one, a make-up one and one more per 2560 pixels).
  const std::size_t step_bytes = static_cast<std::size_t>(3 + 2 * 13 * (2 + page.width / 2560)) / 8 + 1;
  for (int y = 0; y < page.height; ++y) {
    load_row(page.bits.data() + static_cast<std::size_t>(y) * page.stride, page.stride, page.width, row);
    const std::size_t count = find_changes(row, page.width, changes);
    bits.reserve(step_bytes * (count + ref_count + 1));
    encode_row(bits, changes.data(), ref.data(), page.width);
    std::swap(changes, ref);
    ref_count = count;
  }
  bits.put(kEol);  // EOFB (T.6 section 2.4)
  bits.put(kEol);
  return bits.finish();
}

}  // namespace faxbridge::document::detail
