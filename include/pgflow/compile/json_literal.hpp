#pragma once
// JSON text in constant expressions: a reader that validates it and says where it went wrong, and a
// writer of its compact form (what JavaScript's JSON.stringify(JSON.parse(text)) gives, except that
// numbers keep their spelling). Used for condition patterns, which are template arguments
// (conditions.hpp), so that a typo fails the build and registration writes one canonical text.

#include <array>
#include <cstddef>
#include <string_view>

namespace pgflow::detail {

/// Where `c` is in `set`, or npos. (Not string_view::find: g++'s UBSan instrumentation of find's
/// pointer test is not a constant expression, and the ASan+UBSan build evaluates patterns too.)
constexpr std::size_t char_index(std::string_view set, char c) noexcept {
    for (std::size_t i = 0; i < set.size(); ++i)
        if (set[i] == c) return i;
    return std::string_view::npos;
}

enum class json_kind { null, boolean, number, string, array, object };

/// "number", "object"... as diagnostics say it.
[[nodiscard]] constexpr std::string_view json_kind_name(json_kind k) noexcept {
    switch (k) {
        case json_kind::null: return "null";
        case json_kind::boolean: return "boolean";
        case json_kind::number: return "number";
        case json_kind::string: return "string";
        case json_kind::array: return "array";
        case json_kind::object: break;
    }
    return "object";
}

constexpr bool is_json_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr int json_hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Reads JSON text one piece at a time, validating as it goes. The first problem is kept (what and
/// at which offset; short texts: clang cuts long template arguments in diagnostics); every call
/// after it fails. Objects and arrays are read with begin_* and then
/// next_member / next_element until they return false.
struct json_reader {
    std::string_view text;
    std::size_t pos = 0;
    std::string_view problem{};  ///< empty while the text is valid so far
    std::size_t problem_at = 0;

    [[nodiscard]] constexpr bool failed() const noexcept { return !problem.empty(); }
    constexpr bool fail(std::string_view what) noexcept {
        if (!failed()) {
            problem = what;
            problem_at = pos;
        }
        return false;
    }
    constexpr void skip_space() noexcept {
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
            ++pos;
    }
    [[nodiscard]] constexpr char peek() noexcept {
        skip_space();
        return pos < text.size() ? text[pos] : '\0';
    }
    constexpr bool at_end() noexcept { return peek() == '\0' && pos == text.size(); }
    constexpr bool expect(char c, std::string_view what) noexcept {
        if (failed() || peek() != c) return fail(what);
        ++pos;
        return true;
    }

    /// The kind of the value that starts here (nothing is consumed).
    constexpr bool kind(json_kind& k) noexcept {
        const char c = peek();
        if (c == '{')
            k = json_kind::object;
        else if (c == '[')
            k = json_kind::array;
        else if (c == '"')
            k = json_kind::string;
        else if (c == 't' || c == 'f')
            k = json_kind::boolean;
        else if (c == 'n')
            k = json_kind::null;
        else if (c == '-' || is_json_digit(c))
            k = json_kind::number;
        else
            return fail("expected a JSON value");
        return !failed();
    }

    constexpr bool word(std::string_view w) noexcept {
        if (text.substr(pos, w.size()) != w) return fail("expected true, false or null");
        pos += w.size();
        return true;
    }
    constexpr bool digits() noexcept {
        if (pos >= text.size() || !is_json_digit(text[pos])) return fail("expected a digit");
        while (pos < text.size() && is_json_digit(text[pos])) ++pos;
        return true;
    }
    /// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    constexpr bool number() noexcept {
        if (text[pos] == '-') ++pos;
        if (pos < text.size() && text[pos] == '0') {
            ++pos;
            if (pos < text.size() && is_json_digit(text[pos])) return fail("a number starts with 0");
        } else if (!digits()) {
            return false;
        }
        if (pos < text.size() && text[pos] == '.' && (++pos, !digits())) return false;
        if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
            ++pos;
            if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
            return digits();
        }
        return true;
    }
    /// A string; `raw` is what lies between the quotes, escapes as written.
    constexpr bool string(std::string_view& raw) noexcept {
        if (!expect('"', "expected a string")) return false;
        const std::size_t begin = pos;
        while (pos < text.size() && text[pos] != '"') {
            const char c = text[pos];
            if (static_cast<unsigned char>(c) < 0x20) return fail("unescaped control character");
            if (c == '\\') {
                ++pos;
                const char e = pos < text.size() ? text[pos] : '\0';
                if (e == 'u') {
                    for (std::size_t k = 1; k <= 4; ++k)
                        if (pos + k >= text.size() || json_hex_value(text[pos + k]) < 0)
                            return fail("expected 4 hex digits");
                    pos += 4;
                } else if (char_index("\"\\/bfnrt", e) == std::string_view::npos) {
                    return fail("invalid escape");
                }
            }
            ++pos;
        }
        if (pos >= text.size()) return fail("unterminated string");
        raw = text.substr(begin, pos - begin);
        ++pos;
        return true;
    }

    constexpr bool begin_object() noexcept { return expect('{', "expected an object"); }
    constexpr bool begin_array() noexcept { return expect('[', "expected an array"); }
    /// Moves to the next member's value and names it; false after the closing brace or on error.
    constexpr bool next_member(std::string_view& key, bool& first) noexcept {
        if (failed()) return false;
        const char c = peek();
        if (c == '}' && first) return ++pos, false;
        if (!first) {
            if (c == '}') return ++pos, false;
            if (!expect(',', "expected ',' or '}'")) return false;
        }
        first = false;
        if (peek() != '"') return fail("expected a quoted member name");
        return string(key) && expect(':', "expected ':'");
    }
    /// Moves to the next element; false after the closing bracket or on error.
    constexpr bool next_element(bool& first) noexcept {
        if (failed()) return false;
        const char c = peek();
        if (c == ']' && first) return ++pos, false;
        if (!first) {
            if (c == ']') return ++pos, false;
            if (!expect(',', "expected ',' or ']'")) return false;
        }
        first = false;
        return true;
    }

    /// Reads (validates) one whole value of any kind.
    constexpr bool skip_value(int depth = 0) noexcept {
        json_kind k{};
        if (!kind(k)) return false;
        if (depth > 256) return fail("nested too deeply");
        bool first = true;
        std::string_view s;
        switch (k) {
            case json_kind::object:
                begin_object();
                while (next_member(s, first)) skip_value(depth + 1);
                break;
            case json_kind::array:
                begin_array();
                while (next_element(first)) skip_value(depth + 1);
                break;
            case json_kind::string: string(s); break;
            case json_kind::number: number(); break;
            case json_kind::boolean: word(text[pos] == 't' ? "true" : "false"); break;
            case json_kind::null: word("null"); break;
        }
        return !failed();
    }
};

/// Reads a condition pattern: one JSON object and nothing after it. The reader tells what failed.
[[nodiscard]] constexpr json_reader read_pattern(std::string_view text) noexcept {
    json_reader r{text};
    if (r.peek() != '{') {
        r.fail("expected an object {...}");
    } else if (r.skip_value() && !r.at_end()) {
        r.fail("text after the object");
    }
    return r;
}

/// The code point of the \uXXXX at raw[i] (i at the 'u').
constexpr unsigned json_escape_code(std::string_view raw, std::size_t i) noexcept {
    unsigned code = 0;
    for (std::size_t k = 1; k <= 4; ++k) code = code * 16 + static_cast<unsigned>(json_hex_value(raw[i + k]));
    return code;
}

/// Decodes the code point or byte at raw[i] (a string's inside, valid): `put` gets its UTF-8 bytes,
/// or, for a lone surrogate (not encodable), `escape` gets it. Returns the index after it.
template <class Put, class Escape>
constexpr std::size_t decode_json_char(std::string_view raw, std::size_t i, Put put, Escape escape) {
    if (raw[i] != '\\') {
        put(raw[i]);
        return i + 1;
    }
    const char e = raw[i + 1];
    if (e != 'u') {
        constexpr std::string_view from = "\"\\/bfnrt";
        constexpr std::string_view to = "\"\\/\b\f\n\r\t";
        put(to[char_index(from, e)]);
        return i + 2;
    }
    unsigned code = json_escape_code(raw, i + 1);
    std::size_t next = i + 6;
    if (code >= 0xD800 && code < 0xDC00 && next + 6 <= raw.size() && raw.substr(next, 2) == "\\u") {
        const unsigned low = json_escape_code(raw, next + 1);
        if (low >= 0xDC00 && low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            next += 6;
        }
    }
    if (code >= 0xD800 && code < 0xE000) {
        escape(code);
    } else if (code < 0x80) {
        put(static_cast<char>(code));
    } else if (code < 0x800) {
        put(static_cast<char>(0xC0 | (code >> 6)));
        put(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
        put(static_cast<char>(0xE0 | (code >> 12)));
        put(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        put(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
        put(static_cast<char>(0xF0 | (code >> 18)));
        put(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        put(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        put(static_cast<char>(0x80 | (code & 0x3F)));
    }
    return next;
}

/// A JSON string's inside (escapes as written) equals `name` once decoded.
[[nodiscard]] constexpr bool json_string_equals(std::string_view raw, std::string_view name) {
    std::size_t n = 0;
    bool equal = true;
    const auto put = [&](char c) {
        equal = equal && n < name.size() && name[n] == c;
        ++n;
    };
    for (std::size_t i = 0; i < raw.size() && equal;)
        i = decode_json_char(raw, i, put, [&](unsigned) { equal = false; });
    return equal && n == name.size();
}

/// `\u00XX`-style escape with lowercase hex, as JSON.stringify writes it.
template <class Out>
constexpr void put_unicode_escape(Out& out, unsigned code) {
    constexpr std::string_view hex = "0123456789abcdef";
    out.put("\\u");
    for (int shift = 12; shift >= 0; shift -= 4) out.put(hex[(code >> shift) & 0xF]);
}

/// Writes valid JSON text compactly: no whitespace, members in the given order, strings escaped as
/// JSON.stringify does (only '"', '\\' and control characters; \uXXXX of other characters decoded).
template <class Out>
constexpr void write_compact_json(Out& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            ++i;
            continue;
        }
        out.put(c);
        ++i;
        if (c != '"') continue;
        const auto put = [&](char d) {
            constexpr std::string_view plain = "\"\\\b\f\n\r\t";
            constexpr std::string_view escaped = "\"\\bfnrt";
            if (const std::size_t k = char_index(plain, d); k != std::string_view::npos) {
                out.put('\\');
                out.put(escaped[k]);
            } else if (static_cast<unsigned char>(d) < 0x20) {
                put_unicode_escape(out, static_cast<unsigned char>(d));
            } else {
                out.put(d);
            }
        };
        while (text[i] != '"')
            i = decode_json_char(text, i, put, [&](unsigned code) { put_unicode_escape(out, code); });
        out.put('"');
        ++i;
    }
}

/// Compact JSON text in a fixed buffer (never longer than the text it was written from).
template <std::size_t Capacity>
struct compact_json_text {
    std::array<char, Capacity> data{};
    std::size_t size = 0;

    constexpr void put(char c) noexcept { data[size++] = c; }
    constexpr void put(std::string_view s) noexcept {
        for (const char c : s) put(c);
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {data.data(), size}; }
};

}  // namespace pgflow::detail
