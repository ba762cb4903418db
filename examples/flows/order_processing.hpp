#pragma once
// Order processing with retries: validate → charge → fulfill. The payment gateway "times out" on
// the first attempt of every charge; pgflow re-queues the task after base_delay · 2^attempt
// seconds (here 1 · 2 = 2 s) and the second attempt goes through. The handler learns which attempt
// it is from pgflow::task_context::attempt.
//
// The step options mirror the set-up guide's SQL (3 attempts, a 30 s timeout per step) with a
// base delay of one second so that the demo does not wait long.

#include <pgflow/dsl.hpp>
#include <pgflow/error.hpp>
#include <pgflow/task_context.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

struct OrderLine {
    std::string sku;
    int quantity = 0;
    int unit_price_cents = 0;
};
struct Order {
    int order_id = 0;
    std::string customer;
    std::vector<OrderLine> lines;
};
struct ValidatedOrder {
    int total_cents = 0;
    int item_count = 0;
};
struct Payment {
    std::string transaction_id;
    int amount_cents = 0;
    int attempts = 0;  ///< the attempt that went through
};
struct Shipment {
    int order_id = 0;
    std::string status;
    std::string transaction_id;
    int charged_cents = 0;
    int charge_attempts = 0;
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::OrderLine, sku, quantity, unit_price_cents);
BOOST_HANA_ADAPT_STRUCT(examples::Order, order_id, customer, lines);
BOOST_HANA_ADAPT_STRUCT(examples::ValidatedOrder, total_cents, item_count);
BOOST_HANA_ADAPT_STRUCT(examples::Payment, transaction_id, amount_cents, attempts);
BOOST_HANA_ADAPT_STRUCT(examples::Shipment, order_id, status, transaction_id, charged_cents, charge_attempts);

namespace examples {

/// The order's total and item count; throws pgflow::permanent_error for an order that can never be
/// charged: no retry can fix it, so its task fails at once and so does its run.
inline ValidatedOrder validate_order(const Order& order) {
    if (order.lines.empty()) throw pgflow::permanent_error("order " + std::to_string(order.order_id) + " has no lines");
    ValidatedOrder v;
    for (const auto& line : order.lines) {
        if (line.quantity <= 0 || line.unit_price_cents < 0)
            throw pgflow::permanent_error("order " + std::to_string(order.order_id) + ": line " + line.sku +
                                          " has a bad quantity or price");
        v.total_cents += line.quantity * line.unit_price_cents;
        v.item_count += line.quantity;
    }
    return v;
}

inline constexpr auto order_processing = pgflow::flow<"order_processing", Order>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 30},
    pgflow::step<"validate">([](const Order& order) { return validate_order(order); }),
    pgflow::step<"charge", pgflow::after<"validate">>(
        [](const Order& order, const ValidatedOrder& validated, const pgflow::task_context& task) {
            if (task.attempt == 1) throw std::runtime_error("payment gateway timed out (attempt 1)");
            return Payment{"txn-" + std::to_string(order.order_id) + "-" + std::to_string(task.attempt),
                           validated.total_cents, task.attempt};
        }),
    pgflow::step<"fulfill", pgflow::after<"charge">>([](const Order& order, const Payment& payment) {
        return Shipment{order.order_id, "shipped", payment.transaction_id, payment.amount_cents, payment.attempts};
    }));

}  // namespace examples
