#pragma once
// value_shape_text<T>::view — what JSON a signal's value of type T must look like, as compact JSON
// text written at compile time from T's JSON mapping (json.hpp), for pgflow_cpp.set_step_kind and
// pgflow_cpp.json_matches_shape (sql/pgflow/0500_set_step_kind.sql: a JSON-Schema-like subset):
//   bool → {"type":"boolean"}; integers → "integer"; floating point → "number"; strings → "string";
//   std::nullptr_t → "null"; sequences and std::array → {"type":"array","items":<element>};
//   string-keyed maps and boost::json::object → {"type":"object"}; adapted structs →
//   {"type":"object","properties":{...},"required":[<members that are not std::optional>]};
//   std::optional<T> → T's shape plus "nullable":true; boost::json::value and types with a
//   hand-written json_codec → {} (any JSON). At the top level "any JSON" is the empty text (NULL).

#include <pgflow/json_traits.hpp>

#include <boost/hana/first.hpp>
#include <boost/hana/unpack.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

namespace pgflow::detail {

struct shape_size_sink {
    std::size_t size = 0;
    constexpr void put(std::string_view s) noexcept { size += s.size(); }
};
template <std::size_t N>
struct shape_buffer_sink {
    std::array<char, N> text{};
    std::size_t size = 0;
    constexpr void put(std::string_view s) noexcept {
        for (const char c : s) text[size++] = c;
    }
};

template <class T, class Out>
constexpr void write_value_shape(Out& out, bool nullable);

template <class Out>
constexpr void put_typed_shape(Out& out, std::string_view type, bool nullable) {
    out.put(R"({"type":")");
    out.put(type);
    out.put(nullable ? R"(","nullable":true})" : R"("})");
}

template <class T, class Out>
constexpr void write_struct_shape(Out& out, bool nullable) {
    out.put(R"({"type":"object","properties":{)");
    bool first = true;
    boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... pairs) {
        const auto property = [&](auto pair) {
            out.put(first ? "\"" : ",\"");
            first = false;
            out.put(std::string_view(hana_member_name(pair)));
            out.put("\":");
            write_value_shape<hana_member_t<T, decltype(pair)>>(out, false);
        };
        (property(pairs), ...);
    });
    out.put("}");
    first = true;
    boost::hana::unpack(boost::hana::accessors<T>(), [&](auto... pairs) {
        const auto required = [&](auto pair) {
            if constexpr (!is_optional<hana_member_t<T, decltype(pair)>>::value) {
                out.put(first ? R"(,"required":[")" : R"(,")");
                first = false;
                out.put(std::string_view(hana_member_name(pair)));
                out.put("\"");
            }
        };
        (required(pairs), ...);
    });
    if (!first) out.put("]");
    out.put(nullable ? R"(,"nullable":true})" : "}");
}

template <class T, class Out>
constexpr void write_value_shape(Out& out, bool nullable) {
    if constexpr (is_optional<T>::value) {
        write_value_shape<typename T::value_type>(out, true);
    } else if constexpr (std::is_same_v<T, bool>) {
        put_typed_shape(out, "boolean", nullable);
    } else if constexpr (json_integer<T>) {
        put_typed_shape(out, "integer", nullable);
    } else if constexpr (std::is_floating_point_v<T>) {
        put_typed_shape(out, "number", nullable);
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, boost::json::string>) {
        put_typed_shape(out, "string", nullable);
    } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
        put_typed_shape(out, "null", false);
    } else if constexpr (std::is_same_v<T, boost::json::object> || map_shaped<T>) {
        put_typed_shape(out, "object", nullable);
    } else if constexpr (std::is_same_v<T, boost::json::array>) {
        put_typed_shape(out, "array", nullable);
    } else if constexpr (sequence_shaped<T> || is_std_array<T>::value) {
        out.put(R"({"type":"array","items":)");
        write_value_shape<typename T::value_type>(out, false);
        out.put(nullable ? R"(,"nullable":true})" : "}");
    } else if constexpr (hana_struct<T>) {
        write_struct_shape<T>(out, nullable);
    } else {
        out.put("{}");  // boost::json::value or a hand-written json_codec: any JSON
    }
}

/// T's shape as compact JSON text; empty when any JSON will do.
template <class T>
struct value_shape_text {
    static constexpr std::size_t size = [] {
        shape_size_sink s;
        write_value_shape<T>(s, false);
        return s.size;
    }();
    static constexpr shape_buffer_sink<size> buffer = [] {
        shape_buffer_sink<size> b;
        write_value_shape<T>(b, false);
        return b;
    }();
    static constexpr std::string_view view = std::string_view(buffer.text.data(), size) == "{}"
                                                 ? std::string_view()
                                                 : std::string_view(buffer.text.data(), size);
};

}  // namespace pgflow::detail
