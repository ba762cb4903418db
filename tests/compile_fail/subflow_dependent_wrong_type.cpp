#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
#include <pgflow/output.hpp>
// The subflow's output is the child flow's (a flow_output with member "twice"); its dependent takes an int.
constexpr auto child = pgflow::flow<"child", int>(pgflow::step<"twice">([](int n) { return 2 * n; }));
// expect: check_handler_parameter_type<.*"parent".*"use".*"run_child".*flow_output<.*"twice"
// expect: a handler parameter does not accept the value the step provides for it
constexpr auto f = pgflow::flow<"parent", int>(
    pgflow::subflow<"run_child">(child),
    pgflow::step<"use", pgflow::after<"run_child">>([](int, int* twice) { return twice != nullptr; }));
