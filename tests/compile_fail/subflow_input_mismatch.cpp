#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
#include <string>
// The child flow takes an int, but the step hands it its dependency's std::string.
constexpr auto child = pgflow::flow<"child", int>(pgflow::step<"twice">([](int n) { return 2 * n; }));
// expect: check_subflow_input_matches_child_flow<.*"parent".*"run_child".*"child".*std::(__cxx11::)?basic_string<char.*, int>
// expect: a subflow step's child flow must take as input exactly what the step receives
constexpr auto f = pgflow::flow<"parent", int>(pgflow::step<"name">([](int n) { return std::to_string(n); }),
                                               pgflow::subflow<"run_child", pgflow::after<"name">>(child));
