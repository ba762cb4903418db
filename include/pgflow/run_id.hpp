#pragma once
// pgflow::run_id — the UUID that names one execution of a flow (pgflow.runs.run_id).

#include <pgflow/error.hpp>

#include <compare>
#include <cstddef>
#include <iosfwd>
#include <string>  // also declares std::hash and defines std::hash<std::string>
#include <string_view>

namespace pgflow {

namespace detail {
constexpr bool is_hex_digit(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Canonical 8-4-4-4-12 textual UUID, the only form PostgreSQL prints.
constexpr bool is_canonical_uuid(std::string_view s) noexcept {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex_digit(s[i])) return false;
    }
    return true;
}
}  // namespace detail

/// Identifier of a run. Holds the canonical lower-case text form of the UUID.
class run_id {
public:
    run_id() = default;
    /// Throws pgflow::invalid_argument_error naming the text when it is not a UUID.
    explicit run_id(std::string_view text) : value_(text) {
        if (!detail::is_canonical_uuid(text))
            throw invalid_argument_error("pgflow::run_id: \"" + std::string(text) +
                                         "\" is not a UUID (expected 8-4-4-4-12 hex digits)");
        for (char& c : value_)
            if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }

    [[nodiscard]] const std::string& str() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    friend auto operator<=>(const run_id&, const run_id&) = default;
    /// A template, so that only a caller that prints needs <ostream>.
    template <class CharTraits>
    friend std::basic_ostream<char, CharTraits>& operator<<(std::basic_ostream<char, CharTraits>& os,
                                                            const run_id& id) {
        return os << id.value_;
    }

private:
    std::string value_;
};

}  // namespace pgflow

template <>
struct std::hash<pgflow::run_id> {
    std::size_t operator()(const pgflow::run_id& id) const noexcept { return std::hash<std::string>{}(id.str()); }
};
