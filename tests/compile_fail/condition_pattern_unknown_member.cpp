#include <pgflow/flow.hpp>
// FraudCheck has "approved", not "aproved".
// expect: check_condition_pattern_member_exists<.*"orders".*"charge".*"only_if".*"fraud_check.aproved".*"FraudCheck"
// expect: a condition pattern names a member that the C\+\+ type it is matched against
struct FraudCheck {
    bool approved;
    int score;
};
BOOST_HANA_ADAPT_STRUCT(FraudCheck, approved, score);
constexpr auto f = pgflow::flow<"orders", int>(
    pgflow::step<"fraud_check">([](int n) {
        return FraudCheck{n > 0, n};
    }),
    pgflow::step<"charge", pgflow::after<"fraud_check">, pgflow::only_if<R"({"fraud_check": {"aproved": true}})">>(
        [](int n, const FraudCheck&) { return n; }));
