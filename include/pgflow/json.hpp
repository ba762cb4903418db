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
// Anything else: specialize pgflow::json_codec<T> (<pgflow/json_traits.hpp>).
//
// Decoding is strict where JSON is ambiguous: an integer target rejects 2.5 and out-of-range
// values, a required struct member must be present; unknown object members are ignored.

#include <pgflow/compile/type_list.hpp>
#include <pgflow/json_path.hpp>
#include <pgflow/json_traits.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/checks.hpp>
#include <pgflow/detail/type_name.hpp>
#include <pgflow/error.hpp>

#include <boost/hana/second.hpp>
#include <boost/hana/unpack.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

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

// --- what a mismatch message says -----------------------------------------------------------------

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

}  // namespace detail

// --- the codecs' bodies (declared in <pgflow/json_traits.hpp>) -------------------------------------

inline boost::json::value json_codec<bool>::encode(bool b) { return boost::json::value(b); }
inline bool json_codec<bool>::decode(const boost::json::value& v, const json_path& path) {
    if (const bool* b = v.if_bool()) return *b;
    detail::fail_expected(path, "a boolean", v);
}

inline boost::json::value json_codec<std::string>::encode(const std::string& s) {
    return boost::json::value(boost::json::string_view(s));
}
inline std::string json_codec<std::string>::decode(const boost::json::value& v, const json_path& path) {
    if (const boost::json::string* s = v.if_string()) return std::string(s->data(), s->size());
    detail::fail_expected(path, "a string", v);
}

inline boost::json::value json_codec<std::nullptr_t>::encode(std::nullptr_t) { return nullptr; }
inline std::nullptr_t json_codec<std::nullptr_t>::decode(const boost::json::value& v, const json_path& path) {
    if (!v.is_null()) detail::fail_expected(path, "null", v);
    return nullptr;
}

namespace detail {

template <class T>
struct integer_codec {
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
            if (!std::isfinite(*d) || std::trunc(*d) != *d) fail_expected(path, "an integer", v);
            // Integral doubles are exact here; max() + 1 is a power of two, so exact as well.
            if (*d >= static_cast<double>(std::numeric_limits<T>::min()) &&
                *d < static_cast<double>(std::numeric_limits<T>::max()) + 1.0)
                return static_cast<T>(*d);
        } else {
            fail_expected(path, "an integer", v);
        }
        path.fail(concat({"expected an integer from ", std::to_string(std::numeric_limits<T>::min()), " to ",
                          std::to_string(std::numeric_limits<T>::max()), ", got ", number_text(v)}));
    }
};

template <class T>
struct floating_point_codec {
    static boost::json::value encode(T x) {
        if (!std::isfinite(x))
            throw error(concat(
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
            fail_expected(path, "a number", v);
        if constexpr (sizeof(T) < sizeof(double)) {
            if (std::abs(d) > static_cast<double>(std::numeric_limits<T>::max()))
                path.fail(concat({"expected a number that fits a ", type_name<T>(), ", got ", number_text(v)}));
        }
        return static_cast<T>(d);
    }
};

template <class T>
struct native_codec {
    static boost::json::value encode(const T& x) { return boost::json::value(x); }
    static T decode(const boost::json::value& v, const json_path& path) {
        if constexpr (std::is_same_v<T, boost::json::value>) {
            return v;
        } else if constexpr (std::is_same_v<T, boost::json::object>) {
            if (const auto* o = v.if_object()) return *o;
            fail_expected(path, "an object", v);
        } else if constexpr (std::is_same_v<T, boost::json::array>) {
            if (const auto* a = v.if_array()) return *a;
            fail_expected(path, "an array", v);
        } else {
            if (const auto* s = v.if_string()) return *s;
            fail_expected(path, "a string", v);
        }
    }
};

template <class T>
struct optional_codec {
    static boost::json::value encode(const std::optional<T>& x) {
        return x ? json_codec<T>::encode(*x) : boost::json::value(nullptr);
    }
    static std::optional<T> decode(const boost::json::value& v, const json_path& path) {
        if (v.is_null()) return std::nullopt;
        return json_codec<T>::decode(v, path);
    }
};

template <class T, std::size_t N>
struct std_array_codec {
    static boost::json::value encode(const std::array<T, N>& a) {
        boost::json::array out;
        out.reserve(N);
        for (const auto& e : a) out.push_back(json_codec<T>::encode(e));
        return out;
    }
    static std::array<T, N> decode(const boost::json::value& v, const json_path& path) {
        const auto* a = v.if_array();
        if (a == nullptr || a->size() != N)
            fail_expected(path, concat({"an array of ", std::to_string(N), N == 1 ? " element" : " elements"}), v);
        std::array<T, N> out{};
        for (std::size_t i = 0; i < N; ++i) out[i] = json_codec<T>::decode((*a)[i], path.index(i));
        return out;
    }
};

template <class C>
struct sequence_codec {
    using element = typename C::value_type;
    static boost::json::value encode(const C& c) {
        boost::json::array out;
        for (const auto& e : c) out.push_back(json_codec<element>::encode(static_cast<const element&>(e)));
        return out;
    }
    static C decode(const boost::json::value& v, const json_path& path) {
        const auto* a = v.if_array();
        if (a == nullptr) fail_expected(path, "an array", v);
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

template <class M>
struct map_codec {
    using mapped = typename M::mapped_type;
    static boost::json::value encode(const M& m) {
        boost::json::object out;
        for (const auto& [key, value] : m) out.insert_or_assign(key, json_codec<mapped>::encode(value));
        return out;
    }
    static M decode(const boost::json::value& v, const json_path& path) {
        const auto* o = v.if_object();
        if (o == nullptr) fail_expected(path, "an object", v);
        M out;
        for (const auto& member : *o) {
            const std::string_view key(member.key().data(), member.key().size());
            out.emplace(std::string(key), json_codec<mapped>::decode(member.value(), path.member(key)));
        }
        return out;
    }
};

template <class T>
struct struct_codec {
    static boost::json::value encode(const T& x) {
        boost::json::object out;
        boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... pairs) {
            (out.emplace(hana_member_name(pairs),
                         json_codec<hana_member_t<T, decltype(pairs)>>::encode(boost::hana::second(pairs)(x))),
             ...);
        });
        return out;
    }

    static T decode(const boost::json::value& v, const json_path& path) {
        if constexpr (!std::is_default_constructible_v<T>) {
            static_assert(sizeof(check_adapted_struct_is_default_constructible<T>) > 0);
            return decode_unreachable(v, path);
        } else {
            const auto* o = v.if_object();
            if (o == nullptr) fail_expected(path, "an object", v);
            T out{};
            boost::hana::unpack(boost::hana::accessors<T>(),
                                [&](auto... pairs) { (decode_member(out, *o, path, pairs), ...); });
            return out;
        }
    }

private:
    template <class Pair>
    static void decode_member(T& out, const boost::json::object& o, const json_path& path, const Pair& pair) {
        using member = hana_member_t<T, Pair>;
        const std::string_view name = hana_member_name(pair);
        const json_path member_path = path.member(name);
        if (const boost::json::value* v = o.if_contains(name))
            boost::hana::second(pair)(out) = json_codec<member>::decode(*v, member_path);
        else if constexpr (is_optional<member>::value)
            boost::hana::second(pair)(out) = std::nullopt;
        else
            member_path.fail(concat({"missing member \"", name, "\" (required by ", type_name<T>(), ")"}));
    }
    [[noreturn]] static T decode_unreachable(const boost::json::value&, const json_path& path) {
        path.fail("cannot decode a type without a default constructor");
    }
};

/// flow_output's (<pgflow/output.hpp>): an object keyed by leaf step slug, null for no leaves.
template <class Output, class... Fields>
struct flow_output_codec {
    // No fold expressions over the fields: a flow may have hundreds of leaves (compile/type_list.hpp).
    static constexpr bool all_optional = all_of_pack<is_optional<typename Fields::value_type>::value...>;
    static boost::json::value encode(const Output& out) {
        if constexpr (sizeof...(Fields) == 0) {
            return nullptr;
        } else {
            boost::json::object o;
            [[maybe_unused]] const int encoded[] = {0, (encode_field<Fields>(o, out), 0)...};
            if (o.empty() && all_optional) return nullptr;
            return o;
        }
    }
    static Output decode(const boost::json::value& v, const json_path& path) {
        Output out{};
        if constexpr (sizeof...(Fields) == 0) {
            if (!v.is_null() && !v.is_object()) fail_expected(path, "null", v);
        } else {
            if (v.is_null() && all_optional) return out;
            const auto* o = v.if_object();
            if (o == nullptr) fail_expected(path, "an object keyed by leaf step slug", v);
            [[maybe_unused]] const int decoded[] = {0, (decode_field<Fields>(out, *o, path), 0)...};
        }
        return out;
    }

private:
    /// A skipped leaf (nullopt) is left out, as the run output leaves it out.
    template <class Field>
    static void encode_field(boost::json::object& o, const Output& out) {
        const auto& value = static_cast<const Field&>(out).value;
        if constexpr (is_optional<typename Field::value_type>::value) {
            if (!value) return;
        }
        o.emplace(Field::slug_string.view(), json_codec<typename Field::value_type>::encode(value));
    }
    template <class Field>
    static void decode_field(Output& out, const boost::json::object& o, const json_path& path) {
        constexpr std::string_view slug = Field::slug_string.view();
        const json_path field_path = path.member(slug);
        const boost::json::value* v = o.if_contains(slug);
        if (v == nullptr && is_optional<typename Field::value_type>::value) return;
        if (v == nullptr) field_path.fail(concat({"missing the output of leaf step \"", slug, "\""}));
        static_cast<Field&>(out).value = json_codec<typename Field::value_type>::decode(*v, field_path);
    }
};

}  // namespace detail

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
