#pragma once
// Slug rules (docs/flows.md, Slugs): what pgflow.is_valid_slug accepts, plus the 47-character limit
// that pgmq puts on flow slugs (the flow slug is the queue name). Usable at compile time. One rule and
// one wording for every flow: the compile-time checks (checks.hpp) select their diagnostic with
// detail::check_slug and print these messages (macros, because a static_assert takes only a string
// literal); dynamic flows throw them.

#include <cstddef>
#include <string_view>

#define PGFLOW_DETAIL_SLUG_RULE                                                                            \
    "a slug matches ^[a-zA-Z_][a-zA-Z0-9_]*$ (ASCII letters, digits and underscores, not starting with a " \
    "digit) and has 1 to 128 characters (pgflow.is_valid_slug's rule)"
#define PGFLOW_DETAIL_INVALID_FLOW_SLUG "invalid flow slug: " PGFLOW_DETAIL_SLUG_RULE
#define PGFLOW_DETAIL_RESERVED_FLOW_SLUG "invalid flow slug: \"run\" is reserved by pgflow; choose another name"
#define PGFLOW_DETAIL_FLOW_SLUG_TOO_LONG                                                                \
    "flow slug longer than 47 characters: the flow slug is also its pgmq queue name, and pgmq rejects " \
    "names of 48 characters or more; choose a shorter slug"
#define PGFLOW_DETAIL_INVALID_STEP_SLUG "invalid step slug: " PGFLOW_DETAIL_SLUG_RULE
#define PGFLOW_DETAIL_RESERVED_STEP_SLUG                                                                \
    "invalid step slug: \"run\" is reserved, a step's input has the flow input under the key \"run\"; " \
    "choose another name"

namespace pgflow {

inline constexpr std::size_t max_slug_length = 128;
/// pgmq rejects queue names of 48 characters or more, and a flow's queue is named after it.
inline constexpr std::size_t max_flow_slug_length = 47;

namespace detail {

enum class slug_verdict { valid, invalid, reserved, too_long_for_a_queue };

/// The rule a slug breaks first; `flow` adds the queue-name limit of flow slugs.
[[nodiscard]] constexpr slug_verdict check_slug(std::string_view slug, bool flow) noexcept {
    if (slug == "run") return slug_verdict::reserved;
    if (slug.empty() || slug.size() > max_slug_length) return slug_verdict::invalid;
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!letter(slug.front())) return slug_verdict::invalid;
    for (const char c : slug)
        if (!letter(c) && !(c >= '0' && c <= '9')) return slug_verdict::invalid;
    if (flow && slug.size() > max_flow_slug_length) return slug_verdict::too_long_for_a_queue;
    return slug_verdict::valid;
}

[[nodiscard]] constexpr std::string_view slug_message(slug_verdict verdict, bool flow) noexcept {
    switch (verdict) {
        case slug_verdict::valid: return {};
        case slug_verdict::invalid: return flow ? PGFLOW_DETAIL_INVALID_FLOW_SLUG : PGFLOW_DETAIL_INVALID_STEP_SLUG;
        case slug_verdict::reserved: return flow ? PGFLOW_DETAIL_RESERVED_FLOW_SLUG : PGFLOW_DETAIL_RESERVED_STEP_SLUG;
        case slug_verdict::too_long_for_a_queue: return PGFLOW_DETAIL_FLOW_SLUG_TOO_LONG;
    }
    return {};
}

}  // namespace detail

/// Why `slug` is not a valid step slug, or an empty view when it is valid.
[[nodiscard]] constexpr std::string_view slug_problem(std::string_view slug) noexcept {
    return detail::slug_message(detail::check_slug(slug, false), false);
}

/// Why `slug` is not a valid flow slug, or an empty view when it is valid.
[[nodiscard]] constexpr std::string_view flow_slug_problem(std::string_view slug) noexcept {
    return detail::slug_message(detail::check_slug(slug, true), true);
}

/// pgflow.is_valid_slug: `^[a-zA-Z_][a-zA-Z0-9_]*$`, at most 128 characters, not "run".
[[nodiscard]] constexpr bool is_valid_slug(std::string_view slug) noexcept {
    return detail::check_slug(slug, false) == detail::slug_verdict::valid;
}

/// A valid slug that pgmq also accepts as a queue name.
[[nodiscard]] constexpr bool is_valid_flow_slug(std::string_view slug) noexcept {
    return detail::check_slug(slug, true) == detail::slug_verdict::valid;
}

}  // namespace pgflow
