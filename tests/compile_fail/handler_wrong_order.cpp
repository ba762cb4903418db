#include <pgflow/flow.hpp>
#include <string>
// The dependencies' outputs come in after<...> order: "name" (std::string) then "count" (int).
// expect: check_handler_parameter_order<.*"labels".*"label".*expected_parameters<int, std::.*string.*, int>
// expect: the step's handler takes its parameters in the wrong order
constexpr auto f = pgflow::flow<"labels", int>(
    pgflow::step<"count">([](int n) { return n; }), pgflow::step<"name">([](int n) { return std::to_string(n); }),
    pgflow::step<"label", pgflow::after<"name", "count">>(
        [](int, int count, const std::string& name) { return name + std::to_string(count); }));
