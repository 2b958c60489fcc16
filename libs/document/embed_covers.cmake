# Writes OUTPUT: the shipped cover page templates (covers/*.svg) as raw strings, for
# `faxbridge convert --cover NAME` without a database and for tests.
file(GLOB files "${SOURCE_DIR}/*.svg")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(base ${f} NAME_WE)
  file(READ ${f} svg)
  string(APPEND body "    {\"${base}\", R\"faxbridge_svg(${svg})faxbridge_svg\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from libs/document/covers by embed_covers.cmake. Do not edit.
#include \"faxbridge/document/compose.hpp\"

namespace faxbridge::document {
const std::map<std::string, std::string>& builtin_covers() {
  static const std::map<std::string, std::string> covers = {
${body}  };
  return covers;
}
}  // namespace faxbridge::document
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
