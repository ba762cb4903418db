#pragma once
// Random (version 4) UUIDs for worker ids and caller-chosen run ids.
//
// Every id takes 16 fresh bytes from the kernel (getrandom(2)) rather than from a generator seeded
// once per process: a process forked after its first id would otherwise repeat its parent's (and
// its siblings') sequence, and forked workers or clients would share worker ids and run ids.

#include <pgflow/run_id.hpp>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include <sys/random.h>

namespace pgflow::detail {

/// Fills `bytes` from the kernel's CSPRNG; throws std::system_error if it cannot.
inline void random_bytes(std::array<std::uint8_t, 16>& bytes) {
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "pgflow: getrandom(2) for a UUID");
        }
        filled += static_cast<std::size_t>(n);
    }
}

inline std::string random_uuid() {
    std::array<std::uint8_t, 16> bytes{};
    random_bytes(bytes);
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    static constexpr char hex[] = "0123456789abcdef";
    std::string text;
    text.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
        text.push_back(hex[bytes[i] >> 4]);
        text.push_back(hex[bytes[i] & 0x0F]);
    }
    return text;
}

}  // namespace pgflow::detail

namespace pgflow {

/// A new random run id, for callers that want to know the id before starting the run.
inline run_id new_run_id() { return run_id{detail::random_uuid()}; }

}  // namespace pgflow
