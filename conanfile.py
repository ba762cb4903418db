import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout


class PgflowCppConan(ConanFile):
    name = "pgflow-cpp"
    description = "Durable DAG workflows on PostgreSQL: compile-time flows, pgflow 0.8.1 compatible SQL"
    license = "Apache-2.0"
    topics = ("workflow", "postgresql", "dag", "pgflow", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # The headers hold the SQL (include/pgflow/detail/embedded_sql.hpp): nothing is generated here.
    exports_sources = "include/*", "sql/*", "cmake/ConanSystemDeps.cmake", "LICENSE"
    no_copy_source = True

    def set_version(self):
        # VERSION is the project's one place for its version.
        self.version = load(self, os.path.join(self.recipe_folder, "VERSION")).strip()

    def requirements(self):
        self.requires("boost/[>=1.81.0 <2]", transitive_headers=True)
        self.requires("libpq/[>=14 <18]", transitive_headers=True)

    def layout(self):
        basic_layout(self, src_folder=".")

    def package_id(self):
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))
        # install.sql and its files, for installing the schema with psql instead of install_schema().
        copy(self, "*", os.path.join(self.source_folder, "sql"),
             os.path.join(self.package_folder, "share", "pgflow-cpp", "sql"))
        copy(self, "ConanSystemDeps.cmake", os.path.join(self.source_folder, "cmake"),
             os.path.join(self.package_folder, "share", "pgflow-cpp", "cmake"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "pgflow-cpp")
        self.cpp_info.set_property("cmake_target_name", "pgflow::pgflow")
        self.cpp_info.set_property("pkg_config_name", "pgflow-cpp")
        # Finds the system's Boost and libpq when they are [platform_requires] (no Conan targets).
        self.cpp_info.set_property("cmake_build_modules", ["share/pgflow-cpp/cmake/ConanSystemDeps.cmake"])
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.resdirs = ["share/pgflow-cpp"]
        self.cpp_info.requires = ["boost::headers", "boost::json", "libpq::pq"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
