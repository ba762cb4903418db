#include <pgflow/flow.hpp>
// expect: check_step_slug_is_valid<.*"2fast"
// expect: invalid step slug: a slug matches
constexpr auto f = pgflow::flow<"racing", int>(pgflow::step<"2fast">([](int n) { return n; }));
