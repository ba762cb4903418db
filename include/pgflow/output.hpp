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
#include <pgflow/fixed_string.hpp>
#include <pgflow/json_traits.hpp>

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

namespace detail {
/// The body of flow_output's codec, in <pgflow/json.hpp>.
template <class Output, class... Fields>
struct flow_output_codec;
}  // namespace detail

/// A run's output: an object keyed by leaf step slug. Zero leaves (a flow without steps) is null, and
/// so is the output of a run whose leaves were all skipped (then every member is optional).
template <class... Fields>
    requires detail::all_of_pack<json_convertible<typename Fields::value_type>...>
struct json_codec<flow_output<Fields...>> {
    using output = flow_output<Fields...>;
    static detail::json_value_t<output> encode(const output& out) {
        return detail::flow_output_codec<output, Fields...>::encode(out);
    }
    static output decode(const boost::json::value& v, const json_path& path) {
        return detail::flow_output_codec<output, Fields...>::decode(v, path);
    }
};

}  // namespace pgflow
