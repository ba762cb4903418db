from conan import ConanFile
from conan.tools.cmake import CMake, CMakeToolchain, cmake_layout
from conan.tools.files import copy
import os


class PgflowCppConan(ConanFile):
    name = "pgflow-cpp"
    version = "0.1.0"
    description = "Durable DAG workflows on PostgreSQL: compile-time flows, pgflow 0.8.1 compatible SQL"
    license = "Apache-2.0"
    topics = ("workflow", "postgresql", "dag", "pgflow", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "sql/*", "LICENSE"
    no_copy_source = True

    def requirements(self):
        self.requires("boost/1.81.0")
        self.requires("libpq/15.4")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        tc = CMakeToolchain(self)
        # Only the install rules: no tests, examples or benchmarks in a package build.
        tc.cache_variables["PGFLOW_BUILD_TESTS"] = False
        tc.cache_variables["PGFLOW_BUILD_EXAMPLES"] = False
        tc.cache_variables["PGFLOW_BUILD_BENCHMARKS"] = False
        tc.cache_variables["PGFLOW_BUILD_CLI"] = False
        tc.cache_variables["PGFLOW_INSTALL"] = True
        tc.generate()

    def build(self):
        # Configuring generates <pgflow/detail/embedded_sql.hpp> from sql/install.sql.
        cmake = CMake(self)
        cmake.configure()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()

    def package_id(self):
        self.info.clear()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "pgflow-cpp")
        self.cpp_info.set_property("cmake_target_name", "pgflow::pgflow")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.requires = ["boost::headers", "boost::json", "libpq::pq"]
        self.cpp_info.system_libs = ["pthread"] if self.settings.os in ("Linux", "FreeBSD") else []
        self.cpp_info.resdirs = ["share/pgflow-cpp"]
