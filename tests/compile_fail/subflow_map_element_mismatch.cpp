#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
#include <vector>
// subflow_map hands each child run one element (a double), but the child flow takes an int.
constexpr auto child = pgflow::flow<"child", int>(pgflow::step<"twice">([](int n) { return 2 * n; }));
// expect: check_subflow_input_matches_child_flow<.*"parent".*"each".*"child".*double, int>
// expect: a subflow step's child flow must take as input exactly what the step receives
constexpr auto f = pgflow::flow<"parent", std::vector<double>>(pgflow::subflow_map<"each">(child));
