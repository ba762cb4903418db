#include <pgflow/flow.hpp>
// "charge" is skipped when its condition is unmet, so "receipt" must take it as std::optional<int>.
// expect: check_skippable_dependency_is_optional<.*"orders".*"receipt".*"charge".*int
// expect: can be skipped .* take that parameter as std::optional<DependencyOutput>
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"validate">, pgflow::only_if<R"({"validate": true})">>(
        [](int n, bool) { return n; }),
    pgflow::step<"receipt", pgflow::after<"charge">>([](int, int charged) { return charged; }));
