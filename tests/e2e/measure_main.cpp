// pgflow_e2e_measure: prints the worker's figures on the server the environment names (not a
// test; run it by hand or from scripts):
//   1. tasks/s of one worker on a single-step flow (runs queued beforehand, worker timed alone);
//   2. start → handler latency, p50/p99, on an idle server (LISTEN/NOTIFY wake-up);
//   3. recovery after a worker is killed with SIGKILL mid-task (task timeout 1 s);
//   4. recovery after a server restart (only when PGFLOW_CLUSTER_DIR is set).
// Usage: pgflow_e2e_measure [tasks (default 5000)] [latency samples (default 300)]

#include "flows.hpp"

#include <pgflow/client.hpp>
#include <pgflow/worker.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

struct scratch_database {
    pgflow::pq::connection admin = pgflow::connection_options::from_environment().connect();
    std::string name = "pgflow_measure_" + std::to_string(::getpid());
    pgflow::connection_options options = pgflow::connection_options::from_environment().with_database(name);
    scratch_database() {
        admin.execute("CREATE DATABASE " + admin.quote_identifier(name));
        pgflow::client{options}.install_schema(pgflow::queue_mode::builtin);
    }
    ~scratch_database() {
        try {
            if (!admin.is_ok()) admin = pgflow::connection_options::from_environment().connect();
            admin.execute("DROP DATABASE IF EXISTS " + admin.quote_identifier(name) + " WITH (FORCE)");
        } catch (const std::exception& e) {
            try {
                admin = pgflow::connection_options::from_environment().connect();
                admin.execute("DROP DATABASE IF EXISTS " + admin.quote_identifier(name) + " WITH (FORCE)");
            } catch (const std::exception&) {
                std::cerr << "could not drop " << name << ": " << e.what() << "\n";
            }
        }
    }
};

pgflow::worker_options quiet() {
    pgflow::worker_options o;
    o.log = [](std::string_view) {};
    return o;
}

pid_t spawn_worker(const std::string& database, const std::string& flow) {
    std::vector<std::string> args{PGFLOW_E2E_WORKER, "--flow", flow, "--database", database};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    posix_spawn_file_actions_t quiet_output;
    posix_spawn_file_actions_init(&quiet_output);
    posix_spawn_file_actions_addopen(&quiet_output, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet_output, 2, "/dev/null", O_WRONLY, 0);
    if (::posix_spawn(&pid, PGFLOW_E2E_WORKER, &quiet_output, nullptr, argv.data(), environ) != 0)
        throw std::runtime_error("cannot start " + std::string(PGFLOW_E2E_WORKER));
    posix_spawn_file_actions_destroy(&quiet_output);
    return pid;
}

void stop_process(pid_t pid, int sig) {
    ::kill(pid, sig);
    ::waitpid(pid, nullptr, 0);
}

// Stops a worker process however the measurement ends (an exception included).
struct process_guard {
    pid_t pid;
    ~process_guard() {
        if (pid > 0) stop_process(pid, SIGTERM);
    }
};

void throughput(int tasks) {
    scratch_database db;
    pgflow::client client{db.options};
    client.ensure_registered(e2e::flows::echo);
    client.connection().execute(
        "SELECT count(*) FROM generate_series(1, $1::int) AS i, "
        "LATERAL pgflow.start_flow('e2e_echo', to_jsonb(i))",
        tasks);
    pgflow::worker worker{db.options, e2e::flows::echo, quiet()};
    const auto started = clock_type::now();
    std::jthread runner([&](std::stop_token stop) { worker.run(stop); });
    auto c = db.options.connect();
    double elapsed = 0;
    for (;;) {
        const auto done = c.execute("SELECT count(*) FROM pgflow.runs WHERE status = 'completed'").get<long long>(0, 0);
        if (done >= tasks) {
            elapsed = seconds_since(started);
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    runner.request_stop();
    std::printf(
        "throughput: one worker (batch_size 10, max_concurrent 10), single-step flow: %d tasks in %.2f s = %.0f tasks/s\n",
        tasks, elapsed, tasks / elapsed);
}

void latency(int samples) {
    scratch_database db;
    std::mutex mutex;
    std::condition_variable called;
    std::optional<clock_type::time_point> handler_at;
    pgflow::dynamic_flow flow{"measure_latency"};
    flow.step("touch", [&](const boost::json::value& input) -> boost::json::value {
        {
            std::lock_guard lock(mutex);
            handler_at = clock_type::now();
        }
        called.notify_one();
        return input.at("run");
    });
    pgflow::client client{db.options};
    client.ensure_registered(flow);
    pgflow::worker worker{db.options, flow, quiet()};
    std::jthread runner([&](std::stop_token stop) { worker.run(stop); });
    std::this_thread::sleep_for(300ms);
    std::vector<double> ms, after_commit;
    for (int i = 0; i < samples; ++i) {
        std::this_thread::sleep_for(30ms);  // idle: the worker sleeps on LISTEN
        {
            std::lock_guard lock(mutex);
            handler_at.reset();
        }
        const auto start = clock_type::now();
        client.start(flow, boost::json::value(i));
        const auto committed = clock_type::now();
        std::unique_lock lock(mutex);
        if (!called.wait_for(lock, 10s, [&] { return handler_at.has_value(); }))
            throw std::runtime_error("a handler was not called within 10 s");
        ms.push_back(std::chrono::duration<double, std::milli>(*handler_at - start).count());
        after_commit.push_back(std::chrono::duration<double, std::milli>(*handler_at - committed).count());
    }
    auto pct = [](std::vector<double> v, double p) {
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    };
    std::printf(
        "latency: client.start() called -> handler entered, idle server, %d samples: p50 %.2f ms, p99 %.2f ms\n"
        "         client.start() returned -> handler entered: p50 %.2f ms, p99 %.2f ms\n",
        samples, pct(ms, 0.50), pct(ms, 0.99), pct(after_commit, 0.50), pct(after_commit, 0.99));
}

void worker_kill() {
    scratch_database db;
    pgflow::client client{db.options};
    client.ensure_registered(e2e::flows::slow);
    process_guard doomed{spawn_worker(db.name, "e2e_slow")};
    const auto id = client.start(e2e::flows::slow, 60000);
    auto c = db.options.connect();
    while (c.execute("SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'started'", id)
               .get<long long>(0, 0) == 0)
        std::this_thread::sleep_for(5ms);
    const auto task_started = clock_type::now();
    std::this_thread::sleep_for(200ms);
    stop_process(std::exchange(doomed.pid, -1), SIGKILL);
    const auto killed = clock_type::now();
    const process_guard rescuer{spawn_worker(db.name, "e2e_slow")};
    client.wait(id, 60s);
    std::printf(
        "worker kill: SIGKILL 0.2 s into a task with timeout 1 s; run completed %.2f s after the kill "
        "(%.2f s after the task started; the re-claim deadline is timeout + 2 s = 3 s)\n",
        seconds_since(killed), seconds_since(task_started));
}

void server_restart() {
    const char* dir = std::getenv("PGFLOW_CLUSTER_DIR");
    if (dir == nullptr || *dir == '\0') {
        std::printf("server restart: skipped (PGFLOW_CLUSTER_DIR is not set)\n");
        return;
    }
    scratch_database db;
    pgflow::client client{db.options};
    client.ensure_registered(e2e::flows::steady);
    client.ensure_registered(e2e::flows::echo);
    const process_guard steady{spawn_worker(db.name, "e2e_steady")};
    const process_guard echo{spawn_worker(db.name, "e2e_echo")};
    std::vector<pgflow::run_id> runs;
    for (int i = 0; i < 8; ++i) runs.push_back(client.start(e2e::flows::steady, i));
    std::this_thread::sleep_for(400ms);
    const char* bin = std::getenv("PGFLOW_PG_BIN");
    const std::string command = std::string(::geteuid() == 0 ? "runuser -u postgres -- " : "") +
                                (bin ? bin : "/usr/lib/postgresql/15/bin") + "/pg_ctl -D '" + dir + "' -l '" + dir +
                                "/server.log' -m fast -w -t 60 restart > /dev/null";
    const auto restart_begun = clock_type::now();
    if (std::system(command.c_str()) != 0) throw std::runtime_error("pg_ctl restart failed");
    const auto restarted = clock_type::now();
    const auto probe = client.start(e2e::flows::echo, 7);
    client.wait(probe, 60s);
    const double first_run = seconds_since(restarted);
    for (const auto& id : runs) client.wait(id, 60s);
    std::printf(
        "server restart: pg_ctl restart took %.2f s; after it, a new run completed in %.2f s and all 8 "
        "in-flight runs in %.2f s\n",
        std::chrono::duration<double>(restarted - restart_begun).count(), first_run, seconds_since(restarted));
}

}  // namespace

int main(int argc, char** argv) try {
    const int tasks = argc > 1 ? std::stoi(argv[1]) : 5000;
    const int samples = argc > 2 ? std::stoi(argv[2]) : 300;
    throughput(tasks);
    latency(samples);
    worker_kill();
    server_restart();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "pgflow_e2e_measure: " << e.what() << "\n";
    return 1;
}
