#include <pgflow/flow.hpp>
// expect: check_flow_slug_is_valid<.*"order processing"
// expect: invalid flow slug: a slug matches
constexpr auto f = pgflow::flow<"order processing", int>(pgflow::step<"a">([](int n) { return n; }));
