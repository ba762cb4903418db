#pragma once
// pgflow::parse_json — how pgflow-cpp reads every JSON text (run inputs on the command line, task
// inputs in the worker, outputs and events in the client): one configuration, so that what one
// part accepts the others accept too.
//
//   boost::json::value v = pgflow::parse_json(text);   // throws pgflow::json_parse_error
//
// - Nesting: up to pgflow::max_json_depth (10,000) levels of arrays and objects, beyond what
//   PostgreSQL's jsonb accepts with its default max_stack_depth (about 5,000 with 2 MB of stack);
//   Boost.JSON's own default of 32 rejected inputs that the database holds without trouble.
// - Numbers: PostgreSQL keeps jsonb numbers exactly, Boost.JSON as 64-bit integers or doubles. A
//   number a double cannot give back as written (12345678901234567890123456789, 0.1000000000000000001,
//   1e400) is an error naming its JSON path, not a silent rounding; send such numbers as strings.
//   A number the double prints back with the same value (0.1, 1e23, 2.50) is accepted.
// - Errors say what is wrong and where: "invalid UTF-8 at byte 7", "nested deeper than 10000
//   levels of arrays and objects at byte 10001", "syntax error at byte 4".

#include <pgflow/detail/text.hpp>
#include <pgflow/detail/utf8.hpp>
#include <pgflow/error.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow {

/// The deepest nesting of arrays and objects parse_json accepts.
inline constexpr std::size_t max_json_depth = 10000;

/// JSON text pgflow-cpp cannot read: not JSON, nested too deep, or holding a number a double
/// cannot represent as written. `problem()` is the description without the "pgflow: " context,
/// `path()` the JSON path of an offending number (`$.items[3]`, empty for other problems) and
/// `offset()` the byte offset, counted from 0, where reading stopped.
class json_parse_error : public error {
public:
    /// `subject` names the text in what(): "pgflow: cannot read <subject>: <problem>".
    json_parse_error(std::string_view subject, std::string problem, std::string path, std::size_t offset)
        : error(detail::concat({"pgflow: cannot read ", subject, ": ", problem})), problem_(std::move(problem)),
          path_(std::move(path)), offset_(offset) {}
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

private:
    std::string problem_;
    std::string path_;
    std::size_t offset_;
};

namespace detail {

/// A decimal number as (sign, significant digits, exponent): value = digits × 10^exponent, no
/// leading or trailing zero in digits, zero as empty digits. Exponents saturate far beyond any
/// double's, which keeps the comparison exact without big integers.
struct decimal_number {
    bool negative = false;
    std::string digits;
    long long exponent = 0;
    friend bool operator==(const decimal_number&, const decimal_number&) = default;
};

/// Reads a JSON number literal or std::to_chars output ("-12.50e+3", "1e+23").
inline decimal_number to_decimal(std::string_view text) {
    constexpr long long saturation = 1'000'000'000'000LL;
    decimal_number d;
    std::size_t i = 0;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) d.negative = text[i++] == '-';
    long long fraction_digits = 0;
    bool in_fraction = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            in_fraction = true;
        } else if (c >= '0' && c <= '9') {
            if (!(d.digits.empty() && c == '0')) d.digits += c;
            if (in_fraction) ++fraction_digits;
        } else {
            break;
        }
    }
    long long exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool negative_exponent = false;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative_exponent = text[i++] == '-';
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i)
            if (exponent < saturation) exponent = exponent * 10 + (text[i] - '0');
        if (negative_exponent) exponent = -exponent;
    }
    std::size_t trailing = 0;
    while (trailing < d.digits.size() && d.digits[d.digits.size() - 1 - trailing] == '0') ++trailing;
    d.digits.resize(d.digits.size() - trailing);
    if (d.digits.empty()) return {};
    d.exponent = exponent - fraction_digits + static_cast<long long>(trailing);
    return d;
}

/// Why the double `value` read from `literal` would not be written back as the number written, or
/// nullopt when it would. Boost.JSON writes a double's shortest round-trip digits (2^64 as
/// 1.8446744073709552E19, which PostgreSQL keeps as 18446744073709552000), hence the comparison
/// with those digits rather than with the double's exact value.
inline std::optional<std::string> inexact_number(double value, std::string_view literal) {
    char buffer[40];
    char plain_buffer[40];
    std::string_view shortest = "an infinity";
    if (std::isfinite(value)) {
        const auto written = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
        shortest = std::string_view(buffer, static_cast<std::size_t>(written.ptr - buffer));
        const auto stored = to_decimal(shortest);
        if (stored == to_decimal(literal)) return std::nullopt;
        // Shown as people write it (0.1 rather than 1e-01) when that reads as the same number.
        const auto plain = std::to_chars(plain_buffer, plain_buffer + sizeof plain_buffer, value);
        const std::string_view plain_text(plain_buffer, static_cast<std::size_t>(plain.ptr - plain_buffer));
        if (to_decimal(plain_text) == stored) shortest = plain_text;
    }
    const std::string shown = literal.size() > 60 ? concat({literal.substr(0, 60), "…"}) : std::string(literal);
    constexpr std::string_view why =
        " cannot be held exactly (pgflow-cpp reads JSON numbers as 64-bit integers or doubles, and it would become ";
    return concat({"the number ", shown, why, shortest, "); send it as a string"});
}

/// The offset of the first byte of `text` that does not start a valid UTF-8 sequence, if any.
inline std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const int n = utf8_sequence_at(text.substr(i));
        if (n < 0) return i;
        i += static_cast<std::size_t>(n);
    }
    return std::nullopt;
}

/// Boost.JSON's parser handler (as boost::json::parser's) that also keeps the JSON path of the
/// value being read and checks every number that became a double against its literal.
class json_value_builder {
public:
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    boost::json::value_stack values;
    std::string problem;  ///< set when a number was refused
    std::string path;     ///< where

    bool on_document_begin(boost::json::error_code&) { return true; }
    bool on_document_end(boost::json::error_code&) { return true; }
    bool on_object_begin(boost::json::error_code&) {
        frames_.push_back({false, 0, {}});
        return true;
    }
    bool on_object_end(std::size_t n, boost::json::error_code&) {
        values.push_object(n);
        frames_.pop_back();
        return value_done();
    }
    bool on_array_begin(boost::json::error_code&) {
        frames_.push_back({true, 0, {}});
        return true;
    }
    bool on_array_end(std::size_t n, boost::json::error_code&) {
        values.push_array(n);
        frames_.pop_back();
        return value_done();
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        values.push_chars(s);
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        values.push_key(s);
        key_.append(s.data(), s.size());
        frames_.back().key.swap(key_);
        key_.clear();
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        values.push_chars(s);
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::json::error_code&) {
        values.push_string(s);
        return value_done();
    }
    bool on_number_part(boost::json::string_view s, boost::json::error_code&) {
        number_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, boost::json::string_view, boost::json::error_code&) {
        values.push_int64(i);
        number_.clear();
        return value_done();
    }
    bool on_uint64(std::uint64_t u, boost::json::string_view, boost::json::error_code&) {
        values.push_uint64(u);
        number_.clear();
        return value_done();
    }
    bool on_double(double d, boost::json::string_view s, boost::json::error_code& ec) {
        number_.append(s.data(), s.size());
        if (auto why = inexact_number(d, number_)) {
            problem = std::move(*why);
            path = current_path();
            ec = boost::json::error::exception;
            return false;
        }
        values.push_double(d);
        number_.clear();
        return value_done();
    }
    bool on_bool(bool b, boost::json::error_code&) {
        values.push_bool(b);
        return value_done();
    }
    bool on_null(boost::json::error_code&) {
        values.push_null();
        return value_done();
    }
    bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

private:
    struct frame {
        bool array;
        std::size_t index;  // of the element being read
        std::string key;    // of the member being read
    };

    bool value_done() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
        return true;
    }

    [[nodiscard]] std::string current_path() const {
        std::string out = "$";
        for (const auto& f : frames_) {
            if (f.array) {
                out += '[' + std::to_string(f.index) + ']';
            } else if (is_identifier(f.key)) {
                out += '.';
                out += f.key;
            } else {
                out += '[';
                out += detail::quoted(f.key);
                out += ']';
            }
        }
        return out;
    }

    static bool is_identifier(std::string_view s) noexcept {
        if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
        for (const char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
        return true;
    }

    std::vector<frame> frames_;
    std::string key_;     // a key arriving in parts
    std::string number_;  // a number arriving in parts
};

}  // namespace detail

/// Parses `text` as one JSON value (surrounding whitespace allowed) with pgflow-cpp's limits (see
/// the top of this file). Throws json_parse_error, whose message names the text as `subject`.
inline boost::json::value parse_json(std::string_view text, std::string_view subject = "JSON") {
    boost::json::parse_options options;
    options.max_depth = max_json_depth;
    boost::json::basic_parser<detail::json_value_builder> parser(options);
    auto& builder = parser.handler();
    builder.values.reset();
    boost::json::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    const auto at = [used] { return " at byte " + std::to_string(used + 1); };  // errors only
    if (!builder.problem.empty())
        throw json_parse_error(subject, "at " + builder.path + ": " + builder.problem, builder.path, used);
    if (ec == boost::json::error::too_deep)
        throw json_parse_error(
            subject, "nested deeper than " + std::to_string(max_json_depth) + " levels of arrays and objects" + at(),
            {}, used);
    if (ec) {
        if (const auto bad = detail::invalid_utf8_at(text); bad && *bad <= used)
            throw json_parse_error(subject, "invalid UTF-8 at byte " + std::to_string(*bad + 1), {}, *bad);
        if (used >= text.size()) throw json_parse_error(subject, "the text ends before the JSON value does", {}, used);
        throw json_parse_error(subject, ec.message() + at(), {}, used);
    }
    if (used < text.size()) throw json_parse_error(subject, "unexpected text after the JSON value" + at(), {}, used);
    return builder.values.release();
}

}  // namespace pgflow
