// Raster images (BMP, PNG, JPEG, GIF, WebP, TIFF incl. multipage and colour) through
// Leptonica. The header is read first so an image whose decoded size would be absurd
// (a 60000x60000 PNG is 3.6 Gpx) is refused before a byte is decoded.
#include "faxbridge/document/convert.hpp"
#include "raster.hpp"

namespace faxbridge::document {

Result<FaxDocument> convert_image(std::string_view bytes, const ConvertOptions& options) {
  detail::quiet_leptonica();
  const auto* data = reinterpret_cast<const l_uint8*>(bytes.data());
  l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, iscmap = 0;
  if (pixReadHeaderMem(data, bytes.size(), &format, &w, &h, &bps, &spp, &iscmap) != 0 || w <= 0 || h <= 0)
    return Error(Code::k_document_corrupt, "The image is damaged and cannot be read; please send it again.");
  const auto pixels = static_cast<std::int64_t>(w) * h;
  if (pixels > options.limits.max_image_pixels)
    return Error(Code::k_document_too_large, "The image is " + std::to_string(w) + "x" + std::to_string(h) +
                                                 " pixels, too large to fax; please send a smaller image.")
        .with("pixels", std::to_string(pixels));
  FaxDocument out;
  out.resolution = options.resolution;
  const bool tiff = format == IFF_TIFF || format == IFF_TIFF_G3 || format == IFF_TIFF_G4 ||
                    format == IFF_TIFF_PACKBITS || format == IFF_TIFF_RLE || format == IFF_TIFF_LZW ||
                    format == IFF_TIFF_ZIP || format == IFF_TIFF_JPEG;
  if (tiff) {
    for (int n = 0;; ++n) {
      detail::PixPtr pix(pixReadMemTiff(data, bytes.size(), n));
      if (!pix) {
        if (n == 0) return Error(Code::k_document_corrupt, "The TIFF is damaged and cannot be read.");
        break;
      }
      if (n >= options.limits.max_pages)
        return Error(Code::k_document_too_large, "The TIFF has more than " + std::to_string(options.limits.max_pages) +
                                                     " pages; that many cannot be faxed at once.");
      if (static_cast<std::int64_t>(pixGetWidth(pix.get())) * pixGetHeight(pix.get()) > options.limits.max_image_pixels)
        return Error(Code::k_document_too_large, "A page of the TIFF is too large to fax.");
      auto page = detail::image_to_page(pix.get(), options.resolution);
      if (!page) return page.error();
      out.pages.push_back(std::move(*page));
    }
    return out;
  }
  detail::PixPtr pix(pixReadMem(data, bytes.size()));
  if (!pix) return Error(Code::k_document_corrupt, "The image is damaged and cannot be read; please send it again.");
  auto page = detail::image_to_page(pix.get(), options.resolution);
  if (!page) return page.error();
  out.pages.push_back(std::move(*page));
  return out;
}

}  // namespace faxbridge::document
