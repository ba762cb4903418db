#include <pgflow/flow.hpp>
// 48 characters: valid for pgflow.is_valid_slug, too long for the flow's pgmq queue.
// expect: check_flow_slug_fits_queue_name<.*"a_flow_slug_that_is_exactly_forty_
// (clang shortens long strings in template arguments: match the beginning of the slug)
// expect: flow slug longer than 47 characters
constexpr auto f =
    pgflow::flow<"a_flow_slug_that_is_exactly_forty_eight_chars_xx", int>(pgflow::step<"a">([](int n) { return n; }));
