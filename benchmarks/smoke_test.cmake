# CTest smoke test of the end-to-end harness: every engine runs one tiny window against a database
# of its own (created, installed and dropped here, so it cannot disturb other tests) and must
# complete tasks. No timing is asserted. Then an engine made to fail: its row carries the error,
# --keep-going exits 0 (scripts/bench goes on with the next cell), and report.py shows the error
# in the cell. Needs the server of PGFLOW_DATABASE_URL or the PG* environment; fails when it is
# unreachable.
#   cmake -DBENCH=<bench_e2e> -DPSQL=<psql> -DPYTHON=<python3> -DSOURCE_DIR=<repo> -DWORK_DIR=<dir>
#         -P smoke_test.cmake
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

execute_process(COMMAND ${BENCH} --print-header OUTPUT_VARIABLE rows)
# The last field: --batch (tasks per claim and handlers at once), 0 for each engine's default.
foreach(engine_shape "worker;diamond;ours;0" "worker;map100;ours;0" "edge;single;pgflow;0" "limit;single;limit;0"
        "worker;map100;ours;32" "edge;map100;pgflow;32" "limit;single;limit;32")
  list(GET engine_shape 0 engine)
  list(GET engine_shape 1 shape)
  list(GET engine_shape 2 label)  # as scripts/bench labels the engine's rows
  list(GET engine_shape 3 batch)
  set(batch_option)
  if(batch GREATER 0)
    set(batch_option --batch ${batch})
  endif()
  run(${BENCH} --db ${target} --engine ${engine} --label ${label} --shape ${shape} --workers 2 --warmup 0.2
      --seconds 0.3 ${batch_option})
  # engine, shape, workers, seconds, tasks, ...: the window must have completed tasks.
  string(REPLACE "\t" ";" fields "${last_output}")
  list(GET fields 4 tasks)
  if(NOT tasks GREATER 0)
    message(FATAL_ERROR "${engine} on ${shape}: no task completed in the window: ${last_output}")
  endif()
  message(STATUS "${engine} ${shape} (batch ${batch}): ${tasks} tasks")
  string(APPEND rows "${last_output}")
endforeach()

# An engine that fails (here: every acknowledgement of the edge worker is refused). A file,
# because run()'s arguments are a list and the function's semicolons would split them.
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/refuse_completions.sql
     "CREATE OR REPLACE FUNCTION pgflow.complete_task(run_id uuid, step_slug text, task_index integer, output jsonb)
      RETURNS SETOF pgflow.step_tasks
      LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the smoke test'; END $$;\n")
run(${PSQL} -X -q -v ON_ERROR_STOP=1 -d ${target} -f ${WORK_DIR}/refuse_completions.sql)
set(failing ${BENCH} --db ${target} --engine edge --label pgflow --shape diamond --workers 2 --warmup 0.2 --seconds 0.3)
set(expected "edge worker: complete: ERROR:  refused by the smoke test")
execute_process(COMMAND ${failing} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_QUIET)
if(rc EQUAL 0 OR NOT out MATCHES "^pgflow\tdiamond\t2\t[^\n]*\t${expected}\n$")
  message(FATAL_ERROR "a failing engine must print its row with the error and exit non-zero (${rc}): ${out}")
endif()
run(${failing} --keep-going)
if(NOT last_output STREQUAL out)
  message(FATAL_ERROR "with --keep-going the same row and status 0, got: ${last_output}")
endif()
string(APPEND rows "${last_output}")
message(STATUS "edge diamond: ${expected}")

# The report shows the error in the cell and lists it.
file(WRITE ${WORK_DIR}/results.tsv "${rows}")
run(${PYTHON} ${SOURCE_DIR}/benchmarks/report.py --results ${WORK_DIR}/results.tsv --out ${WORK_DIR} --no-plot)
file(READ ${WORK_DIR}/results.md report)
string(FIND "${report}" "| diamond (4 steps) | 2 | " at)
if(NOT at EQUAL -1)
  string(SUBSTRING "${report}" ${at} -1 diamond_row)
endif()
# shape | workers | ours | pgflow: the error | ours / pgflow: no figure | ...
if(at EQUAL -1 OR NOT diamond_row MATCHES "^\\| [^|]* \\| 2 \\| [^|]* \\| error: ${expected} \\| –× \\|")
  message(FATAL_ERROR "report.py does not show the error in the pgflow cell of the diamond row:\n${report}")
endif()
if(NOT last_output MATCHES "RESULT ")
  message(FATAL_ERROR "report.py printed no RESULT line: ${last_output}")
endif()

run(${PSQL} -X -q -v ON_ERROR_STOP=1 ${admin} -c "DROP DATABASE ${db}")
