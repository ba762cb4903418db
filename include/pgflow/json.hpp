#pragma once
// JSON mapping of user types through Boost.JSON: what step handlers receive and return.
//
//   pgflow::to_json(x)                -> boost::json::value
//   pgflow::from_json<T>(json)        -> T, or throws pgflow::json_decode_error naming the JSON path
//
// Supported: bool; integers (not char) and floating-point numbers; std::string; std::nullptr_t
// (null); std::optional<T> (null, or a missing struct member, is nullopt); sequence containers
// (std::vector, std::array, std::list, std::deque, std::set...) as arrays; maps with std::string
// keys as objects; boost::json::value / object / array / string as they are; structs adapted with
// BOOST_HANA_ADAPT_STRUCT or defined with BOOST_HANA_DEFINE_STRUCT as objects keyed by member name.
// Anything else: specialize pgflow::json_codec<T> (see below).
//
// Decoding is strict where JSON is ambiguous: an integer target rejects 2.5 and out-of-range
// values, a required struct member must be present; unknown object members are ignored.

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

/// Where a value sits in a JSON document, printed as `$.items[3].price`. Paths are built on the
/// stack while decoding (a child refers to its parent) and only turned into text for an error.
class json_path {
public:
    /// The document root, `$`.
    constexpr json_path() noexcept = default;

    /// The member `key` of the object at this path. The result refers to *this.
    [[nodiscard]] constexpr json_path member(std::string_view key) const noexcept {
        return json_path(this, key, 0, kind::member);
    }
    /// The element `i` of the array at this path. The result refers to *this.
    [[nodiscard]] constexpr json_path index(std::size_t i) const noexcept {
        return json_path(this, {}, i, kind::index);
    }

    [[nodiscard]] std::string str() const {
        std::string out = parent_ != nullptr ? parent_->str() : std::string("$");
        if (kind_ == kind::index) {
            out += '[' + std::to_string(index_) + ']';
        } else if (kind_ == kind::member) {
            if (is_identifier(key_)) {
                out += '.';
                out += key_;
            } else {
                out += "[\"";
                for (const char c : key_) {
                    if (c == '"' || c == '\\') out += '\\';
                    out += c;
                }
                out += "\"]";
            }
        }
        return out;
    }

    /// Throws json_decode_error("at <path>: <problem>") carrying this path.
    [[noreturn]] void fail(std::string_view problem) const {
        std::string path = str();
        std::string message = detail::concat({"at ", path, ": ", problem});
        throw json_decode_error(std::move(message), std::move(path));
    }

private:
    enum class kind : unsigned char { root, member, index };
    constexpr json_path(const json_path* parent, std::string_view key, std::size_t index, kind k) noexcept
        : parent_(parent), key_(key), index_(index), kind_(k) {}

    static constexpr bool is_identifier(std::string_view s) noexcept {
        if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
        for (const char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                return false;
        return true;
    }

    const json_path* parent_ = nullptr;
    std::string_view key_;
    std::size_t index_ = 0;
    kind kind_ = kind::root;
};

/// The JSON mapping of T: `static boost::json::value encode(const T&)` and
/// `static T decode(const boost::json::value&, const pgflow::json_path&)` (which reports a mismatch
/// with `path.fail("expected ...")`). pgflow specializes it for the types listed at the top of this
/// file; specialize it for your own types the same way.
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

[[noreturn]] inline void fail_expected(const json_path& path, std::string_view expected, const boost::json::value& got) {
    path.fail(concat({"expected ", expected, ", got ", describe_json(got)}));
}

template <class T>
inline constexpr bool is_char_type = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                                     std::is_same_v<T, char8_t> || std::is_same_v<T, char16_t> ||
                                     std::is_same_v<T, char32_t>;

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
concept sequence_shaped = std::is_class_v<T> && !json_native<T> && !std::is_same_v<T, std::string> &&
                          !is_std_array<T>::value && !hana_struct<T> &&
                          !requires { typename T::mapped_type; } && !requires { typename T::traits_type; } &&
                          requires(const T& c) {
                              typename T::value_type;
                              c.begin();
                              c.end();
                          } &&
                          (requires(T& c, typename T::value_type v) { c.push_back(std::move(v)); } ||
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

// --- codecs -------------------------------------------------------------------------------------

template <>
struct json_codec<bool> {
    static boost::json::value encode(bool b) { return boost::json::value(b); }
    static bool decode(const boost::json::value& v, const json_path& path) {
        if (const bool* b = v.if_bool()) return *b;
        detail::fail_expected(path, "a boolean", v);
    }
};

template <detail::json_integer T>
struct json_codec<T> {
    static boost::json::value encode(T x) {
        if constexpr (std::is_signed_v<T>)
            return boost::json::value(static_cast<std::int64_t>(x));
        else
            return boost::json::value(static_cast<std::uint64_t>(x));
    }
    static T decode(const boost::json::value& v, const json_path& path) {
        if (const std::int64_t* i = v.if_int64()) {
            if (std::in_range<T>(*i)) return static_cast<T>(*i);
        } else if (const std::uint64_t* u = v.if_uint64()) {
            if (std::in_range<T>(*u)) return static_cast<T>(*u);
        } else if (const double* d = v.if_double()) {
            if (!std::isfinite(*d) || std::trunc(*d) != *d) detail::fail_expected(path, "an integer", v);
            // Integral doubles are exact here; max() + 1 is a power of two, so exact as well.
            if (*d >= static_cast<double>(std::numeric_limits<T>::min()) &&
                *d < static_cast<double>(std::numeric_limits<T>::max()) + 1.0)
                return static_cast<T>(*d);
        } else {
            detail::fail_expected(path, "an integer", v);
        }
        path.fail(detail::concat({"expected an integer from ", std::to_string(std::numeric_limits<T>::min()), " to ",
                                  std::to_string(std::numeric_limits<T>::max()), ", got ", detail::number_text(v)}));
    }
};

template <std::floating_point T>
struct json_codec<T> {
    static boost::json::value encode(T x) {
        if (!std::isfinite(x))
            throw error(detail::concat(
                {"pgflow::to_json: ", std::isnan(x) ? "NaN" : "an infinite number", " has no JSON representation"}));
        return boost::json::value(static_cast<double>(x));
    }
    static T decode(const boost::json::value& v, const json_path& path) {
        double d = 0;
        if (const std::int64_t* i = v.if_int64())
            d = static_cast<double>(*i);
        else if (const std::uint64_t* u = v.if_uint64())
            d = static_cast<double>(*u);
        else if (const double* p = v.if_double())
            d = *p;
        else
            detail::fail_expected(path, "a number", v);
        if constexpr (sizeof(T) < sizeof(double)) {
            if (std::abs(d) > static_cast<double>(std::numeric_limits<T>::max()))
                path.fail(detail::concat(
                    {"expected a number that fits a ", detail::type_name<T>(), ", got ", detail::number_text(v)}));
        }
        return static_cast<T>(d);
    }
};

template <>
struct json_codec<std::string> {
    static boost::json::value encode(const std::string& s) { return boost::json::value(boost::json::string_view(s)); }
    static std::string decode(const boost::json::value& v, const json_path& path) {
        if (const boost::json::string* s = v.if_string()) return std::string(s->data(), s->size());
        detail::fail_expected(path, "a string", v);
    }
};

template <>
struct json_codec<std::nullptr_t> {
    static boost::json::value encode(std::nullptr_t) { return nullptr; }
    static std::nullptr_t decode(const boost::json::value& v, const json_path& path) {
        if (!v.is_null()) detail::fail_expected(path, "null", v);
        return nullptr;
    }
};

/// The escape hatch: boost::json values pass through; object/array/string check the kind.
template <detail::json_native T>
struct json_codec<T> {
    static boost::json::value encode(const T& x) { return boost::json::value(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        if constexpr (std::is_same_v<T, boost::json::value>) {
            return v;
        } else if constexpr (std::is_same_v<T, boost::json::object>) {
            if (const auto* o = v.if_object()) return *o;
            detail::fail_expected(path, "an object", v);
        } else if constexpr (std::is_same_v<T, boost::json::array>) {
            if (const auto* a = v.if_array()) return *a;
            detail::fail_expected(path, "an array", v);
        } else {
            if (const auto* s = v.if_string()) return *s;
            detail::fail_expected(path, "a string", v);
        }
    }
};

template <json_convertible T>
struct json_codec<std::optional<T>> {
    static boost::json::value encode(const std::optional<T>& x) {
        return x ? json_codec<T>::encode(*x) : boost::json::value(nullptr);
    }
    static std::optional<T> decode(const boost::json::value& v, const json_path& path) {
        if (v.is_null()) return std::nullopt;
        return json_codec<T>::decode(v, path);
    }
};

template <json_convertible T, std::size_t N>
struct json_codec<std::array<T, N>> {
    static boost::json::value encode(const std::array<T, N>& a) {
        boost::json::array out;
        out.reserve(N);
        for (const auto& e : a) out.push_back(json_codec<T>::encode(e));
        return out;
    }
    static std::array<T, N> decode(const boost::json::value& v, const json_path& path) {
        const auto* a = v.if_array();
        if (a == nullptr || a->size() != N)
            detail::fail_expected(
                path, detail::concat({"an array of ", std::to_string(N), N == 1 ? " element" : " elements"}), v);
        std::array<T, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[i] = json_codec<T>::decode((*a)[i], path.index(i));
        return out;
    }
};

template <detail::sequence_shaped C>
    requires json_convertible<typename C::value_type>
struct json_codec<C> {
    using element = typename C::value_type;
    static boost::json::value encode(const C& c) {
        boost::json::array out;
        for (const auto& e : c) out.push_back(json_codec<element>::encode(static_cast<const element&>(e)));
        return out;
    }
    static C decode(const boost::json::value& v, const json_path& path) {
        const auto* a = v.if_array();
        if (a == nullptr) detail::fail_expected(path, "an array", v);
        C out;
        if constexpr (requires { out.reserve(a->size()); }) out.reserve(a->size());
        for (std::size_t i = 0; i < a->size(); ++i) {
            if constexpr (requires(element e) { out.push_back(std::move(e)); })
                out.push_back(json_codec<element>::decode((*a)[i], path.index(i)));
            else
                out.insert(json_codec<element>::decode((*a)[i], path.index(i)));
        }
        return out;
    }
};

template <detail::map_shaped M>
    requires std::is_same_v<typename M::key_type, std::string> && json_convertible<typename M::mapped_type>
struct json_codec<M> {
    using mapped = typename M::mapped_type;
    static boost::json::value encode(const M& m) {
        boost::json::object out;
        for (const auto& [key, value] : m) out.insert_or_assign(key, json_codec<mapped>::encode(value));
        return out;
    }
    static M decode(const boost::json::value& v, const json_path& path) {
        const auto* o = v.if_object();
        if (o == nullptr) detail::fail_expected(path, "an object", v);
        M out;
        for (const auto& member : *o) {
            const std::string_view key(member.key().data(), member.key().size());
            out.emplace(std::string(key), json_codec<mapped>::decode(member.value(), path.member(key)));
        }
        return out;
    }
};

/// Structs adapted with BOOST_HANA_ADAPT_STRUCT / BOOST_HANA_DEFINE_STRUCT: objects keyed by member
/// name, in declaration order. A missing std::optional member decodes to nullopt.
template <detail::hana_struct T>
    requires(detail::hana_members_convertible<T>())
struct json_codec<T> {
    // A member left out of the adaptation would silently vanish from the JSON (Boost.PFR counts them).
    static_assert(sizeof(typename decltype(detail::hana_adaptation_problem<T>())::type) > 0);

    static boost::json::value encode(const T& x) {
        boost::json::object out;
        boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... pairs) {
            (out.emplace(detail::hana_member_name(pairs),
                         json_codec<detail::hana_member_t<T, decltype(pairs)>>::encode(boost::hana::second(pairs)(x))),
             ...);
        });
        return out;
    }

    static T decode(const boost::json::value& v, const json_path& path) {
        if constexpr (!std::is_default_constructible_v<T>) {
            static_assert(sizeof(detail::check_adapted_struct_is_default_constructible<T>) > 0);
            return decode_unreachable(v, path);
        } else {
            const auto* o = v.if_object();
            if (o == nullptr) detail::fail_expected(path, "an object", v);
            T out{};
            boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... pairs) { (decode_member(out, *o, path, pairs), ...); });
            return out;
        }
    }

private:
    template <class Pair>
    static void decode_member(T& out, const boost::json::object& o, const json_path& path, const Pair& pair) {
        using member = detail::hana_member_t<T, Pair>;
        const std::string_view name = detail::hana_member_name(pair);
        const json_path member_path = path.member(name);
        if (const boost::json::value* v = o.if_contains(name))
            boost::hana::second(pair)(out) = json_codec<member>::decode(*v, member_path);
        else if constexpr (detail::is_optional<member>::value)
            boost::hana::second(pair)(out) = std::nullopt;
        else
            member_path.fail(
                detail::concat({"missing member \"", name, "\" (required by ", detail::type_name<T>(), ")"}));
    }
    [[noreturn]] static T decode_unreachable(const boost::json::value&, const json_path& path) {
        path.fail("cannot decode a type without a default constructor");
    }
};

// --- entry points -------------------------------------------------------------------------------

/// The JSON form of `x`. A type without a mapping is a compile-time error naming it.
template <class T>
[[nodiscard]] boost::json::value to_json(const T& x) {
    if constexpr (json_convertible<T>) {
        return json_codec<T>::encode(x);
    } else {
        static_assert(sizeof(detail::check_json_convertible<T, detail::json_culprit_t<T>>) > 0);
        return {};
    }
}

/// Decodes `v` as a T; throws json_decode_error whose message and path() locate the mismatch,
/// relative to `path` (the document root by default).
template <class T>
[[nodiscard]] T from_json(const boost::json::value& v, const json_path& path = {}) {
    if constexpr (json_convertible<T>) {
        return json_codec<T>::decode(v, path);
    } else {
        static_assert(sizeof(detail::check_json_convertible<T, detail::json_culprit_t<T>>) > 0);
        std::terminate();  // unreachable: the check above does not compile
    }
}

}  // namespace pgflow
