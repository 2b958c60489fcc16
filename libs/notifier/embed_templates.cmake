# Writes OUTPUT: a C++ file holding every templates/<language>/<name>.<part>.tpl as a raw
# string, so the notifier carries its built-in mail templates and needs no source tree.
file(GLOB files "${SOURCE_DIR}/*/*.tpl")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(dir ${f} DIRECTORY)
  get_filename_component(language ${dir} NAME)
  get_filename_component(file ${f} NAME)
  string(REGEX MATCH "^([a-z_]+)\\.(subject|text|html)\\.tpl$" _ ${file})
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "template ${f} is not named <name>.<subject|text|html>.tpl")
  endif()
  file(READ ${f} source)
  string(APPEND body "    {\"${CMAKE_MATCH_1}\", \"${language}\", \"${CMAKE_MATCH_2}\", R\"faxbridge_tpl(${source})faxbridge_tpl\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from libs/notifier/templates by embed_templates.cmake. Do not edit.
#include \"builtin_templates.hpp\"

namespace faxbridge::notifier {
const std::vector<BuiltinTemplatePart>& builtin_template_parts() {
  static const std::vector<BuiltinTemplatePart> parts = {
${body}  };
  return parts;
}
}  // namespace faxbridge::notifier
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
