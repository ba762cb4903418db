// The analysis diamond end to end: `sentiment` and `summary` both wait for `website` and run side by
// side; `saveToDb` waits for both, then for its start_delay of one second, and writes a row into
// the application's own table, website_analyses.
//
//   website → {sentiment, summary} → saveToDb

#include "flows/analyze_website.hpp"
#include "support/demo.hpp"

#include <pgflow/client.hpp>

#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using examples::analyze_website;

int main() try {
    pgflow::client client;
    client.install_schema();
    client.ensure_registered(analyze_website);
    client.connection().execute(examples::website_analyses_ddl);
    examples::background_worker worker{client.options(), analyze_website};

    struct page {
        std::string url;
        int expected_sign;  // of the sentiment score
    };
    const std::vector<page> pages{
        {"https://example.com/launch", 1}, {"https://example.com/outage", -1}, {"https://example.com/changelog", 0}};
    std::vector<pgflow::run_id> runs;
    for (const auto& p : pages) runs.push_back(client.start(analyze_website, {.url = p.url}));

    std::cout << "analyze_website: " << runs.size() << " pages\n";
    examples::progress_line progress{client.options(), "analyze_website", runs};
    std::vector<examples::SavedAnalysis> saved;
    for (const auto& id : runs) saved.push_back(pgflow::get<"saveToDb">(client.wait(analyze_website, id, 60s)));
    progress.finish();

    auto& db = client.connection();
    examples::checks check;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        const auto& s = saved[i];
        std::cout << "  " << s.url << ": sentiment " << examples::decimal(s.score) << ", \"" << s.summary << "\" (row "
                  << s.row_id << ")\n";
        const int sign = (s.score > 0) - (s.score < 0);
        check.expect(sign == pages[i].expected_sign, s.url + ": sentiment " + examples::decimal(s.score));
        check.expect(s.url == pages[i].url, "saveToDb saved " + s.url + " for " + pages[i].url);
        // The row saveToDb wrote, and the start delay: its task was claimed at least a second after
        // the step became ready.
        const auto row = db.execute(R"(
SELECT a.url, a.sentiment, a.summary,
       extract(epoch FROM t.started_at - s.started_at)::float8
  FROM website_analyses a
  JOIN pgflow.step_states s ON s.run_id = a.run_id AND s.step_slug = 'saveToDb'
  JOIN pgflow.step_tasks t ON t.run_id = a.run_id AND t.step_slug = 'saveToDb'
 WHERE a.id = $1 AND a.run_id = $2::uuid)",
                                    s.row_id, runs[i]);
        if (!check.expect(row.rows() == 1,
                          "website_analyses has no row " + std::to_string(s.row_id) + " for run " + runs[i].str()))
            continue;
        check.expect(row.get<std::string>(0, 0) == s.url && row.get<double>(0, 1) == s.score &&
                         row.get<std::string>(0, 2) == s.summary,
                     "row " + std::to_string(s.row_id) + " differs from saveToDb's output");
        check.expect(row.get<double>(0, 3) >= 1.0, "saveToDb's task started " +
                                                       examples::decimal(row.get<double>(0, 3)) +
                                                       " s after the step became ready, before its start_delay of 1 s");
    }
    return check.exit_code();
} catch (const std::exception& e) {
    std::cerr << "analyze_website: " << e.what() << '\n';
    return 1;
}
