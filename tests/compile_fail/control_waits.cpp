#include <pgflow/client.hpp>
#include <pgflow/dispatch.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/wait_steps.hpp>
#include <chrono>
#include <string>
#include <vector>
// Every kind of step without a handler, with options and conditions, and the typed signal: compiles
// without a warning.
constexpr auto child = pgflow::flow<"child", int>(pgflow::step<"twice">([](int n) { return 2 * n; }));
constexpr auto f = pgflow::flow<"parent", std::vector<int>>(
    pgflow::signal<"approved", pgflow::after<>, bool>(pgflow::signal_options{.timeout = 60, .base_delay = 1}),
    pgflow::signal<"note", pgflow::after<"approved">, std::string, pgflow::when_exhausted<pgflow::skip>>(),
    pgflow::sleep<"later", pgflow::after<"approved">>(
        pgflow::step_options{.max_attempts = 2}, [](const std::vector<int>&, bool) { return std::chrono::seconds(1); }),
    pgflow::subflow_map<"each">(child),
    pgflow::step<"done", pgflow::after<"each", "later", "note">>(
        [](const std::vector<int>&, const std::vector<decltype(child)::output_type>& outs, const std::string& woke,
           const std::optional<std::string>& note) { return outs.size() + woke.size() + (note ? 1 : 0); }));
static_assert(!pgflow::registration_sql(f).empty());
void send(pgflow::client& c, const pgflow::run_id& id) {
    c.signal<"approved">(f, id, true);
    c.signal<"note">(f, id, "looks good");
    c.signal(id, "approved", boost::json::value(true));
}
