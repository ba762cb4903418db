#include <pgflow/flow.hpp>
// The pattern misses a ':' after "ok": the diagnostic shows the text up to there and what was expected.
// expect: check_condition_pattern_is_json_object<.*"charge".*"only_if".*"expected .*:
// expect: a condition pattern is a JSON object
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"validate">, pgflow::only_if<R"({"validate" true})">>(
        [](int n, bool) { return n; }));
