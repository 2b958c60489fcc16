// Fax -> PDF with qpdf: each page's G4 data goes into an image XObject with
// /Filter /CCITTFaxDecode as it is (bytes only bit-reversed when the TIFF stores them
// LSB first), so the PDF costs no re-encoding and loses nothing. The PDF page has the
// fax page's physical size: width / 204 dpi by height / (196 or 98) dpi.
#include "faxbridge/document/export.hpp"

#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <qpdf/Buffer.hh>

#include <cstdio>
#include <exception>

#include "faxbridge/document/tiff.hpp"
#include "raster.hpp"
#include "tiff_io.hpp"

namespace faxbridge::document {
namespace {

struct G4Page {
  std::string data;  // MSB-first G4
  int width = 0;
  int height = 0;
  double x_dpi = 204;
  double y_dpi = 196;
};

std::string raw_strip_msb(TIFF* t) {
  const tmsize_t size = TIFFRawStripSize(t, 0);
  if (size <= 0) return {};
  std::string data(static_cast<std::size_t>(size), '\0');
  const tmsize_t got = TIFFReadRawStrip(t, 0, data.data(), size);
  if (got <= 0) return {};
  data.resize(static_cast<std::size_t>(got));
  uint16_t fo = FILLORDER_MSB2LSB;
  TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fo);
  if (fo == FILLORDER_LSB2MSB) TIFFReverseBits(reinterpret_cast<uint8_t*>(data.data()), got);
  return data;
}

Result<std::vector<G4Page>> g4_pages(std::string_view tiff_bytes) {
  detail::MemFile file;
  file.data.assign(tiff_bytes.begin(), tiff_bytes.end());
  auto tif = detail::open_tiff(file, "r");
  if (!tif) return Error(Code::k_document_corrupt, "The fax TIFF could not be read.");
  std::vector<G4Page> pages;
  TIFF* t = tif.get();
  do {
    G4Page p;
    uint32_t w = 0, h = 0;
    uint16_t compression = 0, unit = RESUNIT_INCH, photometric = PHOTOMETRIC_MINISWHITE;
    float xr = 204, yr = 196;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
    if (!TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) || xr <= 0) xr = 204;
    if (!TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr) || yr <= 0) yr = 196;
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    if (unit == RESUNIT_CENTIMETER) {
      xr *= 2.54f;
      yr *= 2.54f;
    }
    p.width = static_cast<int>(w);
    p.height = static_cast<int>(h);
    p.x_dpi = xr;
    p.y_dpi = yr;
    if (compression == COMPRESSION_CCITTFAX4 && TIFFNumberOfStrips(t) == 1 &&
        photometric == PHOTOMETRIC_MINISWHITE) {
      p.data = raw_strip_msb(t);
    }
    if (p.data.empty()) {
      // G3, several strips or MinIsBlack: decode this page once and encode it as G4.
      FaxDocument one;
      one.resolution = yr < 150 ? Resolution::kStandard : Resolution::kFine;
      Bitmap b = Bitmap::blank(p.width, p.height);
      for (uint32_t y = 0; y < h; ++y)
        if (TIFFReadScanline(t, b.bits.data() + static_cast<std::size_t>(y) * b.stride, y, 0) < 0)
          return Error(Code::k_document_corrupt, "A page of the fax TIFF is damaged.");
      if (photometric == PHOTOMETRIC_MINISBLACK)
        for (auto& byte : b.bits) byte = static_cast<std::uint8_t>(~byte);
      one.pages.push_back(std::move(b));
      auto tiff = write_fax_tiff(one);
      if (!tiff) return tiff.error();
      detail::MemFile f2;
      f2.data.assign(tiff->begin(), tiff->end());
      auto t2 = detail::open_tiff(f2, "r");
      if (!t2) return Error(Code::k_internal, "Re-encoding a fax page failed.");
      p.data = raw_strip_msb(t2.get());
    }
    if (p.data.empty()) return Error(Code::k_document_corrupt, "A page of the fax TIFF has no data.");
    pages.push_back(std::move(p));
  } while (TIFFReadDirectory(t));
  return pages;
}

}  // namespace

Result<std::string> fax_to_pdf(std::string_view tiff_bytes) {
  auto pages = g4_pages(tiff_bytes);
  if (!pages) return pages.error();
  try {
    QPDF pdf;
    pdf.emptyPDF();
    QPDFPageDocumentHelper helper(pdf);
    for (const auto& p : *pages) {
      const double w_pt = p.width / p.x_dpi * 72.0;
      const double h_pt = p.height / p.y_dpi * 72.0;
      QPDFObjectHandle image = QPDFObjectHandle::newStream(&pdf);
      QPDFObjectHandle dict = image.getDict();
      dict.replaceKey("/Type", QPDFObjectHandle::newName("/XObject"));
      dict.replaceKey("/Subtype", QPDFObjectHandle::newName("/Image"));
      dict.replaceKey("/Width", QPDFObjectHandle::newInteger(p.width));
      dict.replaceKey("/Height", QPDFObjectHandle::newInteger(p.height));
      dict.replaceKey("/ColorSpace", QPDFObjectHandle::newName("/DeviceGray"));
      dict.replaceKey("/BitsPerComponent", QPDFObjectHandle::newInteger(1));
      // K -1: pure two-dimensional (T.6); BlackIs1 false: 0 bits are black, the
      // DeviceGray meaning of 0, so no /Decode array is needed.
      QPDFObjectHandle parms = QPDFObjectHandle::parse("<< /K -1 /Columns " + std::to_string(p.width) + " /Rows " +
                                                       std::to_string(p.height) + " /BlackIs1 false >>");
      image.replaceStreamData(p.data, QPDFObjectHandle::newName("/CCITTFaxDecode"), parms);
      char content[160];
      std::snprintf(content, sizeof content, "q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q\n", w_pt, h_pt);
      QPDFObjectHandle contents = QPDFObjectHandle::newStream(&pdf, content);
      QPDFObjectHandle page = QPDFObjectHandle::parse("<< /Type /Page /Resources << /XObject << >> >> >>");
      page.getKey("/Resources").getKey("/XObject").replaceKey("/Im0", image);
      page.replaceKey("/MediaBox", QPDFObjectHandle::newArray(QPDFObjectHandle::Rectangle(0, 0, w_pt, h_pt)));
      page.replaceKey("/Contents", contents);
      helper.addPage(QPDFPageObjectHelper(pdf.makeIndirectObject(page)), false);
    }
    QPDFWriter writer(pdf);
    writer.setOutputMemory();
    writer.setStaticID(true);  // same fax, same bytes (tests, deduplication)
    writer.setDecodeLevel(qpdf_dl_none);
    writer.write();
    auto buffer = writer.getBufferSharedPointer();
    return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
  } catch (const std::exception& e) {
    return Error(Code::k_internal, "The PDF could not be written.").with("reason", e.what());
  }
}

Result<std::string> fax_page_png(std::string_view tiff_bytes, int index, int max_width) {
  // Only the page shown is decoded: a preview of page 1 of 300 costs one page.
  auto doc = read_fax_tiff_page(tiff_bytes, index);
  if (!doc) return doc.error();
  detail::quiet_leptonica();
  const Bitmap& b = doc->pages.front();
  detail::PixPtr pix1 = detail::bitmap_to_pix(b);
  detail::PixPtr grey(pixConvertTo8(pix1.get(), 0));
  const double sx = std::min(1.0, static_cast<double>(max_width) / b.width);
  const double sy = sx * kFaxDpiX / dpi_y(doc->resolution);
  detail::PixPtr scaled(pixScale(grey.get(), static_cast<float>(sx), static_cast<float>(sy)));
  if (!scaled) return Error(Code::k_internal, "The preview could not be scaled.");
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixWriteMemPng(&data, &size, scaled.get(), 0.0f) != 0) return Error(Code::k_internal, "The preview PNG could not be written.");
  std::string png(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return png;
}

Result<std::string> page_png(const Bitmap& b, Resolution resolution, int max_width) {
  if (b.width <= 0 || b.height <= 0 || max_width <= 0) return Error(Code::k_internal, "The page to preview is empty.");
  detail::quiet_leptonica();
  detail::PixPtr pix1 = detail::bitmap_to_pix(b);
  detail::PixPtr grey(pixConvertTo8(pix1.get(), 0));
  const double sx = std::min(1.0, static_cast<double>(max_width) / b.width);
  const double sy = sx * kFaxDpiX / dpi_y(resolution);
  detail::PixPtr scaled(pixScale(grey.get(), static_cast<float>(sx), static_cast<float>(sy)));
  if (!scaled) return Error(Code::k_internal, "The preview could not be scaled.");
  l_uint8* data = nullptr;
  size_t size = 0;
  if (pixWriteMemPng(&data, &size, scaled.get(), 0.0f) != 0) return Error(Code::k_internal, "The preview PNG could not be written.");
  std::string png(reinterpret_cast<const char*>(data), size);
  lept_free(data);
  return png;
}

}  // namespace faxbridge::document
