# Writes OUTPUT: a C++ file holding every migrations/NNNN_name.sql as a raw string, so
# binaries carry their schema and need no source tree at run time.
file(GLOB files "${SOURCE_DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(base ${f} NAME_WE)
  string(REGEX MATCH "^([0-9]+)_(.+)$" _ ${base})
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "migration ${f} is not named NNNN_name.sql")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${f} sql)
  string(APPEND body "    {${version}, \"${CMAKE_MATCH_2}\", R\"faxbridge_sql(${sql})faxbridge_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from libs/db/migrations by embed_migrations.cmake. Do not edit.
#include \"faxbridge/db/migrate.hpp\"

namespace faxbridge::db {
const std::vector<Migration>& builtin_migrations() {
  static const std::vector<Migration> migrations = {
${body}  };
  return migrations;
}
}  // namespace faxbridge::db
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
