#pragma once
// pgflow::pq::parameters — statement parameters in libpq's text format. Every value that reaches
// SQL from C++ goes through here; nothing is ever spliced into statement text.

#include <pgflow/error.hpp>
#include <pgflow/run_id.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pgflow::pq {

namespace detail {

inline void append_array_element(std::string& out, std::string_view element) {
    // Array literal element: always double-quoted, with " and \ escaped (so NULL, commas, braces
    // and blanks need no special case).
    out.push_back('"');
    for (char c : element) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
concept string_like = std::convertible_to<const T&, std::string_view>;

template <class R>
concept string_range = std::ranges::input_range<R> && string_like<std::ranges::range_value_t<R>> && !string_like<R>;

template <class R>
concept integer_range = std::ranges::input_range<R> && std::integral<std::ranges::range_value_t<R>> &&
                        !std::same_as<std::ranges::range_value_t<R>, bool>;

}  // namespace detail

/// One parameter value as text, or SQL NULL.
using parameter = std::optional<std::string>;

/// Text form of a value: strings as they are, integers in decimal, bool as true/false, JSON
/// serialized, run_id as its UUID text, ranges of strings or integers as array literals,
/// std::optional / std::nullopt / nullptr as NULL when empty.
template <class T>
parameter to_parameter(const T& value) {
    if constexpr (std::is_same_v<T, std::nullopt_t> || std::is_same_v<T, std::nullptr_t>) {
        return std::nullopt;
    } else if constexpr (detail::is_optional<T>::value) {
        if (!value) return std::nullopt;
        return to_parameter(*value);
    } else if constexpr (std::is_same_v<T, bool>) {
        return std::string(value ? "true" : "false");
    } else if constexpr (std::is_integral_v<T>) {
        return std::to_string(value);
    } else if constexpr (std::is_same_v<T, run_id>) {
        return value.str();
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        return boost::json::serialize(value);
    } else if constexpr (detail::string_like<T>) {
        std::string_view s = value;
        // Where, not what: the value may be a secret, and need not be text a log can hold.
        if (const auto at = s.find('\0'); at != std::string_view::npos)
            throw invalid_argument_error("pgflow: a text value of " + std::to_string(s.size()) +
                                         " bytes contains a NUL character at byte " + std::to_string(at) +
                                         ", which PostgreSQL text cannot hold");
        return std::string(s);
    } else if constexpr (detail::string_range<T>) {
        std::string out = "{";
        bool first = true;
        for (const auto& element : value) {
            if (!first) out.push_back(',');
            first = false;
            detail::append_array_element(out, std::string_view(element));
        }
        out.push_back('}');
        return out;
    } else if constexpr (detail::integer_range<T>) {
        std::string out = "{";
        bool first = true;
        for (const auto& element : value) {
            if (!first) out.push_back(',');
            first = false;
            out += std::to_string(element);
        }
        out.push_back('}');
        return out;
    } else {
        static_assert(!sizeof(T*), "pgflow::pq::to_parameter: no text form for this type");
    }
}

/// An ordered list of parameters ($1, $2, …) ready for PQexecParams / PQexecPrepared.
class parameters {
public:
    parameters() = default;
    template <class... Args>
        requires(sizeof...(Args) > 0 &&
                 !(sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, parameters> && ...)))
    explicit parameters(const Args&... args) {
        values_.reserve(sizeof...(Args));
        (add(args), ...);
    }

    /// Appends the next parameter; a value with no text form throws invalid_argument_error naming
    /// its position ("pgflow: parameter $2: ...").
    template <class T>
    parameters& add(const T& value) {
        try {
            values_.push_back(to_parameter(value));
        } catch (const invalid_argument_error& e) {
            std::string_view message = e.what();
            if (message.starts_with("pgflow: ")) message.remove_prefix(8);
            throw invalid_argument_error("pgflow: parameter $" + std::to_string(values_.size() + 1) + ": " +
                                         std::string(message));
        }
        return *this;
    }

    [[nodiscard]] int size() const noexcept { return static_cast<int>(values_.size()); }

    /// Pointer array for libpq; valid until this object changes.
    [[nodiscard]] std::vector<const char*> pointers() const {
        std::vector<const char*> p;
        p.reserve(values_.size());
        for (const auto& v : values_) p.push_back(v ? v->c_str() : nullptr);
        return p;
    }

private:
    std::vector<parameter> values_;
};

}  // namespace pgflow::pq
