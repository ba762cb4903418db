#pragma once
// What has a JSON mapping, and what does not: pgflow::json_codec (declared here, specialised in
// <pgflow/json.hpp>), the json_convertible concept, the shapes the codecs recognise (maps,
// sequences, Boost.Hana structs) and the search for the innermost type without a mapping that
// the compile-time diagnostics name.

#include <pgflow/json_path.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/checks.hpp>
#include <pgflow/detail/type_name.hpp>
#include <pgflow/error.hpp>

#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/unpack.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/pfr/core.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
namespace pgflow {

/// The JSON mapping of T: `static boost::json::value encode(const T&)` and
/// `static T decode(const boost::json::value&, const pgflow::json_path&)` (which reports a mismatch
/// with `path.fail("expected ...")`). pgflow specializes it in <pgflow/json.hpp> for the types
/// listed at its top; specialize it for your own types the same way.
template <class T>
struct json_codec;

/// T has a JSON mapping (a usable json_codec<T>).
template <class T>
concept json_convertible = requires(const T& t, const boost::json::value& v, const json_path& p) {
    { json_codec<T>::encode(t) } -> std::same_as<boost::json::value>;
    { json_codec<T>::decode(v, p) } -> std::same_as<T>;
};

namespace detail {

/// A JSON number as people write it (Boost.JSON prints 2.5 as "2.5E0").
inline std::string number_text(const boost::json::value& v) {
    if (const double* d = v.if_double()) {
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, *d);
        return std::string(buffer, result.ptr);
    }
    return boost::json::serialize(v);
}

/// "a string (\"abc\")", "a number (2.5)", "an array of 3 elements"... for mismatch messages.
inline std::string describe_json(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null: return "null";
        case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_: return concat({"a number (", number_text(v), ")"});
        case boost::json::kind::string: {
            std::string text = boost::json::serialize(v);
            if (text.size() > 40) text = concat({std::string_view(text).substr(0, 36), "...\""});
            return concat({"a string (", text, ")"});
        }
        case boost::json::kind::array: {
            const std::size_t n = v.get_array().size();
            return concat({"an array of ", std::to_string(n), n == 1 ? " element" : " elements"});
        }
        case boost::json::kind::object: return "an object";
    }
    return "an unknown JSON value";
}

[[noreturn]] inline void fail_expected(const json_path& path, std::string_view expected,
                                       const boost::json::value& got) {
    path.fail(concat({"expected ", expected, ", got ", describe_json(got)}));
}

template <class T>
inline constexpr bool is_char_type =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <class T>
concept json_integer = std::integral<T> && !std::is_same_v<T, bool> && !is_char_type<T>;

template <class T>
concept json_native = std::is_same_v<T, boost::json::value> || std::is_same_v<T, boost::json::object> ||
                      std::is_same_v<T, boost::json::array> || std::is_same_v<T, boost::json::string>;

template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
concept hana_struct = std::is_class_v<T> && boost::hana::Struct<T>::value;

/// Shape of a string-keyed map, whatever its mapped type.
template <class T>
concept map_shaped = std::is_class_v<T> && !json_native<T> && requires {
    typename T::key_type;
    typename T::mapped_type;
} && requires(T& m, const T& cm, typename T::key_type k, typename T::mapped_type v) {
    cm.begin();
    cm.end();
    m.emplace(std::move(k), std::move(v));
};

/// Shape of a sequence (or set) container, whatever its element type. Strings are not sequences.
template <class T>
concept sequence_shaped =
    std::is_class_v<T> && !json_native<T> && !std::is_same_v<T, std::string> && !is_std_array<T>::value &&
    !hana_struct<T> && !requires { typename T::mapped_type; } && !requires { typename T::traits_type; } &&
    requires(const T& c) {
        typename T::value_type;
        c.begin();
        c.end();
    } &&
    (
        requires(T& c, typename T::value_type v) { c.push_back(std::move(v)); } ||
        requires(T& c, typename T::value_type v) { c.insert(std::move(v)); });

template <class T, class Pair>
using hana_member_t = std::remove_cvref_t<decltype(boost::hana::second(std::declval<Pair>())(std::declval<T&>()))>;

template <class T>
constexpr bool hana_members_convertible() {
    return boost::hana::unpack(boost::hana::accessors<T>(), [](auto... pairs) {
        return (json_convertible<hana_member_t<T, decltype(pairs)>> && ... && true);
    });
}

template <class T>
constexpr const char* hana_member_name(const T& pair) {
    return boost::hana::to<const char*>(boost::hana::first(pair));
}

/// The innermost part of T that has no JSON mapping (T itself when nothing more precise is known).
template <class T>
struct json_culprit {
    using type = T;
};
template <class T>
using json_culprit_t = typename json_culprit<T>::type;

template <class T>
    requires(!json_convertible<T>)
struct json_culprit<std::optional<T>> {
    using type = json_culprit_t<T>;
};
template <class T, std::size_t N>
    requires(!json_convertible<T>)
struct json_culprit<std::array<T, N>> {
    using type = json_culprit_t<T>;
};
template <sequence_shaped T>
    requires(!json_convertible<typename T::value_type>)
struct json_culprit<T> {
    using type = json_culprit_t<typename T::value_type>;
};
template <map_shaped T>
    requires std::is_same_v<typename T::key_type, std::string> && (!json_convertible<typename T::mapped_type>)
struct json_culprit<T> {
    using type = json_culprit_t<typename T::mapped_type>;
};

template <class T, class... Pairs>
struct first_unconvertible_member {
    using type = T;
};
template <class T, class Pair, class... Pairs>
struct first_unconvertible_member<T, Pair, Pairs...> {
    using type = std::conditional_t<json_convertible<hana_member_t<T, Pair>>,
                                    typename first_unconvertible_member<T, Pairs...>::type,
                                    json_culprit_t<hana_member_t<T, Pair>>>;
};
template <class T, class Tuple>
struct hana_culprit;
template <class T, class... Pairs>
struct hana_culprit<T, boost::hana::tuple<Pairs...>> {
    using type = typename first_unconvertible_member<T, Pairs...>::type;
};
template <hana_struct T>
    requires(!hana_members_convertible<T>())
struct json_culprit<T> {
    using type = typename hana_culprit<T, decltype(boost::hana::accessors<T>())>::type;
};

/// The check an adapted aggregate fails when its adaptation leaves members out, or no_problem.
template <class T>
constexpr auto hana_adaptation_problem() {
    if constexpr (std::is_aggregate_v<T>) {
        constexpr std::size_t listed = decltype(boost::hana::length(boost::hana::accessors<T>()))::value;
        constexpr std::size_t fields = boost::pfr::tuple_size_v<T>;
        if constexpr (listed != fields)
            return std::type_identity<check_hana_adaptation_lists_every_field<T, listed, fields>>{};
        else
            return std::type_identity<no_problem>{};
    } else {
        return std::type_identity<no_problem>{};
    }
}

}  // namespace detail

}  // namespace pgflow
