#include <pgflow/flow.hpp>
// A dependent step's pattern is over {"<dependency>": output}; "validat" is not one of them.
// expect: check_condition_pattern_keys_are_dependencies<.*"orders".*"charge".*"only_if".*"validat"
// expect: every top-level key of the pattern must be one of the step's after<...> dependencies
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"validate">, pgflow::only_if<R"({"validat": true})">>(
        [](int n, bool) { return n; }));
