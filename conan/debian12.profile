# Debian 12 with boost and libpq from apt (libboost-json1.81-dev, libpq-dev): Conan takes them as
# they are and reaches no remote for them. Used by `conan create . -pr:a conan/debian12.profile`.
# The versions are Debian 12's (libpq's minor one follows Debian's point releases; any version in
# the recipe's ranges serves).
include(default)

[settings]
compiler.cppstd=20

[platform_requires]
boost/1.81.0
libpq/15.18

[conf]
# Ninja is what the project builds with (Debian's ninja-build); make need not be installed.
tools.cmake.cmaketoolchain:generator=Ninja
