// Found before the real libpq-fe.h by unit.dsl_without_libpq, wherever libpq is installed: a
// header reachable from <pgflow/dsl.hpp> that includes libpq stops that test's build here.
#error "<pgflow/dsl.hpp> must not need libpq, but something it includes includes <libpq-fe.h>"
