// pgflow's example flow end to end: install the schema, register the flow, run a worker in this
// process, start twenty runs and print what each step made of its value.
//
//   rootStep (doubles the value) → normalStep (wraps it in an array) → thirdStep (counts it)

#include "flows/example_flow.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <iostream>
#include <vector>

using namespace std::chrono_literals;
using examples::example_flow;

int main() try {
    pgflow::client client;  // PGFLOW_DATABASE_URL, or the PG* variables as psql reads them
    client.install_schema();
    client.ensure_registered(example_flow);
    examples::background_worker worker{client.options(), example_flow};

    std::vector<pgflow::run_id> runs;
    for (int value = 1; value <= 20; ++value) runs.push_back(client.start(example_flow, {.value = value}));

    std::cout << "example_flow: " << runs.size() << " runs\n";
    examples::progress_line progress{client.options(), "example_flow", runs};
    std::vector<decltype(example_flow)::output_type> outputs;
    for (const auto& id : runs) outputs.push_back(client.wait(example_flow, id, 60s));
    progress.finish();

    // The run output holds the leaf step only; the database keeps every step's output.
    auto& db = client.connection();
    examples::checks check;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const int value = static_cast<int>(i) + 1;
        const auto doubled = pgflow::from_json<examples::RootOutput>(
            db.execute("SELECT output FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'rootStep'",
                       runs[i])
                .get<boost::json::value>(0, 0));
        const int final_value = pgflow::get<"thirdStep">(outputs[i]).finalValue;
        if (i < 3 || i + 1 == runs.size())
            std::cout << "  value " << value << ": rootStep doubled it to " << doubled.doubledValue
                      << ", thirdStep.finalValue = " << final_value << '\n';
        else if (i == 3)
            std::cout << "  ...\n";
        check.expect(doubled.doubledValue == 2 * value,
                     "rootStep of value " + std::to_string(value) + " gave " + std::to_string(doubled.doubledValue));
        check.expect(final_value == 1, "thirdStep of value " + std::to_string(value) + " gave finalValue " +
                                           std::to_string(final_value) + ", expected 1");
    }
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "example_flow: " << e.what() << '\n';
    return 1;
}
