// A flow built at run time from a plan (examples/flows/ai_analysis.hpp): the program reads the plan
// (a file given as the first argument, else the built-in one), builds a pgflow::dynamic_flow,
// registers it and runs it like any other flow; inputs and outputs are JSON.
//
//   fetch_data → analyze (one task per review) → summarize

#include "flows/ai_analysis.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

int main(int argc, char** argv) try {
    std::string plan_text(examples::default_ai_analysis_plan);
    if (argc > 1) {
        std::ifstream file(argv[1]);
        if (!file) throw std::runtime_error(std::string("cannot read the plan file ") + argv[1]);
        plan_text.assign(std::istreambuf_iterator<char>(file), {});
    }
    const pgflow::dynamic_flow flow = examples::build_flow(boost::json::parse(plan_text));
    std::cout << flow.slug() << ": planned " << flow.steps().size() << " steps:";
    for (const auto& step : flow.shape().steps)
        std::cout << ' ' << step.slug << (step.type == pgflow::step_type::map ? " (map)" : "");
    std::cout << '\n';

    pgflow::client client;
    client.install_schema();
    client.ensure_registered(flow);
    examples::background_worker worker{client.options(), flow};

    struct product {
        std::string name, verdict;
        int reviews, positive, negative;
    };
    const std::vector<product> products{{"grinder", "mostly positive", 4, 3, 1},
                                        {"kettle", "mostly negative", 2, 0, 2}};
    std::vector<pgflow::run_id> runs;
    for (const auto& p : products) runs.push_back(client.start(flow, boost::json::object{{"product", p.name}}));

    examples::progress_line progress{client.options(), flow.slug(), runs};
    std::vector<boost::json::value> outputs;
    for (const auto& id : runs) outputs.push_back(client.wait(flow, id, 60s));
    progress.finish();

    examples::checks check;
    for (std::size_t i = 0; i < products.size(); ++i) {
        const auto* summary = outputs[i].is_object() ? outputs[i].as_object().if_contains("summarize") : nullptr;
        if (!check.expect(summary != nullptr && summary->is_object(), "the run output has no summarize object"))
            continue;
        const auto& s = summary->as_object();
        std::cout << "  " << products[i].name << ": " << s.at("reviews").to_number<int>() << " reviews, "
                  << s.at("positive").to_number<int>() << " positive, " << s.at("negative").to_number<int>()
                  << " negative, " << examples::decimal(s.at("average_stars").to_number<double>())
                  << " stars on average: " << std::string_view(s.at("verdict").as_string()) << '\n';
        check.expect(s.at("reviews").to_number<int>() == products[i].reviews &&
                         s.at("positive").to_number<int>() == products[i].positive &&
                         s.at("negative").to_number<int>() == products[i].negative &&
                         s.at("verdict") == boost::json::value(products[i].verdict),
                     products[i].name + ": expected " + std::to_string(products[i].reviews) + " reviews, " +
                         std::to_string(products[i].positive) + " positive, " + std::to_string(products[i].negative) +
                         " negative, \"" + products[i].verdict + "\"");
    }
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "ai_analysis: " << e.what() << '\n';
    return 1;
}
