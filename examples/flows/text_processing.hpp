#pragma once
// pgflow's map example (pkgs/example-flows/src/map-flow.ts): two chained map steps over an array of
// texts, then one step that sees every result.
//
//   new Flow<string[]>({ slug: 'text_processing' })
//     .map({ slug: 'normalize' }, (text) => text.trim().toLowerCase())
//     .map({ slug: 'capitalize', array: 'normalize' },
//          (text) => text.charAt(0).toUpperCase() + text.slice(1))
//     .step({ slug: 'summarize', dependsOn: ['capitalize'] },
//           (input) => ({ processed: input.capitalize.length, results: input.capitalize }));
//
// `normalize` runs one task per input text, `capitalize` one task per normalized text; the tasks of
// a map run in parallel on whatever workers are free.

#include <pgflow/dsl.hpp>

#include <boost/hana/adapt_struct.hpp>

#include <cctype>
#include <string>
#include <vector>

namespace examples {

struct TextSummary {
    int processed = 0;
    std::vector<std::string> results;
};

/// JavaScript's text.trim().toLowerCase(), for ASCII text.
inline std::string trim_and_lower(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    std::string out = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// text.charAt(0).toUpperCase() + text.slice(1), for ASCII text.
inline std::string capitalize_first(std::string text) {
    if (!text.empty()) text.front() = static_cast<char>(std::toupper(static_cast<unsigned char>(text.front())));
    return text;
}

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::TextSummary, processed, results);

namespace examples {

inline constexpr auto text_processing = pgflow::flow<"text_processing", std::vector<std::string>>(
    pgflow::map<"normalize">([](const std::string& text) { return trim_and_lower(text); }),
    pgflow::map<"capitalize", pgflow::after<"normalize">>(
        [](const std::string& text) { return capitalize_first(text); }),
    pgflow::step<"summarize", pgflow::after<"capitalize">>(
        [](const std::vector<std::string>&, const std::vector<std::string>& capitalized) {
            return TextSummary{static_cast<int>(capitalized.size()), capitalized};
        }));

}  // namespace examples
