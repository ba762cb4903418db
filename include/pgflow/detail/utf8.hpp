#pragma once
// UTF-8 well-formedness, one character at a time: what the JSON reader checks of its input and
// what the worker repairs in a handler's error message before the database sees it.

#include <cstddef>
#include <string>
#include <string_view>

namespace pgflow::detail {

/// How many bytes at the start of `rest` (not empty) make one well-formed UTF-8 character, or,
/// negated, how many make the longest prefix of one that is cut short or goes wrong (at least 1).
inline int utf8_sequence_at(std::string_view rest) {
    const auto lead = static_cast<unsigned char>(rest[0]);
    if (lead < 0x80) return 1;
    int length = 0;
    // The second byte's range, narrowed after E0, ED, F0 and F4: overlong forms, surrogates and
    // code points past U+10FFFF are ill-formed (Unicode's table 3-7).
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return -1;  // a continuation byte, C0, C1 or F5..FF
    }
    int n = 1;
    for (; n < length && static_cast<std::size_t>(n) < rest.size(); ++n) {
        const auto c = static_cast<unsigned char>(rest[static_cast<std::size_t>(n)]);
        if (c < (n == 1 ? low : 0x80) || c > (n == 1 ? high : 0xBF)) break;
    }
    return n == length ? length : -n;
}

/// `text` with each ill-formed UTF-8 sequence and each NUL replaced by U+FFFD. A failure's message
/// goes to the database as a text parameter: PostgreSQL refuses invalid UTF-8 (SQLSTATE 22021) and
/// pq::to_parameter refuses a NUL, and either would lose the failure.
inline std::string valid_utf8(std::string_view text) {
    constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const int n = utf8_sequence_at(text);
        if (n > 0 && text[0] != '\0')
            out.append(text.substr(0, static_cast<std::size_t>(n)));
        else
            out.append(replacement);
        text.remove_prefix(static_cast<std::size_t>(n > 0 ? n : -n));
    }
    return out;
}

}  // namespace pgflow::detail
