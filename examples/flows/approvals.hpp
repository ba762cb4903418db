#pragma once
// Expense approval with a person in the loop, a child flow and a durable pause:
//
//   review → approval (a signal: waits, holding no worker, until someone approves or rejects)
//          → payout_request → payout (a subflow: a run of the `payout` flow) → settle (a 2 s sleep)
//          → notify
//
// An approver answers with `pgflow signal <run_id> approval '{"approved": true, ...}'` or
// client.signal<"approval">(expense_approval, run_id, Approval{...}); a value of another shape is
// refused. The payout is its own flow, run as a child of the expense's run, so that it can be
// started, watched and retried on its own too.

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <chrono>
#include <string>

namespace examples {

struct Expense {
    int expense_id = 0;
    std::string employee;
    int amount_cents = 0;
    std::string purpose;
};
struct Review {
    std::string approver;  ///< who must decide: a manager up to 1000.00, the finance team above
    std::string summary;
};
/// What the approver sends.
struct Approval {
    bool approved = false;
    std::string approver;
    std::string note;
};
/// What the payout flow pays: nothing for a rejected expense.
struct PayoutRequest {
    int expense_id = 0;
    std::string employee;
    int amount_cents = 0;
};
struct Transfer {
    std::string transfer_id;  ///< empty when nothing was paid
    int amount_cents = 0;
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::Expense, expense_id, employee, amount_cents, purpose);
BOOST_HANA_ADAPT_STRUCT(examples::Review, approver, summary);
BOOST_HANA_ADAPT_STRUCT(examples::Approval, approved, approver, note);
BOOST_HANA_ADAPT_STRUCT(examples::PayoutRequest, expense_id, employee, amount_cents);
BOOST_HANA_ADAPT_STRUCT(examples::Transfer, transfer_id, amount_cents);

namespace examples {

inline std::string money(int cents) {
    return std::to_string(cents / 100) + '.' + (cents % 100 < 10 ? "0" : "") + std::to_string(cents % 100);
}

/// The child flow: pays a request (a bank transfer, here a made-up id).
inline constexpr auto payout = pgflow::flow<"payout", PayoutRequest>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 30},
    pgflow::step<"transfer">([](const PayoutRequest& r) {
        if (r.amount_cents == 0) return Transfer{"", 0};
        return Transfer{"tr-" + std::to_string(r.expense_id) + "-" + r.employee, r.amount_cents};
    }));

inline constexpr auto expense_approval = pgflow::flow<"expense_approval", Expense>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 30},
    pgflow::step<"review">([](const Expense& e) {
        return Review{e.amount_cents <= 100000 ? "manager" : "finance",
                      e.employee + " asks " + money(e.amount_cents) + " for " + e.purpose};
    }),
    // Waits up to a week for the approver's answer; then the run fails.
    pgflow::signal<"approval", pgflow::after<"review">, Approval>(pgflow::signal_options{.timeout = 7 * 24 * 3600}),
    pgflow::step<"payout_request", pgflow::after<"approval">>([](const Expense& e, const Approval& a) {
        return PayoutRequest{e.expense_id, e.employee, a.approved ? e.amount_cents : 0};
    }),
    pgflow::subflow<"payout", pgflow::after<"payout_request">>(payout),
    // The bank settles the transfer; a pause that holds no worker and survives restarts.
    pgflow::sleep<"settle", pgflow::after<"payout">>(
        [](const Expense&, const decltype(payout)::output_type&) { return std::chrono::seconds{2}; }),
    pgflow::step<"notify", pgflow::after<"approval", "payout", "settle">>(
        [](const Expense& e, const Approval& a, const decltype(payout)::output_type& paid, const std::string& settled) {
            const auto& transfer = pgflow::get<"transfer">(paid);
            if (!a.approved)
                return "expense " + std::to_string(e.expense_id) + " rejected by " + a.approver + ": " + a.note;
            return "expense " + std::to_string(e.expense_id) + " approved by " + a.approver + ", paid " +
                   money(transfer.amount_cents) + " (" + transfer.transfer_id + "), settled at " + settled;
        }));

}  // namespace examples
