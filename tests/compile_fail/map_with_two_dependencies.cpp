#include <pgflow/flow.hpp>
#include <vector>
// expect: check_map_has_at_most_one_dependency<.*"pairs".*after<.*"left".*"right"
// expect: a map step has at most one dependency
constexpr auto f =
    pgflow::flow<"zipper", int>(pgflow::step<"left">([](int n) { return std::vector<int>{n}; }),
                                pgflow::step<"right">([](int n) { return std::vector<int>{n}; }),
                                pgflow::map<"pairs", pgflow::after<"left", "right">>([](int x) { return x; }));
