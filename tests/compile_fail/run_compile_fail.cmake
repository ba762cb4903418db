# cmake -DCOMPILER=<c++> -DSOURCE=<case.cpp> -DINCLUDES=<dir|dir|...> -P run_compile_fail.cmake
#
# Compiles SOURCE (syntax and semantics only, no code generation). For a case named control_*,
# succeeds if it compiles without any diagnostic. Otherwise succeeds if compilation fails and the
# output matches every `// expect: <regex>` line of SOURCE, each on one line of output, plus the
# `// expect-gcc: <regex>` or `// expect-clang: <regex>` lines for the compiler in use (where the
# compilers print the same fact differently).

foreach(var COMPILER SOURCE INCLUDES)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_compile_fail.cmake: ${var} is not set")
  endif()
endforeach()

get_filename_component(name ${SOURCE} NAME_WE)
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(flags -std=c++20 -fsyntax-only -fdiagnostics-color=never -Wall -Wextra -Wpedantic -Werror)
foreach(dir IN LISTS include_dirs)
  if(NOT dir STREQUAL "")
    list(APPEND flags -I${dir})
  endif()
endforeach()

execute_process(COMMAND ${COMPILER} ${flags} ${SOURCE}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(output "${out}${err}")

if(name MATCHES "^control_")
  if(NOT status EQUAL 0 OR NOT output STREQUAL "")
    message(FATAL_ERROR "${name} must compile cleanly but did not (exit ${status}):\n${output}")
  endif()
  message(STATUS "${name}: compiles cleanly, as it must")
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "${name} compiled, but it must be rejected:\n${output}")
endif()

if(COMPILER MATCHES "clang")
  set(family clang)
else()
  set(family gcc)
endif()
file(STRINGS ${SOURCE} expectations REGEX "^// expect(-${family})?: ")
if(NOT expectations)
  message(FATAL_ERROR "${SOURCE} has no `// expect: <regex>` line")
endif()
set(missing "")
foreach(line IN LISTS expectations)
  string(REGEX REPLACE "^// expect(-${family})?: " "" regex "${line}")
  # `.*` stays on one line of compiler output.
  string(REPLACE ".*" "[^\n]*" regex "${regex}")
  if(NOT output MATCHES "${regex}")
    string(APPEND missing "  ${line}\n")
  endif()
endforeach()
if(NOT missing STREQUAL "")
  message(FATAL_ERROR "${name} failed to compile, but its output lacks:\n${missing}--- compiler output ---\n${output}")
endif()
message(STATUS "${name}: rejected with the expected diagnostic")
