// pgflow's map example end to end: every text of a run is normalized by a task of its own, then
// capitalized by a task of its own, and one last step summarizes them all.
//
//   normalize (map over the input) → capitalize (map over normalize) → summarize

#include "flows/text_processing.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using examples::text_processing;

namespace {

struct batch {
    std::vector<std::string> texts;
    std::vector<std::string> expected;
};

std::string quoted_list(const std::vector<std::string>& items) {
    return boost::json::serialize(pgflow::to_json(items));
}

}  // namespace

int main() try {
    pgflow::client client;
    client.install_schema();
    client.ensure_registered(text_processing);
    examples::background_worker worker{client.options(), text_processing};

    const std::vector<batch> batches{
        {{"  hello WORLD ", "PGFLOW runs on postgres", "\tmap steps fan OUT\n"},
         {"Hello world", "Pgflow runs on postgres", "Map steps fan out"}},
        {{"ONE", "two", " Three "}, {"One", "Two", "Three"}},
        {{}, {}},  // an empty array: both maps have no tasks and complete at once
    };
    std::vector<pgflow::run_id> runs;
    for (const auto& b : batches) runs.push_back(client.start(text_processing, b.texts));
    // A larger batch, to give the workers something to chew on.
    std::vector<std::string> many;
    for (int i = 0; i < 200; ++i) many.push_back("  TEXT number " + std::to_string(i) + "  ");
    runs.push_back(client.start(text_processing, many));

    std::cout << "text_processing: " << runs.size() << " runs\n";
    examples::progress_line progress{client.options(), "text_processing", runs};
    std::vector<examples::TextSummary> summaries;
    for (const auto& id : runs) summaries.push_back(pgflow::get<"summarize">(client.wait(text_processing, id, 60s)));
    progress.finish();

    examples::checks check;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        const auto& s = summaries[i];
        std::cout << "  " << quoted_list(batches[i].texts) << "\n    -> processed " << s.processed << ": "
                  << quoted_list(s.results) << '\n';
        check.expect(s.results == batches[i].expected, "batch " + std::to_string(i) + " gave " +
                                                           quoted_list(s.results) + ", expected " +
                                                           quoted_list(batches[i].expected));
        check.expect(s.processed == static_cast<int>(batches[i].expected.size()),
                     "processed count of batch " + std::to_string(i));
    }
    const auto& big = summaries.back();
    std::cout << "  200 texts -> processed " << big.processed << ", first \"" << big.results.front() << "\", last \""
              << big.results.back() << "\"\n";
    check.expect(big.processed == 200, "the 200-text batch processed " + std::to_string(big.processed));
    for (int i = 0; i < 200 && i < big.processed; ++i)
        check.expect(big.results[static_cast<std::size_t>(i)] == "Text number " + std::to_string(i),
                     "result " + std::to_string(i) + " of the 200-text batch is \"" +
                         big.results[static_cast<std::size_t>(i)] + "\"");
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "text_processing: " << e.what() << '\n';
    return 1;
}
