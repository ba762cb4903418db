#pragma once
// Small type-pack utilities with constant instantiation depth (no recursion over the pack), so
// that flows of hundreds of steps stay cheap to compile.

#include <pgflow/fixed_string.hpp>

#include <cstddef>
#include <utility>

namespace pgflow::detail {

template <class... Ts>
struct type_list {
    static constexpr std::size_t size = sizeof...(Ts);
};

template <std::size_t I, class T>
struct indexed_type {
    using type = T;
};
template <class Sequence, class... Ts>
struct type_indexer;
template <std::size_t... Is, class... Ts>
struct type_indexer<std::index_sequence<Is...>, Ts...> : indexed_type<Is, Ts>... {};

template <std::size_t I, class T>
indexed_type<I, T> select_indexed(const indexed_type<I, T>&);

/// Values of types Ts stored flat, value I read as static_cast<indexed_value<I, T>&>(v).value: a
/// flow's steps, a task's decoded arguments. Not std::tuple, whose recursive layout costs tens of
/// seconds and gigabytes to compile for a few hundred values.
template <std::size_t I, class T>
struct indexed_value {
    T value;
};
template <class Sequence, class... Ts>
struct indexed_values;
template <std::size_t... Is, class... Ts>
struct indexed_values<std::index_sequence<Is...>, Ts...> : indexed_value<Is, Ts>... {};

/// The I-th type of Ts.
#if defined(__clang__)
template <std::size_t I, class... Ts>
using type_at = __type_pack_element<I, Ts...>;
#else
template <std::size_t I, class... Ts>
using type_at =
    typename decltype(select_indexed<I>(std::declval<type_indexer<std::index_sequence_for<Ts...>, Ts...>>()))::type;
#endif

template <std::size_t I, class List>
struct list_at_impl;
template <std::size_t I, class... Ts>
struct list_at_impl<I, type_list<Ts...>> {
    using type = type_at<I, Ts...>;
};
template <std::size_t I, class List>
using list_at = typename list_at_impl<I, List>::type;

/// Position of the first true of Bs; sizeof...(Bs) when none is.
template <bool... Bs>
constexpr std::size_t index_of_first() noexcept {
    constexpr bool values[] = {Bs..., false};
    std::size_t i = 0;
    while (i < sizeof...(Bs) && !values[i]) ++i;
    return i;
}

// Reductions over packs without fold expressions: clang refuses a fold of more than 256 operands
// (its bracket depth, which the user would have to raise), and a flow may have more steps than that.
// A braced list has no such limit.

/// Every one of Bs is true.
template <bool... Bs>
inline constexpr bool all_of_pack = index_of_first<!Bs...>() == sizeof...(Bs);
/// Some one of Bs is true.
template <bool... Bs>
inline constexpr bool any_of_pack = index_of_first<Bs...>() != sizeof...(Bs);
/// The sum of Ns.
template <std::size_t... Ns>
constexpr std::size_t sum_of_pack() noexcept {
    constexpr std::size_t values[] = {0, Ns...};
    std::size_t sum = 0;
    for (const std::size_t n : values) sum += n;
    return sum;
}

/// `value == expected` for the scoped enums of templates (`is(Step::kind, step_kind::signal)`). clang
/// resolves an `==` between two enums that depend on a template parameter against every built-in
/// candidate each time it is instantiated, about 50 µs; a call to this template costs a fraction of
/// that (a 500-step flow makes over a dozen such comparisons per step: 7.5 % of clang 16's time).
template <class Enum>
[[nodiscard]] constexpr bool is(Enum value, Enum expected) noexcept {
    return value == expected;
}

/// A slug as a type, so that packs of slugs can be indexed like packs of types.
template <fixed_string Slug>
struct slug_constant {
    static constexpr auto value = Slug;
};

/// The I-th of Slugs.
template <std::size_t I, fixed_string... Slugs>
inline constexpr auto slug_at = type_at<I, slug_constant<Slugs>...>::value;

}  // namespace pgflow::detail
