#pragma once
// The "models" of the analysis examples: a word-list sentiment score and a first-sentence summary.
// Deterministic and offline, so that the examples can check their results.

#include <boost/hana/adapt_struct.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

struct Sentiment {
    double score = 0;  ///< from -1 (only negative words) to 1 (only positive words)
    int positive_words = 0;
    int negative_words = 0;
};

}  // namespace examples

BOOST_HANA_ADAPT_STRUCT(examples::Sentiment, score, positive_words, negative_words);

namespace examples {

inline std::vector<std::string> lower_case_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : ' ';
        if (std::isalnum(static_cast<unsigned char>(c))) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    return words;
}

inline Sentiment analyze_sentiment(std::string_view text) {
    static constexpr std::array<std::string_view, 10> positive{"fast",  "reliable", "love", "simple", "great",
                                                               "works", "quiet",    "good", "best",   "excellent"};
    static constexpr std::array<std::string_view, 10> negative{"failed", "lost",  "slow",  "painful", "sorry",
                                                               "broken", "noisy", "worst", "bad",     "returned"};
    Sentiment s;
    for (const auto& w : lower_case_words(text)) {
        if (std::find(positive.begin(), positive.end(), w) != positive.end()) ++s.positive_words;
        if (std::find(negative.begin(), negative.end(), w) != negative.end()) ++s.negative_words;
    }
    if (const int total = s.positive_words + s.negative_words; total > 0)
        s.score = static_cast<double>(s.positive_words - s.negative_words) / total;
    return s;
}

/// The shortest text that reads back as the same double (for SQL parameters and printing).
inline std::string decimal(double value) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    return std::string(buffer, end);
}

}  // namespace examples
