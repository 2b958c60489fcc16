#pragma once
// The document-converter's settings table: every FAXBRIDGE_CONVERTER_* variable with
// its default and bounds (docs/configuration.md), read into the pipeline's settings,
// so the service's main only wires parts together.
#include <chrono>

#include "faxbridge/core/config.hpp"
#include "faxbridge/document/pipeline.hpp"

namespace faxbridge::document {

struct ConverterSettings {
  int workers = 2;                                   // jobs converted at once
  std::chrono::milliseconds sweep_interval{5000};    // the claim-and-sweep period
  PipelineSettings pipeline;                         // limits, LibreOffice
};

// Bad values are collected by the reader (ConfigReader::finish() lists them all).
ConverterSettings read_converter_settings(config::ConfigReader& reader);

}  // namespace faxbridge::document
