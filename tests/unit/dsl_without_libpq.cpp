// Built by unit.dsl_without_libpq without libpq's include directory (and with a libpq-fe.h that
// stops the build): <pgflow/dsl.hpp> must need only Boost, as it promises. It must not compile
// Boost.JSON either (about a second per translation unit), yet still check a flow's JSON mappings,
// nor define task_context (its std::stop_token), yet still recognise a handler taking one.
#include <pgflow/dsl.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

template <class T>
constexpr bool is_complete = requires { sizeof(T); };
static_assert(!is_complete<boost::json::value>, "<pgflow/dsl.hpp> must not include Boost.JSON's definitions");
static_assert(!is_complete<pgflow::task_context>, "<pgflow/dsl.hpp> must not include <stop_token>");

struct order {
    int id;
    std::vector<std::string> items;
    std::optional<double> discount;
};

}  // namespace
BOOST_HANA_ADAPT_STRUCT(order, id, items, discount);

namespace {

struct not_json {};

static_assert(pgflow::json_convertible<order>);
static_assert(pgflow::json_convertible<std::vector<std::optional<order>>>);
static_assert(!pgflow::json_convertible<not_json>);
static_assert(!pgflow::json_convertible<std::vector<not_json>>);

constexpr auto orders = pgflow::flow<"orders", order>(
    pgflow::step<"items">([](const order& o) { return o.items; }),
    pgflow::map<"lengths", pgflow::after<"items">>([](const std::string& s) { return static_cast<int>(s.size()); }),
    pgflow::step<"discount">([](const order& o, const pgflow::task_context&) { return o.discount; }));
static_assert(pgflow::registration_sql(orders).starts_with("SELECT pgflow.create_flow('orders'"));

}  // namespace
