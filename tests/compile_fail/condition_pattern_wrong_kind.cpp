#include <pgflow/flow.hpp>
#include <vector>
// tags holds strings; the pattern's second element is a number.
// expect: check_condition_pattern_value_kind<.*"orders".*"charge".*"only_if_not".*"fraud_check.tags\[1\]".*"string".*"number"
// expect: a value in a condition pattern has another JSON kind than the C\+\+ type
struct FraudCheck {
    bool approved;
    std::vector<std::string> tags;
};
BOOST_HANA_ADAPT_STRUCT(FraudCheck, approved, tags);
constexpr auto f =
    pgflow::flow<"orders", int>(pgflow::step<"fraud_check">([](int n) {
                                    return FraudCheck{n > 0, {}};
                                }),
                                pgflow::step<"charge", pgflow::after<"fraud_check">,
                                             pgflow::only_if_not<R"({"fraud_check": {"tags": ["stolen", 1]}})">>(
                                    [](int n, const FraudCheck&) { return n; }));
