// DESIGN: libtiff does the T.4/T.6 coding (it is what spandsp itself used inside the tick);
// here it runs on the runtime's finishing thread, page by page as pages arrive, so a long
// document is never held whole in memory. The tags are those spandsp 0.0.6 writes for a
// received page (Class F, min-is-white, LSB-first fill order, resolution in inches), with our
// name as the software.
#include "faxbridge/fax/document_writer.hpp"

#include <tiffio.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>

#include "tiff_tags.hpp"

namespace faxbridge::fax {

namespace {

TIFF* as_tiff(void* t) { return static_cast<TIFF*>(t); }

float dots_per_inch(int pixels_per_metre) {
  return std::floor(static_cast<float>(pixels_per_metre) / 100.0f * 2.54f + 0.5f);
}

std::string tiff_date_time() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y:%m:%d %H:%M:%S", &tm);
  return buf;
}

Error write_error(const std::string& path, const char* what) {
  return Error(Code::k_fax_file_error, std::string("The received fax could not be stored: ") + what + ".")
      .with("path", path);
}

}  // namespace

FaxDocumentWriter::FaxDocumentWriter(std::string path, StoreCompression compression)
    : path_(std::move(path)), part_(path_ + ".part"), compression_(compression) {}

FaxDocumentWriter::~FaxDocumentWriter() { discard(); }

void FaxDocumentWriter::discard() {
  if (!tiff_) return;
  TIFFClose(as_tiff(tiff_));
  tiff_ = nullptr;
  std::error_code ec;
  std::filesystem::remove(part_, ec);
}

Result<void> FaxDocumentWriter::fail(Error e) {
  discard();
  failed_ = e;
  return e;
}

Result<void> FaxDocumentWriter::add(const ReceivedPage& page) {
  if (failed_) return *failed_;
  const std::size_t row_bytes = static_cast<std::size_t>((page.width + 7) / 8);
  if (page.width <= 0 || page.length <= 0 || page.bits.size() != row_bytes * static_cast<std::size_t>(page.length)) {
    return fail(Error(Code::k_fax_file_error, "A received page has no pixels or the wrong size.")
                    .with("width", std::to_string(page.width))
                    .with("rows", std::to_string(page.length)));
  }
  if (!tiff_) {
    TIFFSetWarningHandler(nullptr);
    TIFFSetErrorHandler(nullptr);
    tiff_ = TIFFOpen(part_.c_str(), "w");
    if (!tiff_) return fail(write_error(part_, "the file cannot be created"));
  }
  TIFF* t = as_tiff(tiff_);
  set_fax_page_tags(t, static_cast<std::uint32_t>(page.width), static_cast<std::uint32_t>(page.length),
                    FILLORDER_LSB2MSB, RESUNIT_INCH, dots_per_inch(page.x_resolution),
                    dots_per_inch(page.y_resolution));
  switch (compression_) {
    case StoreCompression::kT6:
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
      TIFFSetField(t, TIFFTAG_T6OPTIONS, 0);
      break;
    case StoreCompression::kT4OneD:
    case StoreCompression::kT4TwoD:
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
      TIFFSetField(t, TIFFTAG_T4OPTIONS,
                   GROUP3OPT_FILLBITS | (compression_ == StoreCompression::kT4TwoD ? GROUP3OPT_2DENCODING : 0));
      TIFFSetField(t, TIFFTAG_CLEANFAXDATA, page.bad_rows > 0 ? CLEANFAXDATA_REGENERATED : CLEANFAXDATA_CLEAN);
      if (page.bad_rows > 0) TIFFSetField(t, TIFFTAG_BADFAXLINES, static_cast<std::uint32_t>(page.bad_rows));
      break;
  }
  TIFFSetField(t, TIFFTAG_FAXMODE, FAXMODE_CLASSF);
  TIFFSetField(t, TIFFTAG_SOFTWARE, "Faxbridge");
  if (!page.far_ident.empty()) TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, page.far_ident.c_str());
  TIFFSetField(t, TIFFTAG_DATETIME, tiff_date_time().c_str());
  // The total is not known until the call ends; finish() fills it in.
  TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(pages_), static_cast<std::uint16_t>(0));
  if (TIFFWriteEncodedStrip(t, 0, const_cast<std::uint8_t*>(page.bits.data()),
                            static_cast<tmsize_t>(page.bits.size())) < 0 ||
      !TIFFWriteDirectory(t)) {
    return fail(write_error(part_, "a page could not be written"));
  }
  ++pages_;
  return ok();
}

Result<void> FaxDocumentWriter::finish() {
  if (failed_) return *failed_;
  if (!tiff_) return ok();
  TIFF* t = as_tiff(tiff_);
  for (int i = 0; i < pages_; ++i) {
    if (!TIFFSetDirectory(t, static_cast<tdir_t>(i))) return fail(write_error(part_, "a page could not be read back"));
    TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(pages_));
    if (!TIFFRewriteDirectory(t)) return fail(write_error(part_, "the page numbers could not be written"));
  }
  TIFFClose(t);
  tiff_ = nullptr;
  std::error_code ec;
  std::filesystem::rename(part_, path_, ec);
  if (ec) {
    std::filesystem::remove(part_, ec);
    failed_ = write_error(path_, "the file could not be moved into place");
    return *failed_;
  }
  return ok();
}

}  // namespace faxbridge::fax
