#pragma once
// Steps without handlers (issue 15): the vocabulary shared by the DSL and the worker.
//
// pgflow::sleep_request — THE HOOK between a dispatcher and the worker for sleep steps:
//   A sleep step's task is claimed like any other, but the dispatcher (compiled: make_dispatcher;
//   dynamic: dynamic_flow) runs the step's deadline function and then THROWS a sleep_request
//   instead of returning an output. The worker catches it (before std::exception: it is not one)
//   and, instead of completing the task, calls
//       SELECT pgflow_cpp.sleep_task($1::uuid, $2, $3::int, $4::timestamptz)
//   with run id, step slug, task index and request.until_text(). A hand-written dispatch_function
//   may throw one too. The step's output, set by the database when it wakes, is the ISO time.
//
// pgflow::signal_options — the options of a signal step (DSL: pgflow::signal<...>(options)).

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/shape.hpp>

// <chrono> brings C++20's calendars, time zones and formatting (over a second of parsing with
// libstdc++ 12, for every file that declares a flow); clocks, durations and time points are all
// this header needs, and libstdc++ has them on their own.
#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>
#else
#include <chrono>
#endif
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace pgflow {

/// What a sleep step's dispatch throws: "complete this task at `until`, not now". Not derived from
/// std::exception, so that handlers' `catch (const std::exception&)` cannot swallow it.
struct sleep_request {
    std::chrono::system_clock::time_point until;

    /// `until` in UTC as PostgreSQL reads a timestamptz: "2026-12-03T18:04:05.123456Z".
    [[nodiscard]] std::string until_text() const {
        using namespace std::chrono;
        constexpr std::int64_t micros_per_day = std::int64_t{86400} * 1000000;
        const std::int64_t micros = floor<microseconds>(until).time_since_epoch().count();
        std::int64_t day = micros / micros_per_day;
        std::int64_t of_day = micros % micros_per_day;
        if (of_day < 0) {
            of_day += micros_per_day;
            --day;
        }
        // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
        const std::int64_t z = day + 719468;
        const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const std::int64_t doe = z - era * 146097;
        const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const std::int64_t mp = (5 * doy + 2) / 153;
        const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
        const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        if (year < 0 || year > 9999) return year < 0 ? "-infinity" : "infinity";
        char text[28];
        const auto put = [&](int at, std::int64_t value, int digits) {
            for (int k = digits - 1; k >= 0; --k, value /= 10) text[at + k] = static_cast<char>('0' + value % 10);
        };
        put(0, year, 4);
        text[4] = '-';
        put(5, month, 2);
        text[7] = '-';
        put(8, doy - (153 * mp + 2) / 5 + 1, 2);
        text[10] = 'T';
        put(11, of_day / 3600000000, 2);
        text[13] = ':';
        put(14, of_day / 60000000 % 60, 2);
        text[16] = ':';
        put(17, of_day / 1000000 % 60, 2);
        text[19] = '.';
        put(20, of_day % 1000000, 6);
        text[26] = 'Z';
        return std::string(text, 27);
    }
};

/// A signal step's options. `timeout`: seconds the step waits for its signal (unset: forever);
/// a wait that times out fails the task like a handler failure, retried per max_attempts (each
/// retry waits again, at once: base_delay does not delay a signal's new wait), then handled per
/// when_exhausted.
struct signal_options {
    std::optional<int> timeout = std::nullopt;
    std::optional<int> max_attempts = std::nullopt;
    std::optional<int> base_delay = std::nullopt;

    friend constexpr bool operator==(const signal_options&, const signal_options&) = default;
};

namespace detail {

template <class T>
struct is_system_time : std::false_type {};
template <class D>
struct is_system_time<std::chrono::time_point<std::chrono::system_clock, D>> : std::true_type {};
template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

/// What a sleep step's function may return: when to wake, or how long from now.
template <class T>
concept sleep_deadline = is_system_time<std::remove_cvref_t<T>>::value || is_duration<std::remove_cvref_t<T>>::value;

/// The wake time a sleep step's function returned; a duration counts from now.
template <sleep_deadline T>
std::chrono::system_clock::time_point wake_time(const T& deadline) {
    if constexpr (is_duration<T>::value)
        return std::chrono::system_clock::now() + std::chrono::ceil<std::chrono::system_clock::duration>(deadline);
    else
        return std::chrono::time_point_cast<std::chrono::system_clock::duration>(deadline);
}

/// A signal or subflow step has no queue message, so no worker should ever be handed one; if one
/// is, its task fails at once rather than pretending to complete it.
[[noreturn]] inline void fail_handlerless_step(std::string_view flow_slug, std::string_view step_slug, step_kind kind) {
    throw permanent_error(
        concat({"pgflow: flow ", quoted(flow_slug), ", step ", quoted(step_slug), " is a ", to_string(kind), " step: ",
                kind == step_kind::signal ? "pgflow_cpp.signal completes it, not a worker"
                                          : "its child run completes it, not a worker"}));
}

}  // namespace detail

}  // namespace pgflow
