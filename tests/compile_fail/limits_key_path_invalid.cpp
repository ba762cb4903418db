#include <pgflow/limits.hpp>
// An empty part in a key path.
// expect: check_key_path_is_valid<.*"orders".*"ship".*"customer..id"
// expect: a concurrency key is a dotted path into the run input
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::flow_controls<pgflow::step_limits<"ship", pgflow::concurrency_per_key<"customer..id", 1>>>{},
    pgflow::step<"charge">([](int n) { return n; }),
    pgflow::step<"ship", pgflow::after<"charge">>([](int, int c) { return c; }));
