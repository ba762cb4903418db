#pragma once
// detail::type_name<T>() — the compiler's spelling of a type, for messages and flow_shape.

#include <string_view>

namespace pgflow::detail {

template <class T>
constexpr std::string_view type_name_of() noexcept {
#if defined(__clang__)
    constexpr std::string_view pretty = __PRETTY_FUNCTION__;  // "... type_name() [T = Order]"
    constexpr std::string_view prefix = "[T = ";
    constexpr std::size_t begin = pretty.find(prefix) + prefix.size();
    return pretty.substr(begin, pretty.rfind(']') - begin);
#elif defined(__GNUC__)
    constexpr std::string_view pretty = __PRETTY_FUNCTION__;  // "... [with T = Order; std::string_view = ...]"
    constexpr std::string_view prefix = "[with T = ";
    constexpr std::size_t begin = pretty.find(prefix) + prefix.size();
    constexpr std::size_t end = pretty.find(';', begin);
    return pretty.substr(begin, (end == std::string_view::npos ? pretty.rfind(']') : end) - begin);
#else
    return "(unknown type)";
#endif
}

/// Computed once per type (a variable, unlike a function call, is evaluated only once).
template <class T>
inline constexpr std::string_view type_name_v = type_name_of<T>();

template <class T>
constexpr std::string_view type_name() noexcept {
    return type_name_v<T>;
}

}  // namespace pgflow::detail
