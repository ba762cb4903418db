#pragma once
// pgflow::fixed_string — a string literal usable as a template argument, so that slugs live in
// types (`step<"charge">`) and every compile-time diagnostic can name them.

#include <cstddef>
#include <string_view>

namespace pgflow {

/// A string of N-1 characters plus a terminating NUL, usable as a non-type template parameter.
/// Compilers print it as `fixed_string<7>{"charge"}`, which keeps diagnostics readable.
template <std::size_t N>
struct fixed_string {
    char data[N]{};

    constexpr fixed_string(const char (&text)[N]) noexcept {  // NOLINT: implicit on purpose
        for (std::size_t i = 0; i < N; ++i) data[i] = text[i];
    }
    /// From a computed view of exactly N-1 characters (used to build names at compile time).
    constexpr explicit fixed_string(std::string_view text) noexcept {
        for (std::size_t i = 0; i + 1 < N && i < text.size(); ++i) data[i] = text[i];
    }

    [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
    constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit on purpose

    template <std::size_t M>
    friend constexpr bool operator==(const fixed_string& a, const fixed_string<M>& b) noexcept {
        return a.view() == b.view();
    }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N>;

}  // namespace pgflow
