#include <pgflow/flow.hpp>
// A pattern is a JSON object (pgflow's CHECK constraint); an array is rejected.
// expect: check_condition_pattern_is_json_object<.*"charge".*"only_if_not".*"expected an object
// expect: a condition pattern is a JSON object
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"validate">, pgflow::only_if_not<"[1, 2]">>([](int n, bool) { return n; }));
