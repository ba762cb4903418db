// Built by unit.dsl_without_libpq without libpq's include directory (and with a libpq-fe.h that
// stops the build): <pgflow/dsl.hpp> must need only Boost, as it promises.
#include <pgflow/dsl.hpp>
