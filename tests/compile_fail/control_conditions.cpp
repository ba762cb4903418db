// Control: a valid flow with every kind of condition compiles cleanly.
#include <pgflow/dispatch.hpp>
#include <pgflow/dsl.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

struct Fraud {
    bool approved;
    std::vector<std::string> tags;
    std::map<std::string, int> scores;
};
BOOST_HANA_ADAPT_STRUCT(Fraud, approved, tags, scores);
struct Order {
    int id;
    std::optional<std::string> coupon;
};
BOOST_HANA_ADAPT_STRUCT(Order, id, coupon);

constexpr auto orders = pgflow::flow<"orders", Order>(
    pgflow::step<"discount", pgflow::only_if<R"({"coupon": "SPRING"})">, pgflow::when_unmet<pgflow::skip>>(
        [](const Order& o) { return o.id; }),
    pgflow::step<"fraud_check">([](const Order&) {
        return Fraud{true, {"new"}, {{"card", 1}}};
    }),
    pgflow::step<"charge", pgflow::after<"fraud_check", "discount">,
                 pgflow::only_if<R"({"fraud_check": {"approved": true, "tags": ["new"], "scores": {"card": 1}}})">,
                 pgflow::only_if_not<R"({"discount": 0})">, pgflow::when_unmet<pgflow::skip_cascade>,
                 pgflow::when_exhausted<pgflow::skip_cascade>>(
        pgflow::step_options{.max_attempts = 5},
        [](const Order& o, const Fraud&, std::optional<int> discount) { return o.id - discount.value_or(0); }),
    pgflow::step<"notify", pgflow::after<"charge">>([](const Order&, int charged) { return charged; }),
    pgflow::step<"tag_list", pgflow::after<"fraud_check">>([](const Order&, const Fraud& f) { return f.tags; }),
    pgflow::map<"lines", pgflow::after<"tag_list">, pgflow::when_exhausted<pgflow::skip>>(
        [](const std::string& tag) { return tag.size(); }));

constexpr std::string_view sql = pgflow::registration_sql(orders);
static_assert(sql.ends_with(
    "SELECT pgflow.add_step('orders', 'lines', ARRAY['tag_list'], when_exhausted => 'skip', step_type => 'map');"));
static_assert(
    std::is_same_v<std::remove_cvref_t<decltype(pgflow::get<"notify">(std::declval<decltype(orders)::output_type&>()))>,
                   std::optional<int>>);

int main() {
    const auto dispatch = pgflow::make_dispatcher(orders);
    return dispatch.contains("charge") ? 0 : 1;
}
