// Conditional steps end to end: three purchases go through fraud screening. An approved one is
// charged and earns loyalty points; a rejected one is not charged and its customer is notified; for
// mallory the loyalty partner is down, so that step is skipped after its 2 attempts and the order
// still completes. What ran and what was skipped (and why) is read back from pgflow.step_states.

#include "flows/fraud_screening.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using examples::fraud_screening;

namespace {

/// "charge ran, notify_rejection skipped (condition_unmet), …" for one run.
std::string step_outcomes(pgflow::pq::connection& db, const pgflow::run_id& run) {
    const auto rows = db.execute(
        "SELECT ss.step_slug, ss.status, ss.skip_reason FROM pgflow.step_states AS ss "
        "JOIN pgflow.steps AS s USING (flow_slug, step_slug) WHERE ss.run_id = $1::uuid ORDER BY s.step_index",
        run);
    std::string text;
    for (int i = 0; i < rows.rows(); ++i) {
        if (!text.empty()) text += ", ";
        text += rows.get<std::string>(i, 0) + " " + rows.get<std::string>(i, 1);
        if (const auto reason = rows.get<std::optional<std::string>>(i, 2)) text += " (" + *reason + ")";
    }
    return text;
}

}  // namespace

int main() try {
    pgflow::client client;
    client.install_schema();
    client.ensure_registered(fraud_screening);
    examples::background_worker worker{client.options(), fraud_screening};

    const std::vector<examples::Purchase> purchases{
        {2001, "ada", 4'500, "NL"},       // low risk: charged, points
        {2002, "eve", 250'000, "XX"},     // high risk: rejected, customer notified
        {2003, "mallory", 12'000, "NL"},  // charged; the loyalty partner fails twice: skipped
    };
    std::vector<pgflow::run_id> runs;
    for (const auto& p : purchases) runs.push_back(client.start(fraud_screening, p));
    std::cout << "fraud_screening: " << runs.size() << " purchases\n";
    examples::progress_line progress{client.options(), "fraud_screening", runs};
    std::vector<examples::OrderSummary> summaries;
    for (const auto& run : runs) summaries.push_back(pgflow::get<"summary">(client.wait(fraud_screening, run, 60s)));
    progress.finish();

    auto& db = client.connection();
    examples::checks check;
    const std::vector<std::string> expected_outcome{"charged", "rejected", "charged"};
    const std::vector<std::string> expected_steps{
        "score completed, charge completed, notify_rejection skipped (condition_unmet), loyalty_points completed, "
        "summary completed",
        "score completed, charge skipped (condition_unmet), notify_rejection completed, loyalty_points skipped "
        "(condition_unmet), summary completed",
        "score completed, charge completed, notify_rejection skipped (condition_unmet), loyalty_points skipped "
        "(handler_failed), summary completed"};
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto& s = summaries[i];
        const std::string steps = step_outcomes(db, runs[i]);
        std::cout << "  order " << s.order_id << ": " << s.outcome << ", " << s.points << " points"
                  << (s.points_pending ? " (loyalty partner unavailable)" : "") << "\n    " << steps << '\n';
        check.expect(s.outcome == expected_outcome[i],
                     "order " + std::to_string(s.order_id) + " was " + s.outcome + ", expected " + expected_outcome[i]);
        check.expect(steps == expected_steps[i], "order " + std::to_string(s.order_id) + ": " + steps);
    }
    check.expect(summaries[0].points == 4 && !summaries[0].points_pending, "order 2001 did not earn 4 points");
    check.expect(summaries[2].points_pending, "order 2003's loyalty step was not skipped");
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "fraud_screening: " << e.what() << '\n';
    return 1;
}
