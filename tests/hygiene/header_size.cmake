# hygiene.header_size: no library header over 450 lines, so that each stays readable in one sitting;
# the generated include/pgflow/detail/embedded_sql.hpp (the SQL as data) and
# include/pgflow/dashboard/assets.hpp (the dashboard's pages as data) are the exceptions.
# cmake -DSOURCE_DIR=… -P header_size.cmake
set(limit 450)
file(GLOB_RECURSE headers RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/include/*.hpp)
list(REMOVE_ITEM headers include/pgflow/detail/embedded_sql.hpp include/pgflow/dashboard/assets.hpp)
list(SORT headers)
set(too_long "")
foreach(header IN LISTS headers)
  file(READ ${SOURCE_DIR}/${header} text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines lines)
  if(lines GREATER limit)
    list(APPEND too_long "${header}: ${lines} lines")
  endif()
endforeach()
if(too_long)
  list(JOIN too_long "\n  " listed)
  message(FATAL_ERROR "headers over ${limit} lines (split them by what they hold):\n  ${listed}")
endif()
list(LENGTH headers count)
message("${count} headers, none over ${limit} lines")
