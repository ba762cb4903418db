#pragma once
// A constexpr open-addressing hash table of slugs: constant-time lookups and duplicate detection
// while a flow's graph is analyzed at compile time (a sort-based lookup costs several times more
// constant-evaluation steps for flows of hundreds of steps).

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail {

constexpr std::uint32_t slug_hash(std::string_view s) noexcept {
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return h;
}

/// Indices into a list of slugs, hashed by slug. Slots is a std::array for a compile-time flow of N
/// steps (slug_index<N>), a std::vector sized at run time for a dynamic flow (runtime_slug_index).
template <class Slots>
class basic_slug_index {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    constexpr basic_slug_index() = default;
    constexpr explicit basic_slug_index(Slots slots) : slots_(std::move(slots)), mask_(slots_.size() - 1) {}

    /// Adds slugs[i]; returns the index of an earlier equal slug, or npos.
    template <class Slugs>
    constexpr std::size_t insert(const Slugs& slugs, std::size_t i) noexcept {
        std::size_t s = slug_hash(slugs[i]) & mask_;
        for (; slots_[s] != 0; s = (s + 1) & mask_)
            if (slugs[slots_[s] - 1] == slugs[i]) return slots_[s] - 1;
        slots_[s] = i + 1;
        return npos;
    }
    /// Index of the slug equal to `slug`, or npos.
    template <class Slugs>
    [[nodiscard]] constexpr std::size_t find(const Slugs& slugs, std::string_view slug) const noexcept {
        for (std::size_t s = slug_hash(slug) & mask_; slots_[s] != 0; s = (s + 1) & mask_)
            if (slugs[slots_[s] - 1] == slug) return slots_[s] - 1;
        return npos;
    }

private:
    Slots slots_{};  ///< index + 1, 0 = empty
    std::size_t mask_ = slots_.size() - 1;
};

template <std::size_t N>
using slug_index = basic_slug_index<std::array<std::size_t, std::bit_ceil(2 * N + 1)>>;

/// A slug index for n slugs known at run time.
struct runtime_slug_index : basic_slug_index<std::vector<std::size_t>> {
    explicit runtime_slug_index(std::size_t n)
        : basic_slug_index<std::vector<std::size_t>>(std::vector<std::size_t>(std::bit_ceil(2 * n + 1), 0)) {}
};

/// Position of the first element equal to an earlier one, or npos; quadratic, for a run-time list
/// or a few slugs.
template <class Range>
constexpr std::size_t first_repeated(const Range& items) noexcept {
    for (std::size_t i = 1; i < items.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (std::string_view(items[i]) == std::string_view(items[j])) return i;
    return static_cast<std::size_t>(-1);
}

/// Position of the first slug equal to an earlier one, or npos. A few slugs (most steps' dependencies)
/// are compared pairwise, which takes fewer constant-evaluation steps than hashing them.
template <std::size_t N>
constexpr std::size_t first_repeated(const std::array<std::string_view, N>& slugs) noexcept {
    if constexpr (N <= 8) {
        return first_repeated(std::span<const std::string_view>(slugs));
    } else {
        slug_index<N> index;
        for (std::size_t i = 0; i < N; ++i)
            if (index.insert(slugs, i) != slug_index<N>::npos) return i;
        return slug_index<N>::npos;
    }
}

}  // namespace pgflow::detail
