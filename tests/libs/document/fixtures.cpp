#include "fixtures.hpp"

#include <leptonica/allheaders.h>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFWriter.hh>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>

namespace fixtures {
namespace {

std::string pix_to_mem(PIX* pix, int format) {
  l_uint8* data = nullptr;
  size_t size = 0;
  pixWriteMem(&data, &size, pix, format);
  std::string out(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return out;
}

void put16(std::string& s, unsigned v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, unsigned long v) {
  put16(s, v & 0xffff);
  put16(s, (v >> 16) & 0xffff);
}
void put32be(std::string& s, unsigned long v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string make_blank_pdf(int count) {
  std::vector<PdfPage> pages(static_cast<std::size_t>(count));
  return make_pdf(pages);
}

std::string encrypt_pdf(const std::string& pdf, const std::string& user_password, const std::string& owner_password) {
  QPDF q;
  q.processMemoryFile("in.pdf", pdf.data(), pdf.size());
  QPDFWriter w(q);
  w.setOutputMemory();
  w.setR6EncryptionParameters(user_password.c_str(), owner_password.c_str(), true, false, false, false, false, false,
                              qpdf_r3p_full, true);
  w.write();
  auto b = w.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(b->getBuffer()), b->getSize());
}

std::string make_png(int w, int h, int dpi, const std::vector<PixMark>& marks, int paper) {
  PIX* pix = pixCreate(w, h, 8);
  pixSetAllArbitrary(pix, static_cast<l_uint32>(paper));
  for (const auto& m : marks) {
    BOX* box = boxCreate(m.x, m.y, m.w, m.h);
    pixSetInRectArbitrary(pix, box, static_cast<l_uint32>(m.value));
    boxDestroy(&box);
  }
  pixSetResolution(pix, dpi, dpi);
  std::string out = pix_to_mem(pix, IFF_PNG);
  pixDestroy(&pix);
  return out;
}

std::string make_photo_jpeg(int w, int h, int dpi) {
  PIX* pix = pixCreate(w, h, 8);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // A smooth "portrait": a radial shade over a horizontal gradient.
      const double dx = (x - w / 2.0) / w, dy = (y - h / 2.0) / h;
      const double v = 40 + 170.0 * x / w * (1 - 0.6 * std::min(1.0, 4 * (dx * dx + dy * dy)));
      pixSetPixel(pix, x, y, static_cast<l_uint32>(std::clamp(v, 0.0, 255.0)));
    }
  pixSetResolution(pix, dpi, dpi);
  std::string out = pix_to_mem(pix, IFF_JFIF_JPEG);
  pixDestroy(&pix);
  return out;
}

std::string make_png_header(unsigned width, unsigned height) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr = "IHDR";
  put32be(ihdr, width);
  put32be(ihdr, height);
  ihdr += '\x08';  // bit depth
  ihdr += '\x00';  // grey
  ihdr += std::string(3, '\0');
  put32be(png, 13);
  png += ihdr;
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size())));
  // An IDAT that is far too short for the image, then IEND.
  std::string idat = "IDAT";
  idat += std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  put32be(png, 8);
  png += idat;
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>(idat.data()), static_cast<uInt>(idat.size())));
  put32be(png, 0);
  png += "IEND";
  put32be(png, crc32(0, reinterpret_cast<const Bytef*>("IEND"), 4));
  return png;
}

std::string make_fax_tiff_header(std::uint32_t width, std::uint32_t height) {
  // Little-endian TIFF, one IFD of 9 entries (sorted by tag), then 16 bytes of "G3".
  auto put16 = [](std::string& s, std::uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); };
  auto put32 = [](std::string& s, std::uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); };
  constexpr std::uint16_t kShort = 3, kLong = 4;
  constexpr std::uint16_t kEntries = 9;
  const std::uint32_t data_offset = 8 + 2 + kEntries * 12 + 4;
  std::string t = "II";
  put16(t, 42);
  put32(t, 8);
  put16(t, kEntries);
  auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
    put16(t, tag);
    put16(t, type);
    put32(t, 1);
    if (type == kShort) {
      put16(t, static_cast<std::uint16_t>(value));
      put16(t, 0);
    } else {
      put32(t, value);
    }
  };
  entry(256, kLong, width);        // ImageWidth
  entry(257, kLong, height);       // ImageLength
  entry(258, kShort, 1);           // BitsPerSample
  entry(259, kShort, 3);           // Compression: CCITT T.4 (G3)
  entry(262, kShort, 0);           // PhotometricInterpretation: MinIsWhite
  entry(273, kLong, data_offset);  // StripOffsets
  entry(277, kShort, 1);           // SamplesPerPixel
  entry(278, kLong, height);       // RowsPerStrip: one strip
  entry(279, kLong, 16);           // StripByteCounts
  put32(t, 0);                     // no next IFD
  t += std::string(16, '\0');
  return t;
}

std::string make_zip_bomb(int inflated_mb) {
  // Deflate the zeros in 1 MB steps (raw deflate, as zip stores it).
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0');
  std::string packed;
  unsigned long crc = crc32(0, nullptr, 0);
  std::array<unsigned char, 65536> buf;
  for (int i = 0; i < inflated_mb; ++i) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(zeros.size()));
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(zeros.size());
    const int flush = i + 1 == inflated_mb ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = buf.data();
      z.avail_out = buf.size();
      deflate(&z, flush);
      packed.append(reinterpret_cast<char*>(buf.data()), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  const std::string name = "word/document.xml";
  const unsigned long size = static_cast<unsigned long>(inflated_mb) << 20;
  std::string zip;
  put32(zip, 0x04034b50);
  put16(zip, 20); put16(zip, 0); put16(zip, 8); put16(zip, 0); put16(zip, 0);
  put32(zip, crc); put32(zip, packed.size()); put32(zip, size);
  put16(zip, name.size()); put16(zip, 0);
  zip += name;
  zip += packed;
  const auto cd_offset = zip.size();
  put32(zip, 0x02014b50);
  put16(zip, 20); put16(zip, 20); put16(zip, 0); put16(zip, 8); put16(zip, 0); put16(zip, 0);
  put32(zip, crc); put32(zip, packed.size()); put32(zip, size);
  put16(zip, name.size()); put16(zip, 0); put16(zip, 0); put16(zip, 0); put16(zip, 0);
  put32(zip, 0); put32(zip, 0);
  zip += name;
  const auto cd_size = zip.size() - cd_offset;
  put32(zip, 0x06054b50);
  put16(zip, 0); put16(zip, 0); put16(zip, 1); put16(zip, 1);
  put32(zip, cd_size); put32(zip, cd_offset); put16(zip, 0);
  return zip;
}

}  // namespace fixtures
