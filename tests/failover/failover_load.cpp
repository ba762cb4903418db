// pgflow_failover_load: the two sides of the fail-over test's load, as processes that the test
// leaves running while it kills the primary and promotes the standby (failover_test.sh).
//
//   pgflow_failover_load install                     installs the schema (built-in queue) and
//                                                    registers failover_chain
//   pgflow_failover_load worker --executions FILE   runs the worker of failover_chain until
//                                                    SIGTERM; every handler call appends one line
//                                                    "<epoch ms> <pid> <run_id> <step> <index>
//                                                    <attempt>" to FILE (O_APPEND: one write each)
//   pgflow_failover_load client --acks FILE [--pace-ms N]
//                                                    starts runs until SIGTERM; every start the
//                                                    server acknowledged appends "<run_id> <input>
//                                                    <epoch ms>" to FILE
// The server is PGFLOW_DATABASE_URL (the test's multi-host URL). Neither side is ever restarted:
// both must get through the fail-over by themselves. Exit status: 0 after SIGTERM, 2 for bad
// arguments, 1 when something other than a lost or refused connection went wrong.

#include <pgflow/client.hpp>
#include <pgflow/dsl.hpp>
#include <pgflow/signals.hpp>
#include <pgflow/worker.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;

long long epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// One line per write(2) on an O_APPEND descriptor: lines of concurrent writers never interleave.
class line_file {
public:
    explicit line_file(const std::string& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    }
    line_file(const line_file&) = delete;
    line_file& operator=(const line_file&) = delete;
    ~line_file() { ::close(fd_); }
    void append(const std::string& line) const {
        const std::string text = line + "\n";
        if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            throw std::runtime_error(std::string("cannot append a line: ") + std::strerror(errno));
    }

private:
    int fd_;
};

line_file* executions = nullptr;

void record_execution(const pgflow::task_context& c) {
    executions->append(std::to_string(epoch_ms()) + " " + std::to_string(::getpid()) + " " + std::string(c.run_id) +
                       " " + std::string(c.step_slug) + " " + std::to_string(c.task_index) + " " +
                       std::to_string(c.attempt));
}

// first → second, 50 ms each: the run's output is {"second": (n + 1) * 2}. timeout 5 s: a task
// whose claim the new primary has but whose worker never heard of it runs again 5 + 2 s later.
constexpr auto chain = pgflow::flow<"failover_chain", int>(
    pgflow::flow_options{.max_attempts = 3, .base_delay = 1, .timeout = 5},
    pgflow::step<"first">([](int n, const pgflow::task_context& c) {
        record_execution(c);
        std::this_thread::sleep_for(50ms);
        return n + 1;
    }),
    pgflow::step<"second", pgflow::after<"first">>([](int, int first, const pgflow::task_context& c) {
        record_execution(c);
        std::this_thread::sleep_for(50ms);
        return first * 2;
    }));

void log(std::string_view line) { std::cerr << epoch_ms() << " " << line << std::endl; }

int run_worker(const std::string& executions_path) {
    line_file file{executions_path};
    executions = &file;
    pgflow::stop_on_signals signals;
    pgflow::worker_options options;
    options.max_concurrent = 8;
    options.batch_size = 8;
    options.log = log;
    pgflow::worker worker{pgflow::connection_options::from_environment(), chain, options};
    log("worker " + worker.id() + " running");
    worker.run(signals.token());
    log("worker stopped");
    return 0;
}

// Starts runs one after the other. A start that fails with a connection error (the primary is
// gone, the standby not yet promoted) is tried again with the same run id until the server
// acknowledges it: a duplicate key on a retry means an earlier attempt went through.
int run_client(const std::string& acks_path, std::chrono::milliseconds pace) {
    line_file acks{acks_path};
    pgflow::stop_on_signals signals;
    const auto stop = signals.token();
    pgflow::client client{pgflow::connection_options::from_environment()};
    int refused = 0;
    for (int n = 0; !stop.stop_requested(); ++n) {
        const auto id = pgflow::new_run_id();
        bool retried = false;
        for (;;) {
            try {
                client.start(chain, n, id);
                break;
            } catch (const pgflow::database_error& e) {
                if (retried && e.sqlstate() == pgflow::pq::sqlstate::unique_violation &&
                    e.constraint_name() == "runs_pkey")
                    break;
                if (!e.is_connection_error()) throw;
                ++refused;
                log("start refused (" + std::string(e.what()) + "); retrying");
                retried = true;
                if (stop.stop_requested()) return 0;
                std::this_thread::sleep_for(50ms);
            }
        }
        acks.append(id.str() + " " + std::to_string(n) + " " + std::to_string(epoch_ms()));
        std::this_thread::sleep_for(pace);
    }
    log("client stopped after " + std::to_string(refused) + " refused start attempt(s)");
    return 0;
}

int usage(const std::string& why) {
    std::cerr << "pgflow_failover_load: " << why
              << "\nusage: pgflow_failover_load install\n"
                 "       pgflow_failover_load worker --executions FILE\n"
                 "       pgflow_failover_load client --acks FILE [--pace-ms N]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 2) return usage("missing mode");
    const std::string_view mode = argv[1];
    if (mode == "install" && argc == 2) {
        pgflow::client client{pgflow::connection_options::from_environment()};
        client.install_schema(pgflow::queue_mode::builtin);
        client.ensure_registered(chain);
        return 0;
    }
    std::string file;
    std::chrono::milliseconds pace{20};
    for (int i = 2; i < argc; i += 2) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return usage("missing value after " + std::string(arg));
        const std::string value = argv[i + 1];
        if ((mode == "worker" && arg == "--executions") || (mode == "client" && arg == "--acks"))
            file = value;
        else if (mode == "client" && arg == "--pace-ms")
            pace = std::chrono::milliseconds{std::stoi(value)};
        else
            return usage("unknown option " + std::string(arg));
    }
    if (file.empty()) return usage("missing file option");
    if (mode == "worker") return run_worker(file);
    if (mode == "client") return run_client(file, pace);
    return usage("unknown mode " + std::string(mode));
} catch (const std::exception& e) {
    log(std::string("pgflow_failover_load: ") + e.what());
    return 1;
}
