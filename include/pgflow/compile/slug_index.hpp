#pragma once
// A constexpr open-addressing hash table of slugs: constant-time lookups and duplicate detection
// while a flow's graph is analyzed at compile time (a sort-based lookup costs several times more
// constant-evaluation steps for flows of hundreds of steps).

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pgflow::detail {

constexpr std::uint32_t slug_hash(std::string_view s) noexcept {
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
}

/// Indices into an array of N slugs, hashed by slug.
template <std::size_t N>
class slug_index {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// Adds slugs[i]; returns the index of an earlier equal slug, or npos.
    constexpr std::size_t insert(const std::array<std::string_view, N>& slugs, std::size_t i) noexcept {
        std::size_t s = slug_hash(slugs[i]) & mask;
        for (; slots_[s] != 0; s = (s + 1) & mask)
            if (slugs[slots_[s] - 1] == slugs[i]) return slots_[s] - 1;
        slots_[s] = i + 1;
        return npos;
    }
    /// Index of the slug equal to `slug`, or npos.
    [[nodiscard]] constexpr std::size_t find(const std::array<std::string_view, N>& slugs,
                                             std::string_view slug) const noexcept {
        for (std::size_t s = slug_hash(slug) & mask; slots_[s] != 0; s = (s + 1) & mask)
            if (slugs[slots_[s] - 1] == slug) return slots_[s] - 1;
        return npos;
    }

private:
    static constexpr std::size_t capacity = std::bit_ceil(2 * N + 1);
    static constexpr std::size_t mask = capacity - 1;
    std::array<std::size_t, capacity> slots_{};  ///< index + 1, 0 = empty
};

/// Position of the first slug equal to an earlier one, or npos.
template <std::size_t N>
constexpr std::size_t first_repeated(const std::array<std::string_view, N>& slugs) noexcept {
    slug_index<N> index;
    for (std::size_t i = 0; i < N; ++i)
        if (index.insert(slugs, i) != slug_index<N>::npos) return i;
    return slug_index<N>::npos;
}

}  // namespace pgflow::detail
