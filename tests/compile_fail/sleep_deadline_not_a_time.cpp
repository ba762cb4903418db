#include <pgflow/flow.hpp>
#include <pgflow/wait_steps.hpp>
// A sleep step's function returns a number of seconds as an int, not a time or a duration.
// expect: check_sleep_deadline_is_a_time<.*"orders".*"cool_off".*int
// expect: a sleep step's function returns when to wake
constexpr auto f = pgflow::flow<"orders", int>(pgflow::sleep<"cool_off">([](int seconds) { return seconds; }));
