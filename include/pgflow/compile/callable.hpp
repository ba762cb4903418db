#pragma once
// What a handler declares: its parameter list, when it has exactly one (function pointers, lambdas
// and function objects with a single, non-template operator()). Used only to explain why a handler
// cannot be called; generic lambdas get the general diagnostic.

#include <pgflow/compile/type_list.hpp>
#include <pgflow/task_context_fwd.hpp>

#include <type_traits>

namespace pgflow::detail {

template <class... Params>
struct declared_signature {
    static constexpr bool known = true;
    using parameters = type_list<Params...>;
};

template <class Callable>
struct callable_signature {
    static constexpr bool known = false;
};

// clang-format off
template <class R, class... A> struct callable_signature<R (*)(A...)> : declared_signature<A...> {};
template <class R, class... A> struct callable_signature<R (*)(A...) noexcept> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...)> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) const> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) noexcept> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) const noexcept> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) &> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) const&> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) & noexcept> : declared_signature<A...> {};
template <class R, class C, class... A> struct callable_signature<R (C::*)(A...) const& noexcept> : declared_signature<A...> {};
// clang-format on
template <class Callable>
    requires std::is_class<Callable>::value && requires { &Callable::operator(); }  // not is_class_v: see flow_traits
struct callable_signature<Callable> : callable_signature<decltype(&Callable::operator())> {};

/// The declared parameters without a trailing task_context (which every handler may take).
template <class List>
struct without_trailing_context {
    using type = List;
};
template <class... Ps>
    requires(sizeof...(Ps) > 0) && std::is_same_v<std::remove_cvref_t<type_at<sizeof...(Ps) - 1, Ps...>>, task_context>
struct without_trailing_context<type_list<Ps...>> {
    template <std::size_t... Is>
    static auto drop_last(std::index_sequence<Is...>) -> type_list<type_at<Is, Ps...>...>;
    using type = decltype(drop_last(std::make_index_sequence<sizeof...(Ps) - 1>{}));
};

}  // namespace pgflow::detail
