# The libFuzzer targets' shared wiring (tests/libs/*/fuzz): the instrumentation flags and
# one ctest test per target that fuzzes for FAXBRIDGE_FUZZ_SECONDS, so every target runs
# the same way in CI (scripts/test's build-fuzz tree) and by hand.
set(FAXBRIDGE_FUZZ_SECONDS 5 CACHE STRING "Seconds each fuzz target runs under ctest")
set(faxbridge_fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1)

# faxbridge_add_fuzz_test(<lib> <name> SOURCES ... DEPS ... [SEEDS dir...] [ARGS ...])
# Makes the executable <lib>_<name> and the test <lib>.<name> (label fuzz). libFuzzer
# writes new inputs into the first corpus directory, kept in the build tree so it grows
# from run to run; SEEDS are read only. <name>.dict beside the source is its dictionary.
# A crash, a sanitizer report, a leak or an input slower than -timeout fails the test,
# and the input is kept as crash-*/timeout-* beside the corpus.
function(faxbridge_add_fuzz_test lib name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;SEEDS;ARGS" ${ARGN})
  set(target ${lib}_${name})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name})
  file(MAKE_DIRECTORY ${work}/corpus)
  set(args -max_total_time=${FAXBRIDGE_FUZZ_SECONDS} -rss_limit_mb=1024
           -artifact_prefix=${work}/ -print_final_stats=1 ${ARG_ARGS})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${name}.dict)
    list(APPEND args -dict=${CMAKE_CURRENT_SOURCE_DIR}/${name}.dict)
  endif()
  add_test(NAME ${lib}.${name} COMMAND ${target} ${args} ${work}/corpus ${ARG_SEEDS}
           WORKING_DIRECTORY ${work})
  set_tests_properties(${lib}.${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()
