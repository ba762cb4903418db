#include <pgflow/flow.hpp>
// expect: check_dependency_declared<.*"order_processing".*"charge".*"valdate"
// expect: a step depends on a step that is not declared in this flow
constexpr auto f = pgflow::flow<"order_processing", int>(
    pgflow::step<"validate">([](int n) { return n > 0; }),
    pgflow::step<"charge", pgflow::after<"valdate">>([](int n, bool ok) { return ok ? n : 0; }));
