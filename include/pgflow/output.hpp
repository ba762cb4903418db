#pragma once
// pgflow::flow_output — the typed output of a run: one member per leaf step (a step no other step
// depends on; docs/json.md), read by slug:
//
//   auto out = pgflow::from_json<decltype(f)::output_type>(run_output_json);
//   const Charge& c = pgflow::get<"charge">(out);      // or out.get<"charge">()
//
// A leaf the run may complete without (a step that can be skipped, or below a skip-cascade;
// conditions.hpp) is a std::optional: absent from the run output, it is std::nullopt.

#include <pgflow/compile/type_list.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/json.hpp>

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

namespace pgflow {

/// The output of the leaf step Slug inside a flow_output.
template <fixed_string Slug, class T>
struct output_field {
    static constexpr auto slug_string = Slug;
    using value_type = T;
    T value{};

    friend bool operator==(const output_field&, const output_field&) = default;
};

namespace detail {
template <fixed_string Slug, class T>
constexpr T& field_value(output_field<Slug, T>& f) noexcept {
    return f.value;
}
template <fixed_string Slug, class T>
constexpr const T& field_value(const output_field<Slug, T>& f) noexcept {
    return f.value;
}
}  // namespace detail

template <class... Fields>
struct flow_output : Fields... {
    /// The leaf steps' slugs, in declaration order.
    static constexpr std::array<std::string_view, sizeof...(Fields)> slugs{Fields::slug_string.view()...};
    template <fixed_string Slug>
    static constexpr bool has = detail::any_of_pack<(Fields::slug_string == Slug)...>;

    template <fixed_string Slug>
    [[nodiscard]] constexpr auto& get() & noexcept {
        static_assert(has<Slug>,
                      "the flow output has no member for this step: only leaf steps (steps no other step "
                      "depends on) are part of a run's output");
        return detail::field_value<Slug>(*this);
    }
    template <fixed_string Slug>
    [[nodiscard]] constexpr const auto& get() const& noexcept {
        static_assert(has<Slug>,
                      "the flow output has no member for this step: only leaf steps (steps no other step "
                      "depends on) are part of a run's output");
        return detail::field_value<Slug>(*this);
    }

    friend bool operator==(const flow_output&, const flow_output&) = default;
};

/// The output of leaf step Slug.
template <fixed_string Slug, class... Fields>
[[nodiscard]] constexpr auto& get(flow_output<Fields...>& out) noexcept {
    return out.template get<Slug>();
}
template <fixed_string Slug, class... Fields>
[[nodiscard]] constexpr const auto& get(const flow_output<Fields...>& out) noexcept {
    return out.template get<Slug>();
}

/// A run's output: an object keyed by leaf step slug. Zero leaves (a flow without steps) is null, and
/// so is the output of a run whose leaves were all skipped (then every member is optional).
template <class... Fields>
    requires detail::all_of_pack<json_convertible<typename Fields::value_type>...>
struct json_codec<flow_output<Fields...>> {
    using output = flow_output<Fields...>;
    // No fold expressions over the fields: a flow may have hundreds of leaves (compile/type_list.hpp).
    static constexpr bool all_optional =
        detail::all_of_pack<detail::is_optional<typename Fields::value_type>::value...>;
    static boost::json::value encode(const output& out) {
        if constexpr (sizeof...(Fields) == 0) {
            return nullptr;
        } else {
            boost::json::object o;
            [[maybe_unused]] const int encoded[] = {0, (encode_field<Fields>(o, out), 0)...};
            if (o.empty() && all_optional) return nullptr;
            return o;
        }
    }
    static output decode(const boost::json::value& v, const json_path& path) {
        output out{};
        if constexpr (sizeof...(Fields) == 0) {
            if (!v.is_null() && !v.is_object()) detail::fail_expected(path, "null", v);
        } else {
            if (v.is_null() && all_optional) return out;
            const auto* o = v.if_object();
            if (o == nullptr) detail::fail_expected(path, "an object keyed by leaf step slug", v);
            [[maybe_unused]] const int decoded[] = {0, (decode_field<Fields>(out, *o, path), 0)...};
        }
        return out;
    }

private:
    /// A skipped leaf (nullopt) is left out, as the run output leaves it out.
    template <class Field>
    static void encode_field(boost::json::object& o, const output& out) {
        const auto& value = static_cast<const Field&>(out).value;
        if constexpr (detail::is_optional<typename Field::value_type>::value) {
            if (!value) return;
        }
        o.emplace(Field::slug_string.view(), json_codec<typename Field::value_type>::encode(value));
    }
    template <class Field>
    static void decode_field(output& out, const boost::json::object& o, const json_path& path) {
        constexpr std::string_view slug = Field::slug_string.view();
        const json_path field_path = path.member(slug);
        const boost::json::value* v = o.if_contains(slug);
        if (v == nullptr && detail::is_optional<typename Field::value_type>::value) return;
        if (v == nullptr) field_path.fail(detail::concat({"missing the output of leaf step \"", slug, "\""}));
        static_cast<Field&>(out).value = json_codec<typename Field::value_type>::decode(*v, field_path);
    }
};

}  // namespace pgflow
