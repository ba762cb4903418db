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

#include <pgflow/json_path.hpp>
#include <pgflow/json_traits.hpp>
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
            boost::hana::unpack(boost::hana::accessors<T>(),
                                [&](auto... pairs) { (decode_member(out, *o, path, pairs), ...); });
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
