# Helpers that give every component the same shape (see shared CONVENTIONS.md).

# tessera_library(NAME SRCS ... DEPS ... [PUBLIC_DEPS ...])
# Builds static library tessera_<NAME> (alias tessera::<NAME>) whose public headers live in
# <NAME>/include and whose private sources live in <NAME>/src.
function(tessera_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PUBLIC_DEPS" ${ARGN})
  if(NOT ARG_SRCS)
    message(FATAL_ERROR "tessera_library(${name}): no sources")
  endif()
  add_library(tessera_${name} STATIC ${ARG_SRCS})
  add_library(tessera::${name} ALIAS tessera_${name})
  target_include_directories(tessera_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(tessera_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_DEPS})
endfunction()

# tessera_test(NAME SRCS ... DEPS ... [LABELS ...])
# A GoogleTest binary registered with CTest test by test.
function(tessera_test name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_SRCS)
    message(STATUS "tessera_test(${name}): no test sources yet, skipped")
    return()
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests passes PROPERTIES through a command line that drops list escapes, so
  # only the first label arrives ("integration;root" gives LABELS=integration plus a property
  # "root"). Set the whole label list after the discovered tests are included.
  list(LENGTH ARG_LABELS n_labels)
  if(n_labels GREATER 1)
    set(labels_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
    file(WRITE ${labels_file} "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} "
                              "PROPERTIES LABELS \"${ARG_LABELS}\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labels_file})
  endif()
endfunction()

# tessera_fuzz(NAME SRCS ... DEPS ...): a libFuzzer target (clang only).
function(tessera_fuzz name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
