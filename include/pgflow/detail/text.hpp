#pragma once
// detail::concat — builds a message by appending pieces. (`"literal" + std::string(...)` trips a
// bogus -Wrestrict in g++ 12 at -O2 and above, GCC bug 105329; appending avoids it.)
// detail::quoted — a name from outside (a slug, a key) in double quotes for a message.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pgflow::detail {

inline std::string concat(std::initializer_list<std::string_view> pieces) {
    std::size_t size = 0;
    for (const std::string_view piece : pieces) size += piece.size();
    std::string out;
    out.reserve(size);
    for (const std::string_view piece : pieces) out.append(piece);
    return out;
}

/// `text` in double quotes with `"`, `\` and control characters escaped (`\0`, `\n`, `\x1f`): a
/// NUL would cut what() short, and a newline would forge a line of a log.
inline std::string quoted(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\0': out += "\\0"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    out += "\\x";
                    out += hex[byte >> 4];
                    out += hex[byte & 0x0f];
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

}  // namespace pgflow::detail
