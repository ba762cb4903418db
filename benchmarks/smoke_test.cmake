# CTest smoke test of the end-to-end harness: every engine runs one tiny window against a database
# of its own (created, installed and dropped here, so it cannot disturb other tests) and must
# complete tasks. No timing is asserted. Needs the server of PGFLOW_DATABASE_URL or the PG*
# environment; fails when it is unreachable.
#   cmake -DBENCH=<bench_e2e> -DPSQL=<psql> -DSOURCE_DIR=<repo> -P smoke_test.cmake
set(db pgflow_bench_smoke)
if(DEFINED ENV{PGFLOW_DATABASE_URL} AND NOT "$ENV{PGFLOW_DATABASE_URL}" STREQUAL "")
  set(admin "$ENV{PGFLOW_DATABASE_URL}")
  string(REGEX REPLACE "^(postgres(ql)?://[^/?]*)(/[^?]*)?" "\\1/${db}" target "$ENV{PGFLOW_DATABASE_URL}")
else()
  set(admin "")
  set(target "dbname=${db}")
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${PSQL} -X -q -v ON_ERROR_STOP=1 ${admin} -c "DROP DATABASE IF EXISTS ${db}" -c "CREATE DATABASE ${db}")
run(${PSQL} -X -q -v ON_ERROR_STOP=1 -v queue=builtin -d ${target} -f ${SOURCE_DIR}/sql/install.sql)
file(GLOB proposals ${SOURCE_DIR}/benchmarks/proposals/*.sql)
list(SORT proposals)
foreach(p IN LISTS proposals)
  run(${PSQL} -X -q -v ON_ERROR_STOP=1 -d ${target} -f ${p})
endforeach()

foreach(engine_shape "worker;diamond" "worker;map100" "edge;single" "batch;map100" "limit;single")
  list(GET engine_shape 0 engine)
  list(GET engine_shape 1 shape)
  run(${BENCH} --db ${target} --engine ${engine} --shape ${shape} --workers 2 --warmup 0.2 --seconds 0.3)
  # engine, shape, workers, seconds, tasks, ...: the window must have completed tasks.
  string(REPLACE "\t" ";" fields "${last_output}")
  list(GET fields 4 tasks)
  if(NOT tasks GREATER 0)
    message(FATAL_ERROR "${engine} on ${shape}: no task completed in the window: ${last_output}")
  endif()
  message(STATUS "${engine} ${shape}: ${tasks} tasks")
endforeach()

run(${PSQL} -X -q -v ON_ERROR_STOP=1 ${admin} -c "DROP DATABASE ${db}")
