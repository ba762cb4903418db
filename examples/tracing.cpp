// Tracing with the worker's observer hooks: each claim and each handler attempt printed as a
// span-like log line (what an OpenTelemetry exporter would receive), while a small order flow runs;
// one step fails its first attempt, so its retry shows as a second span of the same task.
//
//   2026-12-03T15:04:05.123Z span trace=5f0c…  name=trace_order.charge[0] attempt=1 status=failed  3.1 ms error="…"
//
// Hooks run on the worker's threads: they only format a line and print it under a mutex.

#include <pgflow/pgflow.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

std::atomic<int> charge_attempts{0};

constexpr auto order = pgflow::flow<"trace_order", int>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1}, pgflow::step<"validate">([](int cents) {
        if (cents <= 0) throw pgflow::permanent_error("an order costs something");
        return cents;
    }),
    pgflow::step<"charge", pgflow::after<"validate">>([](int, int cents) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the payment service
        if (++charge_attempts == 1) throw std::runtime_error("payment service timed out (transient)");
        return "charged " + std::to_string(cents);
    }),
    pgflow::step<"reserve", pgflow::after<"validate">>([](int, int) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return std::string("shelf 7");
    }),
    pgflow::step<"ship", pgflow::after<"charge", "reserve">>(
        [](int, const std::string& charged, const std::string& shelf) { return charged + ", from " + shelf; }));

std::mutex print_mutex;

// 2026-12-03T15:04:05.123Z
std::string timestamp(std::chrono::system_clock::time_point at) {
    const auto t = std::chrono::system_clock::to_time_t(at);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms));
    return text;
}

pgflow::worker_observer tracing_observer() {
    pgflow::worker_observer o;
    o.on_claim = [](const pgflow::claim_event& e) {
        if (e.tasks == 0) return;  // idle polls are not worth a line
        std::lock_guard lock(print_mutex);
        std::cout << timestamp(std::chrono::system_clock::now()) << " claim worker=" << e.worker_id.substr(0, 8)
                  << " queue=" << e.flow_slug << " tasks=" << e.tasks << " asked=" << e.requested << '\n';
    };
    o.on_task_end = [](const pgflow::task_end_event& e) {
        const auto ms = std::chrono::duration<double, std::milli>(e.duration).count();
        char took[32];
        std::snprintf(took, sizeof took, "%.1f ms", ms);
        std::lock_guard lock(print_mutex);
        std::cout << timestamp(e.started_at) << " span trace=" << e.run_id.substr(0, 8) << " name=" << e.flow_slug
                  << '.' << e.step_slug << '[' << e.task_index << "] attempt=" << e.attempt
                  << " status=" << pgflow::to_string(e.outcome) << ' ' << took;
        if (!e.error_message.empty()) std::cout << " error=\"" << e.error_message << '"';
        std::cout << '\n';
    };
    return o;
}

}  // namespace

int main() {
    pgflow::client client;  // PGFLOW_DATABASE_URL, or PGHOST, PGPORT, … as psql reads them
    client.install_schema();
    client.ensure_registered(order);
    pgflow::worker_options options;
    options.observer = tracing_observer();
    std::jthread worker([&](std::stop_token stop) { pgflow::worker(client.options(), order, options).run(stop); });

    const auto run = client.start(order, 1250);
    const auto shipped = pgflow::get<"ship">(client.wait(order, run, std::chrono::seconds(30)));
    std::lock_guard lock(print_mutex);
    std::cout << "run " << run.str() << ": " << shipped << '\n';
    return shipped == "charged 1250, from shelf 7" && charge_attempts == 2 ? 0 : 1;
}
