#pragma once
// Internal: the tags every page of a fax TIFF we write carries (one strip, 1 bit per pixel,
// min-is-white, top-left); the caller adds the compression and its options.
#include <tiffio.h>

#include <cstdint>

namespace faxbridge::fax {

inline void set_fax_page_tags(TIFF* t, std::uint32_t width, std::uint32_t length, std::uint16_t fill_order,
                              std::uint16_t resolution_unit, float x_resolution, float y_resolution) {
  TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, length);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
  TIFFSetField(t, TIFFTAG_FILLORDER, fill_order);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, length);
  TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, resolution_unit);
  TIFFSetField(t, TIFFTAG_XRESOLUTION, x_resolution);
  TIFFSetField(t, TIFFTAG_YRESOLUTION, y_resolution);
}

}  // namespace faxbridge::fax
