# hygiene.sql_json_aggregates: no jsonb_agg( or jsonb_object_agg( in the code of sql/ (comments
# may name them). On PostgreSQL 15 and earlier both copy each string inside the values they
# aggregate with snprintf("%s") over bytes that are not NUL-terminated: quadratic in the strings
# of a value (78 s for 54 MB of task outputs, benchmarks/findings.md). The SQL uses
# to_jsonb(array_agg(...)) and json_object_agg(...)::jsonb instead (sql/pgflow/0080_step_output.sql).
# cmake -DSOURCE_DIR=… -P sql_json_aggregates.cmake
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/sql/*.sql)
list(SORT files)
set(found "")
foreach(file IN LISTS files)
  file(STRINGS ${SOURCE_DIR}/${file} lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    string(FIND "${line}" "--" comment)
    if(comment GREATER -1)
      string(SUBSTRING "${line}" 0 ${comment} line)
    endif()
    string(TOLOWER "${line}" line)
    if(line MATCHES "jsonb_(object_)?agg[ ]*\\(")
      list(APPEND found "${file}:${number}: ${line}")
    endif()
  endforeach()
endforeach()
if(found)
  list(JOIN found "\n  " listed)
  message(FATAL_ERROR "jsonb_agg / jsonb_object_agg in sql/ (use to_jsonb(array_agg(...)) or "
                      "json_object_agg(...)::jsonb, see sql/pgflow/0080_step_output.sql):\n  ${listed}")
endif()
list(LENGTH files count)
message("${count} SQL files, no jsonb_agg or jsonb_object_agg")
