# cmake --install: headers (the embedded SQL included), sql/, the CMake package.
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
