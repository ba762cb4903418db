#pragma once
// What has a JSON mapping, and what does not: pgflow::json_codec and pgflow's own codecs (their
// bodies are in <pgflow/json.hpp>), the json_convertible concept, the shapes the codecs recognise
// (maps, sequences, Boost.Hana structs) and the search for the innermost type without a mapping
// that the compile-time diagnostics name.
//
// Boost.JSON is only forward-declared here (<boost/json/fwd.hpp>): declaring a flow checks its
// types' mappings without compiling Boost.JSON, which costs a translation unit about a second.
// A codec's member returns detail::json_value_t<T>, boost::json::value named through T, so that
// its body is compiled where it is used, after <pgflow/json.hpp> has completed the type.

#include <pgflow/json_path.hpp>
#include <pgflow/checks.hpp>

#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/unpack.hpp>
#include <boost/json/fwd.hpp>
#include <boost/pfr/core.hpp>

#include <array>
#include <concepts>
#include <cstddef>
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

/// T has a JSON mapping (a usable json_codec<T>). Asked through decltype, which accepts the
/// incomplete boost::json::value a call would otherwise need complete.
template <class T>
concept json_convertible = requires(const T& t, const boost::json::value& v, const json_path& p) {
    requires std::same_as<decltype(json_codec<T>::encode(t)), boost::json::value>;
    requires std::same_as<decltype(json_codec<T>::decode(v, p)), T>;
};

namespace detail {

/// boost::json::value, named through T: a codec member returning it is compiled when used.
template <class T>
struct json_value_for {
    using type = boost::json::value;
};
template <class T>
using json_value_t = typename json_value_for<T>::type;

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

// --- pgflow's codecs --------------------------------------------------------------------------------
// Declared here so that json_convertible knows them; each forwards to a body in <pgflow/json.hpp>.

namespace detail {
template <class T>
struct integer_codec;
template <class T>
struct floating_point_codec;
template <class T>
struct native_codec;
template <class T>
struct optional_codec;
template <class T, std::size_t N>
struct std_array_codec;
template <class C>
struct sequence_codec;
template <class M>
struct map_codec;
template <class T>
struct struct_codec;
}  // namespace detail

template <>
struct json_codec<bool> {
    static boost::json::value encode(bool b);
    static bool decode(const boost::json::value& v, const json_path& path);
};

template <>
struct json_codec<std::string> {
    static boost::json::value encode(const std::string& s);
    static std::string decode(const boost::json::value& v, const json_path& path);
};

template <>
struct json_codec<std::nullptr_t> {
    static boost::json::value encode(std::nullptr_t);
    static std::nullptr_t decode(const boost::json::value& v, const json_path& path);
};

template <detail::json_integer T>
struct json_codec<T> {
    static detail::json_value_t<T> encode(T x) { return detail::integer_codec<T>::encode(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        return detail::integer_codec<T>::decode(v, path);
    }
};

template <std::floating_point T>
struct json_codec<T> {
    static detail::json_value_t<T> encode(T x) { return detail::floating_point_codec<T>::encode(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        return detail::floating_point_codec<T>::decode(v, path);
    }
};

/// The escape hatch: boost::json values pass through; object/array/string check the kind.
template <detail::json_native T>
struct json_codec<T> {
    static detail::json_value_t<T> encode(const T& x) { return detail::native_codec<T>::encode(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        return detail::native_codec<T>::decode(v, path);
    }
};

template <json_convertible T>
struct json_codec<std::optional<T>> {
    static detail::json_value_t<T> encode(const std::optional<T>& x) { return detail::optional_codec<T>::encode(x); }
    static std::optional<T> decode(const boost::json::value& v, const json_path& path) {
        return detail::optional_codec<T>::decode(v, path);
    }
};

template <json_convertible T, std::size_t N>
struct json_codec<std::array<T, N>> {
    static detail::json_value_t<T> encode(const std::array<T, N>& a) {
        return detail::std_array_codec<T, N>::encode(a);
    }
    static std::array<T, N> decode(const boost::json::value& v, const json_path& path) {
        return detail::std_array_codec<T, N>::decode(v, path);
    }
};

template <detail::sequence_shaped C>
    requires json_convertible<typename C::value_type>
struct json_codec<C> {
    static detail::json_value_t<C> encode(const C& c) { return detail::sequence_codec<C>::encode(c); }
    static C decode(const boost::json::value& v, const json_path& path) {
        return detail::sequence_codec<C>::decode(v, path);
    }
};

template <detail::map_shaped M>
    requires std::is_same_v<typename M::key_type, std::string> && json_convertible<typename M::mapped_type>
struct json_codec<M> {
    static detail::json_value_t<M> encode(const M& m) { return detail::map_codec<M>::encode(m); }
    static M decode(const boost::json::value& v, const json_path& path) {
        return detail::map_codec<M>::decode(v, path);
    }
};

/// Structs adapted with BOOST_HANA_ADAPT_STRUCT / BOOST_HANA_DEFINE_STRUCT: objects keyed by member
/// name, in declaration order. A missing std::optional member decodes to nullopt.
template <detail::hana_struct T>
    requires(detail::hana_members_convertible<T>())
struct json_codec<T> {
    // A member left out of the adaptation would silently vanish from the JSON (Boost.PFR counts them).
    static_assert(sizeof(typename decltype(detail::hana_adaptation_problem<T>())::type) > 0);

    static detail::json_value_t<T> encode(const T& x) { return detail::struct_codec<T>::encode(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        return detail::struct_codec<T>::decode(v, path);
    }
};

}  // namespace pgflow
