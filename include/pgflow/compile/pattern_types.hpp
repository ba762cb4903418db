#pragma once
// A condition pattern against the C++ types it is matched with, in constant evaluation: every member
// it names must exist and every value must have the JSON kind the type maps to, else the condition
// could never be met. What a type maps to is json.hpp's mapping: Boost.Hana structs are objects with
// their members, string-keyed maps objects with any key, sequences arrays (each pattern element
// matched against the element type), std::optional<U> null or U; a type whose JSON shape is not
// known here (boost::json::value, a custom json_codec) accepts anything.

#include <pgflow/compile/json_literal.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/detail/type_name.hpp>
#include <pgflow/json_traits.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace pgflow::detail {

enum class pattern_problem { none, not_a_dependency, unknown_member, wrong_kind };

/// One step of the path to a pattern value: a member name (escapes as written) or an array index.
struct pattern_path_step {
    std::string_view member{};
    std::size_t index = 0;
};

struct pattern_check {
    pattern_problem problem = pattern_problem::none;
    std::array<pattern_path_step, 16> path{};  ///< deeper paths are cut to 16 steps
    std::size_t depth = 0;
    std::string_view type{};      ///< the C++ type at the problem
    std::string_view expected{};  ///< the JSON kind that type maps to
    std::string_view found{};     ///< the pattern's kind there
};

/// A reader of a (valid) pattern with the path to where it is.
struct pattern_walk {
    json_reader reader;
    pattern_check result{};
    std::array<pattern_path_step, 16> path{};
    std::size_t depth = 0;

    constexpr void enter(pattern_path_step step) noexcept {
        if (depth < path.size()) path[depth] = step;
        ++depth;
    }
    constexpr void leave() noexcept { --depth; }
    constexpr bool report(pattern_problem problem, std::string_view type, std::string_view expected = {},
                          std::string_view found = {}) noexcept {
        result = {problem, path, depth < path.size() ? depth : path.size(), type, expected, found};
        return false;
    }
};

template <class T>
constexpr bool match_pattern(pattern_walk& w);

/// The JSON kind T maps to, when this header knows it.
struct pattern_shape {
    bool known = false;
    json_kind kind = json_kind::null;
};
template <class T>
constexpr pattern_shape pattern_shape_of() {
    if constexpr (std::is_same_v<T, bool>)
        return {true, json_kind::boolean};
    else if constexpr (json_integer<T> || std::is_floating_point_v<T>)
        return {true, json_kind::number};
    else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, boost::json::string>)
        return {true, json_kind::string};
    else if constexpr (std::is_same_v<T, std::nullptr_t>)
        return {true, json_kind::null};
    else if constexpr (std::is_same_v<T, boost::json::array> || sequence_shaped<T> || is_std_array<T>::value)
        return {true, json_kind::array};
    else if constexpr (std::is_same_v<T, boost::json::object> || hana_struct<T> || map_shaped<T>)
        return {true, json_kind::object};
    else
        return {};
}

template <class T, class... Pairs>
constexpr bool match_hana_member(pattern_walk& w, std::string_view key, type_list<Pairs...>) {
    bool found = false;
    bool ok = true;
    const auto try_member = [&]<class Pair>(std::type_identity<Pair>) {
        using name = std::remove_cvref_t<decltype(boost::hana::first(std::declval<Pair>()))>;
        if (found || !json_string_equals(key, boost::hana::to<const char*>(name{}))) return;
        found = true;
        ok = match_pattern<hana_member_t<T, Pair>>(w);
    };
    (try_member(std::type_identity<Pairs>{}), ...);
    return found ? ok : w.report(pattern_problem::unknown_member, type_name<T>());
}

template <class T, class Tuple>
struct hana_pairs;
template <class T, class... Pairs>
struct hana_pairs<T, boost::hana::tuple<Pairs...>> {
    using type = type_list<Pairs...>;
};

/// The object members of T as a pattern names them: match the value of `key`.
template <class T>
constexpr bool match_member(pattern_walk& w, std::string_view key) {
    if constexpr (hana_struct<T>) {
        using pairs = typename hana_pairs<T, std::remove_cvref_t<decltype(boost::hana::accessors<T>())>>::type;
        return match_hana_member<T>(w, key, pairs{});
    } else if constexpr (map_shaped<T>) {
        return match_pattern<typename T::mapped_type>(w);
    } else {
        return w.reader.skip_value();  // boost::json::object: any member
    }
}

template <class T>
constexpr bool match_members(pattern_walk& w) {
    w.reader.begin_object();
    bool first = true;
    std::string_view key;
    while (w.reader.next_member(key, first)) {
        w.enter({key});
        if (!T::match_member(w, key)) return false;
        w.leave();
    }
    return true;
}

template <class T>
struct members_of {
    static constexpr bool match_member(pattern_walk& w, std::string_view key) {
        return detail::match_member<T>(w, key);
    }
};

template <class T>
constexpr bool match_pattern(pattern_walk& w) {
    json_kind found{};
    w.reader.kind(found);
    if constexpr (is_optional<T>::value) {
        return found == json_kind::null ? w.reader.skip_value() : match_pattern<typename T::value_type>(w);
    } else {
        constexpr pattern_shape shape = pattern_shape_of<T>();
        constexpr json_kind expected = shape.kind;
        if (!shape.known) return w.reader.skip_value();
        if (found != expected)
            return w.report(pattern_problem::wrong_kind, type_name<T>(), json_kind_name(expected),
                            json_kind_name(found));
        if constexpr (expected == json_kind::object) {
            return match_members<members_of<T>>(w);
        } else if constexpr (expected == json_kind::array && !std::is_same_v<T, boost::json::array>) {
            w.reader.begin_array();
            bool first = true;
            for (std::size_t index = 0; w.reader.next_element(first); ++index) {
                w.enter({{}, index});
                if (!match_pattern<typename T::value_type>(w)) return false;
                w.leave();
            }
            return true;
        } else {
            return w.reader.skip_value();
        }
    }
}

/// Matches a valid pattern against T; the result says the first problem, if any.
template <class T>
constexpr pattern_check check_pattern(std::string_view pattern) {
    pattern_walk w{json_reader{pattern}};
    match_pattern<T>(w);
    return w.result;
}

/// "approved", "items[2].sku", "(the whole value)" for the diagnostics.
constexpr std::size_t write_pattern_path(const pattern_check& c, char* out) {
    std::size_t n = 0;
    const auto put = [&](std::string_view s) {
        for (const char ch : s) {
            if (out != nullptr) out[n] = ch;
            ++n;
        }
    };
    if (c.depth == 0) put("(the whole value)");
    for (std::size_t k = 0; k < c.depth; ++k) {
        if (c.path[k].member.data() != nullptr) {
            if (k > 0) put(".");
            put(c.path[k].member);
        } else {
            char digits[20]{};
            std::size_t d = 0;
            std::size_t v = c.path[k].index;
            do {
                digits[d++] = static_cast<char>('0' + v % 10);
                v /= 10;
            } while (v > 0);
            put("[");
            while (d > 0) put(std::string_view(&digits[--d], 1));
            put("]");
        }
    }
    return n;
}

/// A pattern_check's texts as template arguments (variables: each is computed only when a
/// diagnostic names it).
template <const pattern_check& Check>
inline constexpr auto pattern_path_text = [] {
    constexpr std::size_t length = write_pattern_path(Check, nullptr);
    std::array<char, length> text{};
    write_pattern_path(Check, text.data());
    return fixed_string<length + 1>(std::string_view(text.data(), length));
}();
template <const pattern_check& Check>
inline constexpr auto pattern_key_text = fixed_string<Check.path[0].member.size() + 1>(Check.path[0].member);
template <const pattern_check& Check>
inline constexpr auto pattern_type_text = fixed_string<Check.type.size() + 1>(Check.type);
template <const pattern_check& Check>
inline constexpr auto pattern_expected_text = fixed_string<Check.expected.size() + 1>(Check.expected);
template <const pattern_check& Check>
inline constexpr auto pattern_found_text = fixed_string<Check.found.size() + 1>(Check.found);

}  // namespace pgflow::detail
