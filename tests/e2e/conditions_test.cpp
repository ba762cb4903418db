// pgflow 0.14's conditional steps and graceful failure end to end, with real workers: a branching
// flow runs exactly one branch and a step depending on both gets std::nullopt for the skipped one;
// a step whose task exhausts its attempts with when_exhausted skip is skipped (handler_failed) and
// its dependent runs without it; a skippable leaf reads as std::optional in the typed run output.
// The same with dynamic flows, and registration's comparison of the conditions a database has.
// (Against pgflow 0.8.1's own schema, which has no conditions: interop_test.cpp.)

#include "e2e_support.hpp"

#include <pgflow/dsl.hpp>
#include <pgflow/dynamic_flow.hpp>

#include <boost/hana/adapt_struct.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>

using namespace e2e;

namespace cond {
struct Order {
    int id = 0;
    int amount = 0;
};
struct Verdict {
    bool approved = false;
    std::string reason;
};
struct Charge {
    std::string charge_id;
    int amount = 0;
};
struct Summary {
    std::string outcome;
};
struct Account {
    int points = 0;
    bool vip = false;
};
}  // namespace cond
BOOST_HANA_ADAPT_STRUCT(cond::Order, id, amount);
BOOST_HANA_ADAPT_STRUCT(cond::Verdict, approved, reason);
BOOST_HANA_ADAPT_STRUCT(cond::Charge, charge_id, amount);
BOOST_HANA_ADAPT_STRUCT(cond::Summary, outcome);
BOOST_HANA_ADAPT_STRUCT(cond::Account, points, vip);

namespace {

using boost::json::object;
using boost::json::value;

/// A step's status and skip reason ("-" when none), from the database.
std::string step_row(pgflow::pq::connection& c, const pgflow::run_id& run, std::string_view step) {
    const auto r = c.execute(
        "SELECT status || ' ' || coalesce(skip_reason, '-') FROM pgflow.step_states "
        "WHERE run_id = $1::uuid AND step_slug = $2",
        run, step);
    return r.empty() ? "(no step state)" : std::string(r.text(0, 0));
}

long long tasks_of(pgflow::pq::connection& c, const pgflow::run_id& run, std::string_view step) {
    return scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = $2", run, step);
}

// --- dynamic flows (pgflow::step_conditions) -----------------------------------------------------

pgflow::dynamic_flow dynamic_checkout() {
    const object approved{{"fraud_check", {{"approved", true}}}};
    pgflow::dynamic_flow f{"cond_dynamic_checkout"};
    f.step("fraud_check",
           [](const value& in) {
               return value{{"approved", in.at("run").at("amount").to_number<int>() < 1000}};
           })
        .step(
            "charge", {"fraud_check"}, [](const value& in) { return value(in.at("run").at("amount")); },
            pgflow::step_conditions{.only_if = approved})
        .step(
            "notify_rejection", {"fraud_check"}, [](const value&) { return value("rejected"); },
            pgflow::step_conditions{.only_if_not = approved})
        .step("summary", {"charge", "notify_rejection"}, [](const value& in) {
            // a skipped dependency has no key in the input
            const auto& o = in.as_object();
            return value{{"charged", o.contains("charge")}, {"rejected", o.contains("notify_rejection")}};
        });
    return f;
}

TEST(conditions, a_dynamic_branching_flow_runs_one_branch_and_skips_the_other) {
    database db;
    pgflow::client client{db.options()};
    const auto flow = dynamic_checkout();
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    auto c = db.connect();

    const auto approved = client.start(flow, value{{"amount", 500}});
    EXPECT_EQ(client.wait(approved, 30s), boost::json::parse(R"({"summary":{"charged":true,"rejected":false}})"));
    EXPECT_EQ(step_row(c, approved, "charge"), "completed -");
    EXPECT_EQ(step_row(c, approved, "notify_rejection"), "skipped condition_unmet");
    EXPECT_EQ(tasks_of(c, approved, "notify_rejection"), 0) << "a step skipped by its condition never gets a task";

    const auto rejected = client.start(flow, value{{"amount", 5000}});
    EXPECT_EQ(client.wait(rejected, 30s), boost::json::parse(R"({"summary":{"charged":false,"rejected":true}})"));
    const auto state = client.status(rejected);
    const pgflow::step_state* charge = state.step("charge");
    ASSERT_NE(charge, nullptr);
    EXPECT_EQ(charge->status, pgflow::step_status::skipped);
    EXPECT_EQ(charge->skip_reason, "condition_unmet");
    ASSERT_TRUE(charge->skipped_at);
    EXPECT_GE(*charge->skipped_at, charge->created_at);
    EXPECT_FALSE(charge->completed_at);
    EXPECT_EQ(state.step("notify_rejection")->status, pgflow::step_status::completed);
    EXPECT_FALSE(state.step("notify_rejection")->skip_reason);
}

TEST(conditions, registration_compares_the_conditions_the_database_has) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(dynamic_checkout());
    // jsonb stores the patterns in its own text; the same flow verifies.
    EXPECT_NO_THROW(client.ensure_registered(dynamic_checkout()));
    auto c = db.connect();
    EXPECT_EQ(c.execute("SELECT required_input_pattern::text, when_unmet, when_exhausted FROM pgflow.steps "
                        "WHERE flow_slug = 'cond_dynamic_checkout' AND step_slug = 'charge'")
                  .text(0, 0),
              R"({"fraud_check": {"approved": true}})");

    pgflow::dynamic_flow changed{"cond_dynamic_checkout"};
    changed.step("fraud_check", [](const value& in) { return in; })
        .step(
            "charge", {"fraud_check"}, [](const value& in) { return in; },
            pgflow::step_conditions{.only_if = object{{"fraud_check", {{"approved", false}}}},
                                    .when_exhausted = pgflow::condition_mode::skip})
        .step(
            "notify_rejection", {"fraud_check"}, [](const value& in) { return in; },
            pgflow::step_conditions{.only_if_not = object{{"fraud_check", {{"approved", true}}}},
                                    .when_unmet = pgflow::condition_mode::skip})  // the default: no difference
        .step("summary", {"charge", "notify_rejection"}, [](const value& in) { return in; });
    try {
        client.ensure_registered(changed);
        ADD_FAILURE() << "no shape_mismatch_error";
    } catch (const pgflow::shape_mismatch_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("step \"charge\": required_input_pattern (only_if) registered "
                               R"({"fraud_check":{"approved":true}}, defined {"fraud_check":{"approved":false}})"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("step \"charge\": when_exhausted registered fail, defined skip"), std::string::npos)
            << message;
        EXPECT_EQ(message.find("notify_rejection"), std::string::npos) << message;
    }
}

// --- the compile-time DSL (pgflow::only_if and friends) -------------------------------------------

constexpr auto checkout = pgflow::flow<"cond_checkout", cond::Order>(
    pgflow::step<"fraud_check">([](const cond::Order& o) {
        return cond::Verdict{o.amount < 1000, o.amount < 1000 ? "fine" : "amount too large"};
    }),
    pgflow::step<"charge", pgflow::after<"fraud_check">, pgflow::only_if<R"({"fraud_check": {"approved": true}})">>(
        [](const cond::Order& o, const cond::Verdict&) {
            return cond::Charge{"ch-" + std::to_string(o.id), o.amount};
        }),
    pgflow::step<"notify_rejection", pgflow::after<"fraud_check">,
                 pgflow::only_if_not<R"({"fraud_check": {"approved": true}})">>(
        [](const cond::Order& o, const cond::Verdict& v) {
            return "order " + std::to_string(o.id) + " rejected: " + v.reason;
        }),
    pgflow::step<"summary", pgflow::after<"charge", "notify_rejection">>(
        [](const cond::Order&, const std::optional<cond::Charge>& charge, const std::optional<std::string>& rejection) {
            if (charge) return cond::Summary{"charged " + charge->charge_id + " " + std::to_string(charge->amount)};
            return cond::Summary{rejection.value_or("neither branch ran")};
        }));

TEST(conditions, a_branching_flow_runs_charge_for_approved_and_notify_rejection_for_rejected_orders) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(checkout);
    worker_thread worker{db, checkout};
    auto c = db.connect();

    const auto approved = client.start(checkout, cond::Order{1, 500});
    const auto approved_out = client.wait(checkout, approved, 30s);
    EXPECT_EQ(pgflow::get<"summary">(approved_out).outcome, "charged ch-1 500");
    EXPECT_EQ(step_row(c, approved, "fraud_check"), "completed -");
    EXPECT_EQ(step_row(c, approved, "charge"), "completed -");
    EXPECT_EQ(step_row(c, approved, "notify_rejection"), "skipped condition_unmet");
    EXPECT_EQ(step_row(c, approved, "summary"), "completed -");
    EXPECT_EQ(tasks_of(c, approved, "notify_rejection"), 0);

    const auto rejected = client.start(checkout, cond::Order{2, 5000});
    const auto rejected_out = client.wait(checkout, rejected, 30s);
    EXPECT_EQ(pgflow::get<"summary">(rejected_out).outcome, "order 2 rejected: amount too large");
    EXPECT_EQ(step_row(c, rejected, "charge"), "skipped condition_unmet");
    EXPECT_EQ(step_row(c, rejected, "notify_rejection"), "completed -");
    EXPECT_EQ(tasks_of(c, rejected, "charge"), 0);
}

std::atomic<int> enrich_attempts{0};

constexpr auto flaky = pgflow::flow<"cond_flaky", int>(
    pgflow::step<"lookup">([](int n) { return n * 10; }),
    pgflow::step<"enrich", pgflow::after<"lookup">, pgflow::when_exhausted<pgflow::skip>>(
        pgflow::step_options{.max_attempts = 2, .base_delay = 0},
        [](int, int) -> int {
            ++enrich_attempts;
            throw std::runtime_error("enrichment service unavailable");
        }),
    pgflow::step<"report", pgflow::after<"enrich", "lookup">>([](int, std::optional<int> enriched, int looked_up) {
        return enriched ? "enriched " + std::to_string(*enriched) : "looked up " + std::to_string(looked_up) + " only";
    }));

TEST(conditions, an_exhausted_step_with_when_exhausted_skip_is_skipped_and_its_dependent_runs_without_it) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flaky);
    worker_thread worker{db, flaky};
    auto c = db.connect();
    enrich_attempts = 0;

    const auto run = client.start(flaky, 4);
    const auto out = client.wait(flaky, run, 30s);
    EXPECT_EQ(pgflow::get<"report">(out), "looked up 40 only");
    EXPECT_EQ(enrich_attempts.load(), 2);
    EXPECT_EQ(step_row(c, run, "enrich"), "skipped handler_failed");
    EXPECT_EQ(
        scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'enrich'", run),
        2);
    const auto state = client.status(run);
    EXPECT_EQ(state.status, pgflow::run_status::completed);
    const pgflow::step_state* enrich = state.step("enrich");
    ASSERT_NE(enrich, nullptr);
    EXPECT_EQ(enrich->status, pgflow::step_status::skipped);
    EXPECT_EQ(enrich->skip_reason, "handler_failed");
    EXPECT_EQ(enrich->error_message, "enrichment service unavailable");
    EXPECT_TRUE(enrich->skipped_at);
    EXPECT_EQ(state.step("report")->status, pgflow::step_status::completed);
}

constexpr auto loyalty = pgflow::flow<"cond_loyalty", int>(
    pgflow::step<"account">([](int points) {
        return cond::Account{points, points >= 100};
    }),
    pgflow::step<"bonus", pgflow::after<"account">, pgflow::only_if<R"({"account": {"vip": true}})">>(
        [](int, const cond::Account& a) { return a.points / 10; }),
    pgflow::step<"greeting", pgflow::after<"account">>(
        [](int, const cond::Account& a) { return std::string(a.vip ? "welcome back" : "hello"); }));

TEST(conditions, a_skippable_leaf_reads_as_optional_in_the_typed_output) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(loyalty);
    worker_thread worker{db, loyalty};

    const auto vip = client.wait(loyalty, client.start(loyalty, 250), 30s);
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(pgflow::get<"bonus">(vip))>, std::optional<int>>);
    EXPECT_EQ(pgflow::get<"bonus">(vip), std::optional<int>(25));
    EXPECT_EQ(pgflow::get<"greeting">(vip), "welcome back");

    const auto plain_run = client.start(loyalty, 20);
    const auto plain = client.wait(loyalty, plain_run, 30s);
    EXPECT_FALSE(pgflow::get<"bonus">(plain).has_value());
    EXPECT_EQ(pgflow::get<"greeting">(plain), "hello");
    // pgflow leaves the skipped leaf out of the run's output.
    auto c = db.connect();
    EXPECT_EQ(c.execute("SELECT output::text FROM pgflow.runs WHERE run_id = $1::uuid", plain_run).text(0, 0),
              R"({"greeting": "hello"})");
}

}  // namespace
