#pragma once
// Shared machinery of the end-to-end tests: a fresh database per test (created on the server the
// PG* / PGFLOW_DATABASE_URL environment names, dropped afterwards), an in-process worker thread,
// worker processes (the pgflow_e2e_worker helper program) and small query helpers.

#include <pgflow/client.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/worker.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace e2e {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

/// Database name for the running test: e2e_<suite>_<test>_<pid>, shortened to PostgreSQL's 63.
inline std::string database_name_for_current_test() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "e2e_";
    for (const char* part : {info->test_suite_name(), "_", info->name()})
        for (const char* c = part; *c; ++c)
            name.push_back(std::isalnum(static_cast<unsigned char>(*c)) ? static_cast<char>(std::tolower(*c)) : '_');
    const std::string suffix = "_" + std::to_string(::getpid());
    if (name.size() + suffix.size() > 63) name.resize(63 - suffix.size());
    return name + suffix;
}

/// A database of its own for one test, with the pgflow schema (built-in queue) installed.
/// Fails the test (never skips it) when the server is unreachable.
class database {
public:
    explicit database(bool install = true) : name_(database_name_for_current_test()) {
        admin_.execute("DROP DATABASE IF EXISTS " + admin_.quote_identifier(name_) + " WITH (FORCE)");
        admin_.execute("CREATE DATABASE " + admin_.quote_identifier(name_));
        options_ = pgflow::connection_options::from_environment().with_database(name_);
        if (install) pgflow::client{options_}.install_schema(pgflow::queue_mode::builtin);
    }
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    ~database() {
        const std::string drop = "DROP DATABASE IF EXISTS " + admin_.quote_identifier(name_) + " WITH (FORCE)";
        try {
            try {
                admin_.execute(drop);
            } catch (const pgflow::database_error& e) {
                if (!e.is_connection_error()) throw;
                // The server restarted under this connection (e2e.server_restart).
                admin_ = pgflow::connection_options::from_environment().connect();
                admin_.execute(drop);
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << "could not drop test database " << name_ << ": " << e.what();
        }
    }

    [[nodiscard]] const pgflow::connection_options& options() const { return options_; }
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] pgflow::pq::connection connect() const { return options_.connect(); }

private:
    pgflow::pq::connection admin_{pgflow::connection_options::from_environment().connect()};
    std::string name_;
    pgflow::connection_options options_;
};

/// Worker options for tests: fast shutdown, quiet unless PGFLOW_E2E_VERBOSE is set.
inline pgflow::worker_options quiet_options(pgflow::worker_options o = {}) {
    if (std::getenv("PGFLOW_E2E_VERBOSE") == nullptr) o.log = [](std::string_view) {};
    return o;
}

/// What client.wait throws for a run that must fail; nothing (and a test failure) when it completes
/// or `timeout` passes instead.
inline std::optional<pgflow::run_failed_error> wait_for_failure(pgflow::client& client, const pgflow::run_id& id,
                                                                std::chrono::milliseconds timeout = 20s) {
    try {
        client.wait(id, timeout);
        ADD_FAILURE() << "run " << id.str() << " did not fail";
    } catch (const pgflow::run_failed_error& e) {
        return e;
    } catch (const pgflow::timeout_error& e) {
        ADD_FAILURE() << e.what();
    }
    return std::nullopt;
}

/// A pgflow::worker running on a thread of this test process until destroyed.
class worker_thread {
public:
    template <class Flow>
    worker_thread(const database& db, const Flow& flow, pgflow::worker_options options = quiet_options())
        : worker_(std::make_unique<pgflow::worker>(db.options(), flow, std::move(options))) {
        start();
    }
    explicit worker_thread(std::unique_ptr<pgflow::worker> w) : worker_(std::move(w)) { start(); }
    ~worker_thread() {
        try {
            stop();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "worker " << worker_->flow_slug() << " failed: " << e.what();
        }
    }

    void stop() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    }
    [[nodiscard]] const pgflow::worker& get() const { return *worker_; }

private:
    void start() {
        thread_ = std::jthread([this](std::stop_token stop) {
            try {
                worker_->run(stop);
            } catch (...) {
                failure_ = std::current_exception();
            }
        });
    }
    std::unique_ptr<pgflow::worker> worker_;
    std::exception_ptr failure_;
    std::jthread thread_;
};

/// A pgflow_e2e_worker process running one of the flows of flows.hpp on the test's database.
class worker_process {
public:
    worker_process(const database& db, const std::string& flow, std::vector<std::string> extra = {}) {
        std::vector<std::string> args{PGFLOW_E2E_WORKER, "--flow", flow, "--database", db.name()};
        for (auto& a : extra) args.push_back(std::move(a));
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (int rc = ::posix_spawn(&pid_, PGFLOW_E2E_WORKER, nullptr, nullptr, argv.data(), environ); rc != 0)
            throw std::runtime_error("cannot start " + std::string(PGFLOW_E2E_WORKER) + ": " + std::strerror(rc));
    }
    worker_process(const worker_process&) = delete;
    worker_process& operator=(const worker_process&) = delete;
    ~worker_process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }

    void signal(int sig) const { ::kill(pid_, sig); }

    /// Waits for the process to exit; returns its exit status (128 + signal when killed), or
    /// nullopt when it is still running after `timeout`.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(20ms);
        }
    }

    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

/// Polls `condition` (a query, typically) until it holds or the timeout passes.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 20s,
                       std::chrono::milliseconds every = 20ms) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (clock::now() >= deadline) return false;
        std::this_thread::sleep_for(every);
    }
}

/// The database_error a long-running loop (`pgflow::worker`, `pgflow::scheduler`) ends with when
/// it ends by itself within `limit`, as on a refused connection; nothing when it ran until `limit`
/// and was stopped then.
template <class Loop>
std::optional<pgflow::database_error> database_error_ending(Loop& loop, std::chrono::milliseconds limit = 5s) {
    std::stop_source stop;
    std::jthread stopper([&](std::stop_token done) {
        for (const auto deadline = clock::now() + limit; clock::now() < deadline && !done.stop_requested();)
            std::this_thread::sleep_for(20ms);
        stop.request_stop();
    });
    try {
        loop.run(stop.get_token());
    } catch (const pgflow::database_error& e) {
        return e;
    }
    return std::nullopt;
}

/// A single integer from a query.
template <class... Args>
long long scalar(pgflow::pq::connection& c, std::string_view sql, const Args&... args) {
    return c.execute(sql, args...).template get<long long>(0, 0);
}

/// Seconds between two timestamptz columns of step_tasks/step_states etc., as a double.
template <class... Args>
double seconds(pgflow::pq::connection& c, std::string_view sql, const Args&... args) {
    return c.execute(sql, args...).template get<double>(0, 0);
}

}  // namespace e2e
