// TIFF Class F in memory over libtiff (TIFFClientOpen on a byte buffer): writing G4
// pages, reading fax TIFFs (G3/G4, either FillOrder) back into bitmaps, and the tags
// of each page for tests and fax -> PDF.
#include "faxbridge/document/tiff.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "g4.hpp"
#include "tiff_io.hpp"

namespace faxbridge::document {
namespace detail {
namespace {

tmsize_t mem_read(thandle_t h, void* buf, tmsize_t size) {
  auto* m = static_cast<MemFile*>(h);
  const auto avail = m->pos < m->data.size() ? m->data.size() - m->pos : 0;
  const auto n = std::min<std::size_t>(avail, static_cast<std::size_t>(size));
  std::memcpy(buf, m->data.data() + m->pos, n);
  m->pos += n;
  return static_cast<tmsize_t>(n);
}
tmsize_t mem_write(thandle_t h, void* buf, tmsize_t size) {
  auto* m = static_cast<MemFile*>(h);
  if (m->read_only) return 0;
  const auto n = static_cast<std::size_t>(size);
  if (m->pos + n > m->data.size()) m->data.resize(m->pos + n);
  std::memcpy(m->data.data() + m->pos, buf, n);
  m->pos += n;
  return size;
}
toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  auto* m = static_cast<MemFile*>(h);
  std::int64_t base = 0;
  if (whence == SEEK_CUR) base = static_cast<std::int64_t>(m->pos);
  if (whence == SEEK_END) base = static_cast<std::int64_t>(m->data.size());
  const std::int64_t p = base + static_cast<std::int64_t>(off);
  if (p < 0) return static_cast<toff_t>(-1);
  m->pos = static_cast<std::size_t>(p);
  if (!m->read_only && m->pos > m->data.size()) m->data.resize(m->pos);
  return static_cast<toff_t>(m->pos);
}
int mem_close(thandle_t) { return 0; }
toff_t mem_size(thandle_t h) { return static_cast<toff_t>(static_cast<MemFile*>(h)->data.size()); }
int mem_map(thandle_t, void**, toff_t*) { return 0; }
void mem_unmap(thandle_t, void*, toff_t) {}

void silent(const char*, const char*, va_list) {}

}  // namespace

void quiet_libtiff() {
  TIFFSetErrorHandler(silent);
  TIFFSetWarningHandler(silent);
}

TiffPtr open_tiff(MemFile& file, const char* mode) {
  quiet_libtiff();
  return TiffPtr(TIFFClientOpen("memory", mode, &file, mem_read, mem_write, mem_seek, mem_close, mem_size,
                                mem_map, mem_unmap));
}

void TiffCloser::operator()(TIFF* t) const { TIFFClose(t); }

}  // namespace detail

using detail::MemFile;
using detail::open_tiff;

void FaxTiffWriter::add(const Bitmap& page) {
  // Encoded by g4.cpp (see there why not by libtiff), bits reversed for FillOrder 2.
  EncodedPage p{page.width, page.height, detail::encode_g4(page)};
  TIFFReverseBits(p.g4.data(), static_cast<tmsize_t>(p.g4.size()));
  pages_.push_back(std::move(p));
}

Result<std::string> FaxTiffWriter::finish() const {
  MemFile file;
  file.read_only = false;
  auto tif = open_tiff(file, "w");
  if (!tif) return Error(Code::k_internal, "Could not create a TIFF in memory.");
  const int count = pages();
  for (int i = 0; i < count; ++i) {
    const EncodedPage& p = pages_[static_cast<std::size_t>(i)];
    TIFF* t = tif.get();
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<uint32_t>(p.width));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<uint32_t>(p.height));
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
    TIFFSetField(t, TIFFTAG_T6OPTIONS, 0);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, static_cast<float>(kFaxDpiX));
    TIFFSetField(t, TIFFTAG_YRESOLUTION, static_cast<float>(dpi_y(resolution_)));
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<uint32_t>(p.height));
    TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(i), static_cast<uint16_t>(count));
    TIFFSetField(t, TIFFTAG_CLEANFAXDATA, CLEANFAXDATA_CLEAN);
    TIFFSetField(t, TIFFTAG_SOFTWARE, "Faxbridge");
    // One strip per page: the whole page is one G4 stream, which fax -> PDF copies.
    std::vector<std::uint8_t> strip(p.g4);  // libtiff may scribble on what it is given
    if (TIFFWriteRawStrip(t, 0, strip.data(), static_cast<tmsize_t>(strip.size())) < 0)
      return Error(Code::k_internal, "Could not write a fax page.");
    if (!TIFFWriteDirectory(t)) return Error(Code::k_internal, "Could not write a fax page.");
  }
  tif.reset();
  return std::string(file.data.begin(), file.data.end());
}

Result<std::string> write_fax_tiff(const FaxDocument& doc) {
  FaxTiffWriter writer(doc.resolution);
  for (const auto& page : doc.pages) writer.add(page);
  return writer.finish();
}

namespace {

// The page of the current directory; its resolution goes into `resolution`.
Result<Bitmap> read_page(TIFF* t, Resolution& resolution) {
  uint32_t w = 0, h = 0;
  uint16_t bps = 1, spp = 1, photometric = PHOTOMETRIC_MINISWHITE;
  float yres = 196;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
  if (!TIFFGetField(t, TIFFTAG_YRESOLUTION, &yres)) yres = 196;
  if (bps != 1 || spp != 1 || w == 0 || h == 0 || w > 8192 || h > 65535)
    return Error(Code::k_document_corrupt, "The TIFF is not a black-and-white fax.");
  resolution = yres < 150 ? Resolution::kStandard : Resolution::kFine;
  Bitmap b = Bitmap::blank(static_cast<int>(w), static_cast<int>(h));
  for (uint32_t y = 0; y < h; ++y) {
    if (TIFFReadScanline(t, b.bits.data() + static_cast<std::size_t>(y) * b.stride, y, 0) < 0)
      return Error(Code::k_document_corrupt, "A page of the fax TIFF is damaged.");
  }
  if (photometric == PHOTOMETRIC_MINISBLACK)
    for (auto& byte : b.bits) byte = static_cast<std::uint8_t>(~byte);
  return b;
}

}  // namespace

Result<FaxDocument> read_fax_tiff(std::string_view bytes) {
  MemFile file;
  file.data.assign(bytes.begin(), bytes.end());
  auto tif = open_tiff(file, "r");
  if (!tif) return Error(Code::k_document_corrupt, "The fax TIFF could not be read.");
  FaxDocument doc;
  TIFF* t = tif.get();
  do {
    auto page = read_page(t, doc.resolution);
    if (!page) return page.error();
    doc.pages.push_back(std::move(*page));
  } while (TIFFReadDirectory(t));
  return doc;
}

Result<FaxDocument> read_fax_tiff_page(std::string_view bytes, int index) {
  MemFile file;
  file.data.assign(bytes.begin(), bytes.end());
  auto tif = open_tiff(file, "r");
  if (!tif) return Error(Code::k_document_corrupt, "The fax TIFF could not be read.");
  if (index < 0 || TIFFSetDirectory(tif.get(), static_cast<tdir_t>(index)) != 1)
    return Error(Code::k_io_not_found, "The fax has no page " + std::to_string(index + 1) + ".");
  FaxDocument doc;
  auto page = read_page(tif.get(), doc.resolution);
  if (!page) return page.error();
  doc.pages.push_back(std::move(*page));
  return doc;
}

Result<std::vector<TiffPageInfo>> inspect_tiff(std::string_view bytes) {
  MemFile file;
  file.data.assign(bytes.begin(), bytes.end());
  auto tif = open_tiff(file, "r");
  if (!tif) return Error(Code::k_document_corrupt, "The TIFF could not be read.");
  std::vector<TiffPageInfo> pages;
  TIFF* t = tif.get();
  do {
    TiffPageInfo p;
    uint32_t w = 0, h = 0;
    uint16_t c = 0, fo = FILLORDER_MSB2LSB, ph = 0, ru = RESUNIT_INCH;
    float xr = 0, yr = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(t, TIFFTAG_COMPRESSION, &c);
    TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fo);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &ph);
    TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr);
    TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &ru);
    p.width = static_cast<int>(w);
    p.height = static_cast<int>(h);
    p.compression = c;
    p.fill_order = fo;
    p.photometric = ph;
    p.x_dpi = xr;
    p.y_dpi = yr;
    p.resolution_unit = ru;
    for (tstrip_t s = 0; s < TIFFNumberOfStrips(t); ++s) p.strip_bytes += TIFFRawStripSize(t, s);
    pages.push_back(p);
  } while (TIFFReadDirectory(t));
  return pages;
}

}  // namespace faxbridge::document
