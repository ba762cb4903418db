#pragma once
// Slug rules (docs/flows.md, Slugs): what pgflow.is_valid_slug accepts, plus the 47-character limit
// that pgmq puts on flow slugs (the flow slug is the queue name). Usable at compile time.

#include <cstddef>
#include <string_view>

namespace pgflow {

inline constexpr std::size_t max_slug_length = 128;
/// pgmq rejects queue names of 48 characters or more, and a flow's queue is named after it.
inline constexpr std::size_t max_flow_slug_length = 47;

/// Why `slug` is not a valid step slug, or an empty view when it is valid.
[[nodiscard]] constexpr std::string_view slug_problem(std::string_view slug) noexcept {
    if (slug.empty()) return "a slug cannot be empty";
    if (slug.size() > max_slug_length) return "a slug has at most 128 characters";
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!letter(slug.front())) return "a slug starts with an ASCII letter or an underscore";
    for (const char c : slug)
        if (!letter(c) && !(c >= '0' && c <= '9'))
            return "a slug contains only ASCII letters, digits and underscores";
    if (slug == "run") return "\"run\" is reserved (it is the key of the flow input in a step's input)";
    return {};
}

/// Why `slug` is not a valid flow slug, or an empty view when it is valid.
[[nodiscard]] constexpr std::string_view flow_slug_problem(std::string_view slug) noexcept {
    if (auto problem = slug_problem(slug); !problem.empty()) return problem;
    if (slug.size() > max_flow_slug_length)
        return "a flow slug has at most 47 characters (it names the flow's pgmq queue)";
    return {};
}

/// pgflow.is_valid_slug: `^[a-zA-Z_][a-zA-Z0-9_]*$`, at most 128 characters, not "run".
[[nodiscard]] constexpr bool is_valid_slug(std::string_view slug) noexcept { return slug_problem(slug).empty(); }

/// A valid slug that pgmq also accepts as a queue name.
[[nodiscard]] constexpr bool is_valid_flow_slug(std::string_view slug) noexcept {
    return flow_slug_problem(slug).empty();
}

}  // namespace pgflow
