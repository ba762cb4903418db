#include <pgflow/flow.hpp>
#include <vector>
// A root map is matched against the flow input, an array: an object pattern could never match.
// expect: check_root_map_has_no_pattern<.*"each"
// expect: a map step without dependencies is matched against the flow input
constexpr auto f = pgflow::flow<"items", std::vector<int>>(
    pgflow::map<"each", pgflow::only_if<R"({"n": 1})">>([](int n) { return n; }));
