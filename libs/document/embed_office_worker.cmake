# Writes OUTPUT: office/uno_worker.py as a raw string, so the converter runs it with
# `python3 -c` and nothing has to be installed beside the binaries.
file(READ ${SOURCE} script)
file(WRITE ${OUTPUT}.tmp "// Generated from libs/document/office/uno_worker.py by embed_office_worker.cmake. Do not edit.
#include \"office_worker.hpp\"

namespace faxbridge::document::detail {
std::string_view office_worker_script() {
  return R\"faxbridge_py(${script})faxbridge_py\";
}
}  // namespace faxbridge::document::detail
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
