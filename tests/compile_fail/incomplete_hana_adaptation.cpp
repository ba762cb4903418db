#include <pgflow/json.hpp>
// `amount` is missing from the adaptation: it would silently vanish from the JSON.
struct Order {
    int id;
    double amount;
    bool paid;
};
BOOST_HANA_ADAPT_STRUCT(Order, id, paid);
// expect: check_hana_adaptation_lists_every_field<Order, 2.*, 3.*>
// expect: BOOST_HANA_ADAPT_STRUCT lists fewer members than the aggregate has
auto j = pgflow::to_json(Order{1, 2.5, true});
