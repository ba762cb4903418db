// Retries end to end: every charge fails its first attempt ("payment gateway timed out"), pgflow
// puts the task back in the queue for base_delay · 2^1 = 2 s, and the second attempt goes through.
// An order without lines fails validation with pgflow::permanent_error: one attempt, and its run fails.
//
//   validate → charge (fails attempt 1) → fulfill

#include "flows/order_processing.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <iostream>
#include <vector>

using namespace std::chrono_literals;
using examples::order_processing;

int main() try {
    pgflow::client client;
    client.install_schema();
    client.ensure_registered(order_processing);
    examples::background_worker worker{client.options(), order_processing};

    const std::vector<examples::Order> orders{
        {1001, "ada", {{"grinder", 1, 8900}, {"beans-1kg", 2, 2450}}},
        {1002, "grace", {{"kettle", 1, 5900}}},
        {1003, "linus", {{"filters", 10, 120}, {"scale", 1, 2999}}},
    };
    const examples::Order empty_order{1004, "nobody", {}};

    std::vector<pgflow::run_id> runs;
    for (const auto& order : orders) runs.push_back(client.start(order_processing, order));
    const auto doomed = client.start(order_processing, empty_order);
    runs.push_back(doomed);

    std::cout << "order_processing: " << runs.size() << " orders (each charge fails once and is retried)\n";
    examples::progress_line progress{client.options(), "order_processing", runs};
    std::vector<examples::Shipment> shipments;
    for (std::size_t i = 0; i < orders.size(); ++i)
        shipments.push_back(pgflow::get<"fulfill">(client.wait(order_processing, runs[i], 60s)));
    std::string doomed_error;
    try {
        client.wait(order_processing, doomed, 60s);
    } catch (const pgflow::run_failed_error& e) {
        doomed_error = e.what();
    }
    progress.finish();

    auto& db = client.connection();
    examples::checks check;
    for (std::size_t i = 0; i < orders.size(); ++i) {
        const auto& s = shipments[i];
        const auto expected_total = examples::validate_order(orders[i]).total_cents;
        std::cout << "  order " << s.order_id << ": " << s.status << ", charged " << s.charged_cents / 100 << '.'
                  << (s.charged_cents % 100 < 10 ? "0" : "") << s.charged_cents % 100 << " in attempt "
                  << s.charge_attempts << " (" << s.transaction_id << ")\n";
        check.expect(s.order_id == orders[i].order_id && s.status == "shipped",
                     "order " + std::to_string(orders[i].order_id) + " was not shipped");
        check.expect(s.charged_cents == expected_total, "order " + std::to_string(s.order_id) + " charged " +
                                                            std::to_string(s.charged_cents) + ", expected " +
                                                            std::to_string(expected_total));
        check.expect(s.charge_attempts == 2, "order " + std::to_string(s.order_id) + " charged in attempt " +
                                                 std::to_string(s.charge_attempts));
        // What pgflow recorded: two attempts, the first one's error kept on the task.
        const auto task = db.execute(
            "SELECT attempts_count, error_message FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'charge'",
            runs[i]);
        check.expect(task.get<int>(0, 0) == 2,
                     "pgflow.step_tasks.attempts_count of charge is " + std::to_string(task.get<int>(0, 0)));
        check.expect(task.get<std::optional<std::string>>(0, 1) == "payment gateway timed out (attempt 1)",
                     "the charge task kept error_message \"" +
                         task.get<std::optional<std::string>>(0, 1).value_or("NULL") + "\"");
    }
    std::cout << "  order 1004: " << doomed_error << '\n';
    check.expect(doomed_error.find("in step \"validate\": order 1004 has no lines") != std::string::npos,
                 "order 1004 failed with \"" + doomed_error + "\"");
    check.expect(
        db.execute("SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'validate'",
                   doomed)
                .get<int>(0, 0) == 1,
        "validate of order 1004 was attempted more than once (it throws pgflow::permanent_error)");
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "order_processing: " << e.what() << '\n';
    return 1;
}
