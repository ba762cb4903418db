// Expense approvals (examples/flows/approvals.hpp): each run waits at its `approval` signal step,
// holding no worker, until an approver answers; then a child run of the `payout` flow pays, a 2 s
// durable sleep lets the bank settle, and `notify` reports. This program plays the approvers: it
// approves one expense with `pgflow signal` (the command line, when scripts/demo names it in
// PGFLOW_CLI; else the same call through the C++ client) and rejects the other with the typed
// client.signal<"approval">. A value of the wrong shape is refused and changes nothing.

#include "flows/approvals.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using examples::expense_approval;

namespace {

// Polls until the run's approval step waits (its review step runs first).
bool wait_for_approval_step(pgflow::client& client, const pgflow::run_id& id) {
    for (int i = 0; i < 300; ++i) {
        for (const auto& w : client.waiting(id))
            if (w.step_slug == "approval") return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

// Shell quoting for the command shown (and run): single quotes around JSON.
std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Approves through the command line when PGFLOW_CLI names it, else through the client with the
// same JSON. Returns whether the signal went through.
bool approve_with_the_command_line(pgflow::client& client, const pgflow::run_id& id, const std::string& json) {
    const std::string command = "pgflow signal " + id.str() + " approval " + quoted(json);
    std::cout << "  $ " << command << '\n' << std::flush;
    if (const char* cli = std::getenv("PGFLOW_CLI"); cli != nullptr && *cli != '\0') {
        const std::string run = quoted(cli) + command.substr(6);
        return std::system(run.c_str()) == 0;
    }
    client.signal(id, "approval", boost::json::parse(json));
    std::cout << "signalled step approval of run " << id.str() << "  (sent by pgflow::client::signal)\n";
    return true;
}

}  // namespace

int main() try {
    pgflow::client client;
    client.install_schema();
    client.ensure_registered(expense_approval);  // registers its child flow, payout, first
    examples::background_worker worker{client.options(), expense_approval};
    examples::background_worker payout_worker{client.options(), examples::payout};
    examples::checks check;

    const examples::Expense travel{501, "ada", 48000, "a train ticket to the conference"};
    const examples::Expense gadget{502, "linus", 249900, "a gold-plated keyboard"};
    const auto travel_run = client.start(expense_approval, travel);
    const auto gadget_run = client.start(expense_approval, gadget);
    std::cout << "approvals: 2 expenses wait for their approver (no worker thread or connection is held)\n";
    check.expect(wait_for_approval_step(client, travel_run), "expense 501 never waited for its approval");
    check.expect(wait_for_approval_step(client, gadget_run), "expense 502 never waited for its approval");
    for (const auto& id : {travel_run, gadget_run}) {
        const auto state = client.status(id);
        for (const auto& w : state.waiting)
            std::cout << "  run " << id.str() << ": step " << w.step_slug << " waits for a " << w.kind << " since "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() -
                                                                               w.waiting_since)
                             .count()
                      << " ms\n";
    }

    // A value of the wrong shape is refused by the database, naming what is wrong.
    try {
        client.signal(travel_run, "approval", boost::json::parse(R"({"approved": "yes"})"));
        check.expect(false, "a wrong-shaped approval was accepted");
    } catch (const pgflow::signal_refused_error& e) {
        std::cout << "  refused: " << e.server_message() << '\n';
    }

    check.expect(approve_with_the_command_line(
                     client, travel_run, R"({"approved": true, "approver": "grace", "note": "have a good trip"})"),
                 "pgflow signal failed");
    client.signal<"approval">(expense_approval, gadget_run,
                              examples::Approval{false, "finance", "keyboards are not gold-plated here"});
    std::cout << "  client.signal<\"approval\">(expense_approval, " << gadget_run.str()
              << ", Approval{false, \"finance\", ...})\n";

    const auto travel_out = client.wait(expense_approval, travel_run, 60s);
    const auto gadget_out = client.wait(expense_approval, gadget_run, 60s);
    const auto& travel_note = pgflow::get<"notify">(travel_out);
    const auto& gadget_note = pgflow::get<"notify">(gadget_out);
    std::cout << "  " << travel_note << '\n' << "  " << gadget_note << '\n';
    check.expect(travel_note.starts_with("expense 501 approved by grace, paid 480.00 (tr-501-ada), settled at "),
                 "expense 501: " + travel_note);
    check.expect(gadget_note == "expense 502 rejected by finance: keyboards are not gold-plated here",
                 "expense 502: " + gadget_note);

    // The payout ran as a child run of each expense's run.
    const auto children = client.connection().execute(
        "SELECT count(*) FROM pgflow_cpp.run_control WHERE parent_run_id = ANY($1::uuid[]) AND parent_step_slug = "
        "'payout'",
        std::vector<std::string>{travel_run.str(), gadget_run.str()});
    check.expect(children.get<long long>(0, 0) == 2,
                 "expected 2 payout child runs, found " + std::to_string(children.get<long long>(0, 0)));
    const auto settle = client.connection().execute(
        "SELECT extract(epoch FROM completed_at - started_at)::float8 FROM pgflow.step_tasks WHERE run_id = $1::uuid "
        "AND step_slug = 'settle'",
        travel_run);
    check.expect(settle.get<double>(0, 0) >= 2.0, "the settle sleep took " + std::to_string(settle.get<double>(0, 0)));
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "approvals: " << e.what() << '\n';
    return 1;
}
