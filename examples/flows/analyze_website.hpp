#pragma once
// The analysis diamond from pgflow's documentation: fetch a page, analyse its sentiment and
// summarise it in parallel, then save both to the database.
//
//   website ──► sentiment ──► saveToDb   (start_delay: its task becomes visible one second after
//          └──► summary ────┘              both dependencies are done)
//
// The flow options are the ones the documentation's compileFlow example prints
// (create_flow('analyze_website', max_attempts => 3, base_delay => 5, timeout => 10) and
// add_step(..., 'sentiment', ARRAY['website'], max_attempts => 5, timeout => 30)).
//
// So that the example runs offline, `website` reads pages from a small built-in site instead of
// the network, and `sentiment`/`summary` are a word list and a first-sentence extract instead of
// model calls. `saveToDb` really writes: one row per run in table website_analyses, upserted on
// the run id, so that a retried task does not save twice.

#include "text_analysis.hpp"

#include <pgflow/connection_options.hpp>
#include <pgflow/dsl.hpp>
#include <pgflow/task_context.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

struct WebsiteInput {
    std::string url;
};
struct WebsitePage {
    std::string url;
    std::string title;
    std::string content;
};
struct Summary {
    std::string text;
    int word_count = 0;
};
struct SavedAnalysis {
    long long row_id = 0;
    std::string url;
    double score = 0;
    std::string summary;
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::WebsiteInput, url);
BOOST_HANA_ADAPT_STRUCT(examples::WebsitePage, url, title, content);
BOOST_HANA_ADAPT_STRUCT(examples::Summary, text, word_count);
BOOST_HANA_ADAPT_STRUCT(examples::SavedAnalysis, row_id, url, score, summary);

namespace examples {

/// The site `website` "scrapes".
struct site_page {
    std::string_view url, title, content;
};
inline constexpr std::array<site_page, 3> offline_site{{
    {"https://example.com/launch", "Launch day",
     "Our new workflow engine is fast and reliable. Customers love the simple setup and the great "
     "documentation. Retries and timeouts work out of the box."},
    {"https://example.com/outage", "Incident report",
     "Yesterday the old queue failed during the peak hour. Jobs were lost and the recovery was slow and "
     "painful. We are sorry for the broken checkout."},
    {"https://example.com/changelog", "Changelog",
     "Version 0.1 adds map steps. The command line tool prints registration SQL. Workers report a "
     "heartbeat every five seconds."},
}};

inline WebsitePage fetch_page(const std::string& url) {
    for (const auto& page : offline_site)
        if (page.url == url) return {url, std::string(page.title), std::string(page.content)};
    throw std::runtime_error("GET " + url + ": 404 Not Found");
}

/// The first sentence (up to the first ". ") and the number of words.
inline Summary summarize_text(std::string_view text) {
    const auto end = text.find(". ");
    return {std::string(text.substr(0, end == std::string_view::npos ? text.size() : end + 1)),
            static_cast<int>(lower_case_words(text).size())};
}

/// The application table saveToDb writes to (created by the example program, not by pgflow).
inline constexpr std::string_view website_analyses_ddl = R"(
CREATE TABLE IF NOT EXISTS website_analyses (
  id bigserial PRIMARY KEY,
  run_id uuid NOT NULL UNIQUE,
  url text NOT NULL,
  sentiment double precision NOT NULL,
  summary text NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT now()
))";

inline SavedAnalysis save_analysis(const std::string& url, const Sentiment& sentiment, const Summary& summary,
                                   std::string_view run_id) {
    // One short connection per task keeps the example simple; a real application would use a pool.
    auto db = pgflow::connection_options{}.connect();
    const auto row = db.execute(R"(
INSERT INTO website_analyses (run_id, url, sentiment, summary) VALUES ($1::uuid, $2, $3::float8, $4)
ON CONFLICT (run_id) DO UPDATE SET url = excluded.url, sentiment = excluded.sentiment, summary = excluded.summary
RETURNING id)",
                                run_id, url, decimal(sentiment.score), summary.text);
    return {row.get<long long>(0, 0), url, sentiment.score, summary.text};
}

inline constexpr auto analyze_website = pgflow::flow<"analyze_website", WebsiteInput>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 5, .timeout = 10},
    pgflow::step<"website">([](const WebsiteInput& run) { return fetch_page(run.url); }),
    pgflow::step<"sentiment", pgflow::after<"website">>(
        pgflow::step_options{.max_attempts = 5, .timeout = 30},
        [](const WebsiteInput&, const WebsitePage& page) { return analyze_sentiment(page.content); }),
    pgflow::step<"summary", pgflow::after<"website">>(
        [](const WebsiteInput&, const WebsitePage& page) { return summarize_text(page.content); }),
    pgflow::step<"saveToDb", pgflow::after<"sentiment", "summary">>(
        pgflow::step_options{.start_delay = 1},
        [](const WebsiteInput& run, const Sentiment& sentiment, const Summary& summary,
           const pgflow::task_context& task) { return save_analysis(run.url, sentiment, summary, task.run_id); }));

}  // namespace examples
