#pragma once
// Branching with conditions (pgflow 0.14's `if` / `whenExhausted`): score an order for fraud, then
// either charge it or tell the customer it was rejected — never both — and award loyalty points
// through a partner API that may be down without failing the order.
//
//   score ─┬─ charge            only_if score.approved is true
//          ├─ notify_rejection  only_if score.approved is false
//          └─ loyalty_points    only_if approved, and when_exhausted skip: a partner outage
//                               skips it after 2 attempts instead of failing the order
//   summary (after all three) takes each as std::optional: a skipped step's output is absent.
//
// The conditions are JSON containment patterns over the step's input, checked when this file
// compiles: `{"score": {"approved": true}}` may only name members FraudScore has, with values of
// their JSON kinds, and summary must take the skippable steps as std::optional.

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace examples {

struct Purchase {
    int order_id = 0;
    std::string customer;
    int amount_cents = 0;
    std::string country;
};
struct FraudScore {
    bool approved = false;
    int risk = 0;  ///< 0–100
    std::string reason;
};
struct Charge {
    std::string transaction_id;
    int amount_cents = 0;
};
struct RejectionNotice {
    std::string sent_to;
    std::string text;
};
struct LoyaltyPoints {
    int points = 0;
};
struct OrderSummary {
    int order_id = 0;
    std::string outcome;          ///< "charged" or "rejected"
    int points = 0;               ///< 0 when the loyalty partner was unavailable
    bool points_pending = false;  ///< charged, but the loyalty partner was unavailable
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::Purchase, order_id, customer, amount_cents, country);
BOOST_HANA_ADAPT_STRUCT(examples::FraudScore, approved, risk, reason);
BOOST_HANA_ADAPT_STRUCT(examples::Charge, transaction_id, amount_cents);
BOOST_HANA_ADAPT_STRUCT(examples::RejectionNotice, sent_to, text);
BOOST_HANA_ADAPT_STRUCT(examples::LoyaltyPoints, points);
BOOST_HANA_ADAPT_STRUCT(examples::OrderSummary, order_id, outcome, points, points_pending);

namespace examples {

/// A toy risk model: large amounts and a new country raise the risk; 70 and above is rejected.
inline FraudScore score_purchase(const Purchase& p) {
    int risk = p.amount_cents > 100'000 ? 60 : 10;
    if (p.country != "NL") risk += 25;
    return {risk < 70, risk, risk < 70 ? "ok" : "amount and country unusual for this customer"};
}

inline constexpr auto fraud_screening = pgflow::flow<"fraud_screening", Purchase>(
    pgflow::flow_options{.max_attempts = 2, .base_delay = 1, .timeout = 30},
    pgflow::step<"score">([](const Purchase& p) { return score_purchase(p); }),
    pgflow::step<"charge", pgflow::after<"score">, pgflow::only_if<R"({"score": {"approved": true}})">>(
        [](const Purchase& p, const FraudScore&) {
            return Charge{"txn-" + std::to_string(p.order_id), p.amount_cents};
        }),
    pgflow::step<"notify_rejection", pgflow::after<"score">, pgflow::only_if<R"({"score": {"approved": false}})">>(
        [](const Purchase& p, const FraudScore& s) {
            return RejectionNotice{p.customer, "order " + std::to_string(p.order_id) + " was declined: " + s.reason};
        }),
    pgflow::step<"loyalty_points", pgflow::after<"score">, pgflow::only_if<R"({"score": {"approved": true}})">,
                 pgflow::when_exhausted<pgflow::skip>>([](const Purchase& p, const FraudScore&) {
        // The partner is "down" for this customer: every attempt fails, and after the last one
        // the step is skipped instead of failing the order.
        if (p.customer == "mallory") throw std::runtime_error("loyalty partner unavailable");
        return LoyaltyPoints{p.amount_cents / 1000};
    }),
    pgflow::step<"summary", pgflow::after<"charge", "notify_rejection", "loyalty_points">>(
        [](const Purchase& p, const std::optional<Charge>& charge, const std::optional<RejectionNotice>&,
           const std::optional<LoyaltyPoints>& points) {
            // Points are pending only for a charged order whose loyalty step was skipped after its
            // attempts; a rejected order earns none and owes none.
            return OrderSummary{p.order_id, charge ? "charged" : "rejected", points ? points->points : 0,
                                charge.has_value() && !points.has_value()};
        }));

}  // namespace examples
