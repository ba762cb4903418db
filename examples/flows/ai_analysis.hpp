#pragma once
// A flow built at run time. An agent (an LLM, a configuration file, a user in a web form) writes a
// plan: which steps, in which order, with which handler from a catalogue the program knows.
// build_flow(plan) turns the plan into a pgflow::dynamic_flow; it registers and runs like a
// compiled flow, with JSON in and out.
//
// The default plan reviews a product (ex_pgflow's "ai_analysis" workflow):
//
//   fetch_data ──► analyze (one task per review) ──► summarize
//
// The "AI" is the word-list sentiment of text_analysis.hpp, so that the example runs offline and
// can check its result.

#include "text_analysis.hpp"

#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json.hpp>

#include <array>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

inline constexpr std::string_view default_ai_analysis_plan = R"({
  "slug": "ai_analysis",
  "timeout": 120,
  "steps": [
    {"slug": "fetch_data", "handler": "load_reviews"},
    {"slug": "analyze", "handler": "score_review", "map": "fetch_data", "timeout": 300},
    {"slug": "summarize", "handler": "aggregate_scores", "after": ["analyze"]}
  ]
})";

struct review {
    std::string_view product, text;
    int stars;
};
/// The "reviews database" load_reviews reads.
inline constexpr std::array<review, 6> review_corpus{{
    {"grinder", "Excellent grinder, fast and quiet. The best purchase this year.", 5},
    {"grinder", "Good burrs and a simple design. Works great every morning.", 4},
    {"grinder", "The motor failed after a week and support was slow. Returned it.", 1},
    {"grinder", "Reliable, and the coffee tastes great.", 5},
    {"kettle", "Noisy and slow to boil.", 2},
    {"kettle", "Broken lid on arrival, the worst kettle I have owned.", 1},
}};

/// The handlers a plan may name. Inputs and outputs are JSON (docs/registration.md: a single step gets
/// {"run": <flow input>, "<dependency>": <its output>, …}, a map task gets one array element).
inline const std::map<std::string, pgflow::json_handler, std::less<>>& ai_analysis_catalogue() {
    static const std::map<std::string, pgflow::json_handler, std::less<>> catalogue{
        {"load_reviews",
         [](const boost::json::value& input, const pgflow::task_context&) -> boost::json::value {
             const auto& product = input.at("run").at("product").as_string();
             boost::json::array reviews;
             for (std::size_t i = 0; i < review_corpus.size(); ++i)
                 if (review_corpus[i].product == product)
                     reviews.push_back(boost::json::object{
                         {"id", i}, {"text", review_corpus[i].text}, {"stars", review_corpus[i].stars}});
             if (reviews.empty()) throw std::runtime_error("no reviews for product \"" + std::string(product) + "\"");
             return reviews;
         }},
        {"score_review",
         [](const boost::json::value& review, const pgflow::task_context&) -> boost::json::value {
             const auto sentiment = analyze_sentiment(review.at("text").as_string());
             return boost::json::object{
                 {"id", review.at("id")}, {"stars", review.at("stars")}, {"sentiment", pgflow::to_json(sentiment)}};
         }},
        {"aggregate_scores",
         [](const boost::json::value& input, const pgflow::task_context&) -> boost::json::value {
             const auto& scores = input.at("analyze").as_array();
             int positive = 0, negative = 0;
             double stars = 0;
             for (const auto& s : scores) {
                 const double score = s.at("sentiment").at("score").to_number<double>();
                 positive += score > 0;
                 negative += score < 0;
                 stars += s.at("stars").to_number<double>();
             }
             const auto n = static_cast<double>(scores.size());
             return boost::json::object{{"product", input.at("run").at("product")},
                                        {"reviews", scores.size()},
                                        {"positive", positive},
                                        {"negative", negative},
                                        {"average_stars", n > 0 ? stars / n : 0.0},
                                        {"verdict", positive > negative   ? "mostly positive"
                                                    : negative > positive ? "mostly negative"
                                                                          : "mixed"}};
         }},
    };
    return catalogue;
}

namespace detail {
inline std::optional<int> optional_int(const boost::json::object& o, std::string_view key, std::string_view where) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_int64())
        throw pgflow::definition_error("plan: " + std::string(where) + ": \"" + std::string(key) +
                                       "\" must be an integer");
    return static_cast<int>(v->as_int64());
}
inline const boost::json::string& required_string(const boost::json::object& o, std::string_view key,
                                                  std::string_view where) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string())
        throw pgflow::definition_error("plan: " + std::string(where) + ": \"" + std::string(key) +
                                       "\" must be a string");
    return v->as_string();
}
}  // namespace detail

/// The flow a plan describes. Throws pgflow::definition_error naming what is wrong: a missing or
/// mistyped key, a handler the catalogue lacks, and whatever dynamic_flow rejects (bad slugs,
/// unknown dependencies, cycles, a map with two dependencies).
inline pgflow::dynamic_flow build_flow(const boost::json::value& plan_value) {
    const auto* plan = plan_value.if_object();
    if (plan == nullptr) throw pgflow::definition_error("plan: must be a JSON object");
    pgflow::dynamic_flow flow{
        std::string(detail::required_string(*plan, "slug", "the plan")),
        pgflow::flow_options{.max_attempts = detail::optional_int(*plan, "max_attempts", "the plan"),
                             .base_delay = detail::optional_int(*plan, "base_delay", "the plan"),
                             .timeout = detail::optional_int(*plan, "timeout", "the plan")}};
    const auto* steps = plan->if_contains("steps");
    if (steps == nullptr || !steps->is_array() || steps->as_array().empty())
        throw pgflow::definition_error("plan: \"steps\" must be a non-empty array");
    for (const auto& step_value : steps->as_array()) {
        const auto* step = step_value.if_object();
        if (step == nullptr) throw pgflow::definition_error("plan: every step must be a JSON object");
        pgflow::dynamic_step s;
        s.slug = detail::required_string(*step, "slug", "a step");
        const std::string where = "step \"" + s.slug + "\"";
        const auto& handler_name = detail::required_string(*step, "handler", where);
        const auto& catalogue = ai_analysis_catalogue();
        const auto handler = catalogue.find(std::string_view(handler_name));
        if (handler == catalogue.end()) {
            std::string known;
            for (const auto& [name, h] : catalogue) known += (known.empty() ? "" : ", ") + name;
            throw pgflow::definition_error("plan: " + where + ": unknown handler \"" + std::string(handler_name) +
                                           "\" (the catalogue has: " + known + ")");
        }
        s.handler = handler->second;
        if (step->contains("map")) {
            s.type = pgflow::step_type::map;
            s.dependencies.emplace_back(detail::required_string(*step, "map", where));
        }
        if (const auto* after = step->if_contains("after")) {
            if (!after->is_array())
                throw pgflow::definition_error("plan: " + where + ": \"after\" must be an array of step slugs");
            for (const auto& d : after->as_array()) {
                if (!d.is_string())
                    throw pgflow::definition_error("plan: " + where + ": \"after\" must be an array of step slugs");
                s.dependencies.emplace_back(d.as_string());
            }
        }
        s.options = {.max_attempts = detail::optional_int(*step, "max_attempts", where),
                     .base_delay = detail::optional_int(*step, "base_delay", where),
                     .timeout = detail::optional_int(*step, "timeout", where),
                     .start_delay = detail::optional_int(*step, "start_delay", where)};
        flow.add(std::move(s));
    }
    static_cast<void>(flow.shape());  // reports unknown dependencies and cycles now, not at registration
    return flow;
}

inline pgflow::dynamic_flow ai_analysis() { return build_flow(boost::json::parse(default_ai_analysis_plan)); }

}  // namespace examples
