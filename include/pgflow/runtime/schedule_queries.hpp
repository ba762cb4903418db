#pragma once
// The statements of schedules and the scheduler (pgflow_cpp's schedule functions, sql/pgflow/07xx),
// shared by pgflow::schedules, pgflow::scheduler and the command line. Values are parameters.

#include <string_view>

namespace pgflow::detail::schedule_queries {

// The columns of a schedule as pgflow::schedule reads them; times as Unix epoch seconds.
#define PGFLOW_SCHEDULE_COLUMNS                                                                                   \
    "s.name, s.kind, s.flow_slug, s.input, s.retention::text, s.cron, s.time_zone, s.catch_up, s.enabled, "       \
    "extract(epoch FROM s.next_run_at)::float8, extract(epoch FROM s.last_run_at)::float8, s.last_run_id::text, " \
    "s.last_error"

inline constexpr std::string_view add =
    "SELECT " PGFLOW_SCHEDULE_COLUMNS " FROM pgflow_cpp.add_schedule($1, $2, $3, $4::jsonb, $5, $6::boolean, $7) AS s";
inline constexpr std::string_view add_prune =
    "SELECT " PGFLOW_SCHEDULE_COLUMNS " FROM pgflow_cpp.add_prune_schedule($1, $2::interval, $3, $4, $5::boolean) AS s";
inline constexpr std::string_view set_enabled =
    "SELECT " PGFLOW_SCHEDULE_COLUMNS " FROM pgflow_cpp.set_schedule_enabled($1, $2::boolean) AS s";
inline constexpr std::string_view remove = "SELECT pgflow_cpp.remove_schedule($1)";
inline constexpr std::string_view list =
    "SELECT " PGFLOW_SCHEDULE_COLUMNS " FROM pgflow_cpp.schedules AS s ORDER BY s.name";
inline constexpr std::string_view find =
    "SELECT " PGFLOW_SCHEDULE_COLUMNS " FROM pgflow_cpp.schedules AS s WHERE s.name = $1";

#undef PGFLOW_SCHEDULE_COLUMNS

/// The command line's table: times as text in the session's time zone, to the second.
inline constexpr std::string_view list_for_display =
    "SELECT s.name, CASE s.kind WHEN 'prune' THEN 'prune older than ' || s.retention::text ELSE s.flow_slug END, "
    "s.cron, s.time_zone, CASE WHEN s.enabled THEN 'yes' ELSE 'no' END, "
    "CASE WHEN s.enabled THEN to_char(s.next_run_at, 'YYYY-MM-DD HH24:MI:SS TZ') ELSE '' END, "
    "coalesce(to_char(s.last_run_at, 'YYYY-MM-DD HH24:MI:SS TZ'), ''), coalesce(s.last_error, ''), s.input::text "
    "FROM pgflow_cpp.schedules AS s ORDER BY s.name";

inline constexpr std::string_view acquire_lease = "SELECT pgflow_cpp.acquire_scheduler_lease($1, $2::bigint / 1000.0)";
inline constexpr std::string_view release_lease = "SELECT pgflow_cpp.release_scheduler_lease($1)";
inline constexpr std::string_view run_due =
    "SELECT schedule_name, extract(epoch FROM scheduled_at)::float8, run_id::text, error "
    "FROM pgflow_cpp.run_due_schedules($1::integer)";
/// Seconds until the earliest enabled schedule is due (NULL: none is enabled).
inline constexpr std::string_view seconds_until_due =
    "SELECT extract(epoch FROM min(s.next_run_at) - clock_timestamp())::float8 FROM pgflow_cpp.schedules AS s "
    "WHERE s.enabled";
inline constexpr std::string_view lease_holder =
    "SELECT l.holder FROM pgflow_cpp.scheduler_lease AS l WHERE l.expires_at > clock_timestamp()";

}  // namespace pgflow::detail::schedule_queries
