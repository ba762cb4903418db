// Control: a valid flow using every feature compiles cleanly (a harness that rejected everything
// would fail here).
#include <pgflow/dispatch.hpp>
#include <pgflow/dsl.hpp>

#include <string>
#include <vector>

struct Order {
    int id;
    std::vector<std::string> items;
};
BOOST_HANA_ADAPT_STRUCT(Order, id, items);

constexpr auto order_processing = pgflow::flow<"order_processing", Order>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = 60},
    pgflow::step<"charge", pgflow::after<"validate">>(
        pgflow::step_options{.timeout = 30, .start_delay = 10},
        [](const Order& o, bool ok) { return ok ? o.items : std::vector<std::string>{}; }),
    pgflow::step<"validate">([](const Order& o) { return o.id > 0; }),
    pgflow::map<"ship", pgflow::after<"charge">>([](const std::string& item, const pgflow::task_context& ctx) {
        return item + std::to_string(ctx.task_index);
    }));

constexpr std::string_view sql = pgflow::registration_sql(order_processing);
static_assert(
    sql.ends_with("SELECT pgflow.add_step('order_processing', 'ship', ARRAY['charge'], step_type => 'map');"));

int main() {
    const auto dispatch = pgflow::make_dispatcher(order_processing);
    return dispatch.contains("ship") ? 0 : 1;
}
