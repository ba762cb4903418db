# cmake --install: headers (the embedded SQL included), sql/, the CMake package, pgflow-cpp.pc.
include(CMakePackageConfigHelpers)
set(PGFLOW_INSTALL_CMAKEDIR ${CMAKE_INSTALL_DATADIR}/cmake/pgflow-cpp)
set(PGFLOW_INSTALL_SQLDIR ${CMAKE_INSTALL_DATADIR}/pgflow-cpp/sql)

install(TARGETS pgflow EXPORT pgflow-cppTargets)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sql/ DESTINATION ${PGFLOW_INSTALL_SQLDIR})
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pgflow-cpp)
install(EXPORT pgflow-cppTargets NAMESPACE pgflow:: DESTINATION ${PGFLOW_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pgflow-cppConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pgflow-cppConfig.cmake
  INSTALL_DESTINATION ${PGFLOW_INSTALL_CMAKEDIR}
  PATH_VARS PGFLOW_INSTALL_SQLDIR)
# Header-only: one package serves every architecture.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pgflow-cppConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/pgflow-cppConfig.cmake ${PROJECT_BINARY_DIR}/pgflow-cppConfigVersion.cmake
        DESTINATION ${PGFLOW_INSTALL_CMAKEDIR})

# pkg-config, for builds without CMake. Header-only, so it goes to share/pkgconfig; its prefix is
# relative to the file (${pcfiledir}), so the installed tree may be moved. Boost has no .pc file:
# its flags are written out, with -I/-L only where Boost is outside the compiler's default paths.
set(PGFLOW_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_DATADIR}/pkgconfig)
file(RELATIVE_PATH _pgflow_pc_to_prefix /${PGFLOW_INSTALL_PKGCONFIGDIR} /)
string(REGEX REPLACE "/$" "" _pgflow_pc_to_prefix "${_pgflow_pc_to_prefix}")
set(PGFLOW_PC_BOOST_CFLAGS "")
foreach(dir IN LISTS Boost_INCLUDE_DIRS)
  if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    string(APPEND PGFLOW_PC_BOOST_CFLAGS " -I${dir}")
  endif()
endforeach()
set(PGFLOW_PC_BOOST_LIBS "")
get_target_property(_pgflow_boost_json Boost::json LOCATION)
get_filename_component(_pgflow_boost_libdir "${_pgflow_boost_json}" DIRECTORY)
if(_pgflow_boost_libdir AND NOT _pgflow_boost_libdir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  string(APPEND PGFLOW_PC_BOOST_LIBS " -L${_pgflow_boost_libdir}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/pgflow-cpp.pc.in ${PROJECT_BINARY_DIR}/pgflow-cpp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pgflow-cpp.pc DESTINATION ${PGFLOW_INSTALL_PKGCONFIGDIR})
