# Conan build module of pgflow-cpp's package (see conanfile.py). When boost and libpq come from the
# system through a profile's [platform_requires], Conan declares no targets for them; this finds the
# system's and links them to pgflow::pgflow. With Conan's own boost and libpq packages their targets
# (the same names) exist already and nothing happens here.
if(NOT TARGET Boost::json)
  find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json)
  target_link_libraries(pgflow::pgflow INTERFACE Boost::headers Boost::json)
endif()
if(NOT TARGET PostgreSQL::PostgreSQL)
  find_package(PostgreSQL REQUIRED)
  target_link_libraries(pgflow::pgflow INTERFACE PostgreSQL::PostgreSQL)
endif()
