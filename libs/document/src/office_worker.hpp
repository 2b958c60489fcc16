#pragma once
// Internal: the UNO worker that drives a kept-running LibreOffice
// (libs/document/office/uno_worker.py, embedded at build time).
#include <string_view>

namespace faxbridge::document::detail {

std::string_view office_worker_script();

}  // namespace faxbridge::document::detail
