#pragma once
// Parses the timestamptz text PostgreSQL's JSON functions print ("2026-11-22T22:43:23.274628+00:00")
// into a system_clock time point; turns a caller's timeout into a deadline without overflowing.

#include <pgflow/error.hpp>

#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

namespace pgflow::detail {

/// `timeout` in whole milliseconds (rounded away from zero), saturating at milliseconds::max() and
/// ::min(): hours::max() ("forever") must not wrap round to a negative count.
template <class Rep, class Period>
std::chrono::milliseconds saturating_milliseconds(std::chrono::duration<Rep, Period> timeout) {
    using std::chrono::milliseconds;
    // Compared in floating point, where no duration overflows.
    const std::chrono::duration<double, std::milli> as_double{timeout};
    if (as_double.count() != as_double.count()) throw invalid_argument_error("pgflow: a timeout is NaN");
    if (as_double >= milliseconds::max()) return milliseconds::max();
    if (as_double <= milliseconds::min()) return milliseconds::min();
    return timeout < timeout.zero() ? std::chrono::floor<milliseconds>(timeout)
                                    : std::chrono::ceil<milliseconds>(timeout);
}

/// `now + timeout`, or time_point::max() when the sum would overflow (milliseconds::max() means
/// "wait forever"). Throws invalid_argument_error, naming `what` and the value, for a negative
/// timeout.
inline std::chrono::steady_clock::time_point deadline_after(
    std::chrono::milliseconds timeout, std::string_view what,
    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if (timeout < timeout.zero())
        throw invalid_argument_error("pgflow: " + std::string(what) + " must not be negative (got " +
                                     std::to_string(timeout.count()) + " ms)");
    const auto room = std::chrono::steady_clock::time_point::max() - now;
    if (timeout >= std::chrono::floor<std::chrono::milliseconds>(room))
        return std::chrono::steady_clock::time_point::max();
    return now + timeout;
}

inline std::chrono::system_clock::time_point parse_timestamptz(std::string_view text) {
    auto fail = [&]() -> error {
        return error("pgflow: \"" + std::string(text) + "\" is not a timestamp with time zone");
    };
    std::size_t pos = 0;
    auto number = [&](std::size_t digits) {
        if (pos + digits > text.size()) throw fail();
        int value = 0;
        auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + digits, value);
        if (ec != std::errc{} || end != text.data() + pos + digits) throw fail();
        pos += digits;
        return value;
    };
    auto expect = [&](char c) {
        if (pos >= text.size() || text[pos] != c) throw fail();
        ++pos;
    };
    const int year = number(4);
    expect('-');
    const int month = number(2);
    expect('-');
    const int day = number(2);
    if (pos >= text.size() || (text[pos] != 'T' && text[pos] != ' ')) throw fail();
    ++pos;
    const int hour = number(2);
    expect(':');
    const int minute = number(2);
    expect(':');
    const int second = number(2);
    long long micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 6) {
                micros = micros * 10 + (text[pos] - '0');
                ++digits;
            }
            ++pos;
        }
        for (; digits < 6; ++digits) micros *= 10;
    }
    int offset_seconds = 0;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int hours = number(2), minutes = 0, seconds = 0;
        if (pos < text.size() && text[pos] == ':') {
            ++pos;
            minutes = number(2);
            if (pos < text.size() && text[pos] == ':') {
                ++pos;
                seconds = number(2);
            }
        }
        offset_seconds = sign * (hours * 3600 + minutes * 60 + seconds);
    } else if (pos < text.size() && text[pos] == 'Z') {
        ++pos;
    }
    if (pos != text.size()) throw fail();
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                           std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok()) throw fail();
    return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
           std::chrono::seconds{second - offset_seconds} + std::chrono::microseconds{micros};
}

}  // namespace pgflow::detail
