#pragma once
// What the command-line tests share: a fresh database per test on the server the environment names
// (PGFLOW_DATABASE_URL or PG*, as scripts/test exports them), the `pgflow` program run as a real
// process with its own environment, and a pgflow::worker on a thread for the commands that need
// runs to make progress.

#include <pgflow/client.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/worker.hpp>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cli_test {

using namespace std::chrono_literals;

/// The server the tests run against; fails (never skips) the test when it cannot be reached.
inline pgflow::pq::connection admin_connection() { return pgflow::connection_options::from_environment().connect(); }

/// A database of its own for the running test (<suite>_<test>_<pid>), dropped afterwards.
class database {
public:
    explicit database(bool install = true) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        for (const char* part : {info->test_suite_name(), "_", info->name()})
            for (const char* c = part; *c; ++c)
                name_.push_back(std::isalnum(static_cast<unsigned char>(*c)) ? static_cast<char>(std::tolower(*c))
                                                                             : '_');
        const std::string suffix = "_" + std::to_string(::getpid());
        if (name_.size() + suffix.size() > 63) name_.resize(63 - suffix.size());
        name_ += suffix;
        admin_.execute("DROP DATABASE IF EXISTS " + admin_.quote_identifier(name_) + " WITH (FORCE)");
        admin_.execute("CREATE DATABASE " + admin_.quote_identifier(name_));
        // A key=value string naming the same server explicitly, so that the program under test
        // needs no environment to find it.
        PGconn* c = admin_.native();
        url_ = "host=" + std::string(PQhost(c)) + " port=" + std::string(PQport(c)) +
               " user=" + std::string(PQuser(c)) + " dbname=" + name_;
        if (const char* password = PQpass(c); password != nullptr && *password != '\0')
            url_ += " password=" + std::string(password);
        if (install) pgflow::client{options()}.install_schema(pgflow::queue_mode::builtin);
    }
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    ~database() {
        try {
            if (!admin_.is_ok()) admin_ = admin_connection();
            admin_.execute("DROP DATABASE IF EXISTS " + admin_.quote_identifier(name_) + " WITH (FORCE)");
        } catch (const std::exception& e) {
            ADD_FAILURE() << "could not drop test database " << name_ << ": " << e.what();
        }
    }

    [[nodiscard]] const std::string& name() const { return name_; }
    /// Connection string of this database (host, port, user, dbname).
    [[nodiscard]] const std::string& url() const { return url_; }
    [[nodiscard]] pgflow::connection_options options() const { return pgflow::connection_options{url_}; }
    [[nodiscard]] pgflow::pq::connection connect() const { return options().connect(); }
    [[nodiscard]] std::string host() const { return PQhost(admin_.native()); }
    [[nodiscard]] std::string port() const { return PQport(admin_.native()); }
    [[nodiscard]] std::string user() const { return PQuser(admin_.native()); }

private:
    pgflow::pq::connection admin_ = admin_connection();
    std::string name_, url_;
};

/// Changes to the inherited environment of a child process: a value sets, nullopt removes.
using environment_changes = std::map<std::string, std::optional<std::string>>;

/// How a process ended and what it printed.
struct outcome {
    int status = -1;  ///< exit status, 128 + signal when killed
    std::string out, err;
};

inline std::ostream& operator<<(std::ostream& os, const outcome& o) {
    return os << "exit status " << o.status << "\n--- stdout ---\n" << o.out << "--- stderr ---\n" << o.err;
}

/// A child process with stdout and stderr captured in temporary files.
class process {
public:
    process(std::vector<std::string> argv, const environment_changes& changes = {}) {
        std::map<std::string, std::string> env;
        for (char** e = environ; *e != nullptr; ++e) {
            const std::string entry = *e;
            const auto eq = entry.find('=');
            if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
        for (const auto& [key, value] : changes) {
            if (value)
                env[key] = *value;
            else
                env.erase(key);
        }
        std::vector<std::string> env_entries;
        for (const auto& [key, value] : env) env_entries.push_back(key + "=" + value);
        std::vector<char*> envp, args;
        for (auto& e : env_entries) envp.push_back(e.data());
        envp.push_back(nullptr);
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);

        out_path_ = temporary_file();
        err_path_ = temporary_file();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(), O_WRONLY | O_TRUNC, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_TRUNC, 0);
        const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    process(const process&) = delete;
    process& operator=(const process&) = delete;
    ~process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::unlink(out_path_.c_str());
        ::unlink(err_path_.c_str());
    }

    /// Waits for the exit (killing the process after `timeout`) and returns what it printed.
    outcome wait(std::chrono::milliseconds timeout = 60s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        outcome o;
        for (;;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                pid_ = -1;
                break;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
                pid_ = -1;
                o.status = 128 + SIGKILL;
                o.err = "(killed after " + std::to_string(timeout.count()) + " ms)\n";
                break;
            }
            std::this_thread::sleep_for(10ms);
        }
        o.out = read_file(out_path_);
        o.err += read_file(err_path_);
        return o;
    }

    /// What the process has printed on stdout so far.
    [[nodiscard]] std::string output_so_far() const { return read_file(out_path_); }

private:
    static std::string temporary_file() {
        std::string path = "/tmp/pgflow-cli-test-XXXXXX";
        const int fd = ::mkstemp(path.data());
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        ::close(fd);
        return path;
    }
    static std::string read_file(const std::string& path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    pid_t pid_ = -1;
    std::string out_path_, err_path_;
};

/// Runs `pgflow args...` to completion.
inline outcome pgflow_cli(std::vector<std::string> args, const environment_changes& changes = {},
                          std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), PGFLOW_CLI);
    return process(std::move(args), changes).wait(timeout);
}

/// Runs `pgflow --database-url <db> args...` to completion.
inline outcome pgflow_cli(const database& db, std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), {"--database-url", db.url()});
    return pgflow_cli(std::move(args), {}, timeout);
}

/// A pgflow::worker on a thread of the test process until destroyed. The flow is registered
/// before the constructor returns, so that runs can be started at once.
class worker_thread {
public:
    template <class Flow>
    worker_thread(const database& db, const Flow& flow) {
        pgflow::client{db.options()}.ensure_registered(flow);
        pgflow::worker_options options;
        options.log = [](std::string_view) {};
        worker_ = std::make_unique<pgflow::worker>(db.options(), flow, std::move(options));
        thread_ = std::jthread([this](std::stop_token stop) {
            try {
                worker_->run(stop);
            } catch (...) {
                failure_ = std::current_exception();
            }
        });
    }
    worker_thread(const worker_thread&) = delete;
    worker_thread& operator=(const worker_thread&) = delete;
    ~worker_thread() {
        try {
            stop();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "worker failed: " << e.what();
        }
    }
    void stop() {
        if (thread_.joinable()) {
            thread_.request_stop();
            thread_.join();
        }
        if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    }
    [[nodiscard]] const std::string& id() const { return worker_->id(); }

private:
    std::unique_ptr<pgflow::worker> worker_;
    std::exception_ptr failure_;
    std::jthread thread_;
};

/// Lines of `text` (without their '\n').
inline std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// Index of the first line containing `needle` at or after `from`, or -1.
inline long find_line(const std::vector<std::string>& ls, std::string_view needle, std::size_t from = 0) {
    for (std::size_t i = from; i < ls.size(); ++i)
        if (ls[i].find(needle) != std::string::npos) return static_cast<long>(i);
    return -1;
}

/// Polls until `condition` holds or the timeout passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

}  // namespace cli_test
