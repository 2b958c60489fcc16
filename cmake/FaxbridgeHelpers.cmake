# Warnings live in an INTERFACE target linked PRIVATE, so they never leak to users.
add_library(faxbridge_warnings INTERFACE)
target_compile_options(faxbridge_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)

# faxbridge_add_library(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Makes faxbridge_<name> with the alias faxbridge::<name> and include/ as its public headers.
function(faxbridge_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(faxbridge_${name} ${ARG_SOURCES})
  add_library(faxbridge::${name} ALIAS faxbridge_${name})
  target_include_directories(faxbridge_${name} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
  target_link_libraries(faxbridge_${name}
    PUBLIC ${ARG_PUBLIC_DEPS}
    PRIVATE ${ARG_PRIVATE_DEPS} faxbridge_warnings)
endfunction()

# faxbridge_add_test(<lib> <name> [LABEL unit|integration|e2e] [SOURCES ...] [DEPS ...])
# One gtest executable per test file, modelled on fmt's add_fmt_test.
function(faxbridge_add_test lib name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(target ${lib}_${name})
  add_executable(${target} ${name}.cpp ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main
    faxbridge_warnings)
  gtest_discover_tests(${target}
    TEST_PREFIX "${lib}."
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
