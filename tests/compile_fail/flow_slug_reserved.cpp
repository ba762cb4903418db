#include <pgflow/flow.hpp>
// expect: check_flow_slug_is_not_reserved<.*"run"
// expect: "run" is reserved by pgflow
constexpr auto f = pgflow::flow<"run", int>(pgflow::step<"a">([](int n) { return n; }));
