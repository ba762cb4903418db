// libpq losing track of a pipeline: when its wait for the server fails (here: poll() fails once,
// made to by this program's own poll, which libpq calls instead of libc's), PQgetResult returns an
// error for the statement it waited for and then nothing more, while the connection still reports
// OK. A pipeline whose next statement shares that transaction used to ask libpq for that
// statement's result forever (the fail-over test's client hung so, on its connection to the
// killed primary); it must end with a connection error instead, so that callers reconnect.
// A program of its own: the poll() interposition concerns the whole process.

#include <pgflow/connection_options.hpp>
#include <pgflow/pq/connection.hpp>

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

namespace {
std::atomic<int> polls_to_fail{0};
}

extern "C" int poll(struct pollfd* fds, nfds_t count, int timeout) {
    using poll_function = int (*)(struct pollfd*, nfds_t, int);
    static const auto real = reinterpret_cast<poll_function>(dlsym(RTLD_NEXT, "poll"));
    if (polls_to_fail.load() > 0) {
        polls_to_fail.fetch_sub(1);
        errno = ENOMEM;
        return -1;
    }
    return real(fds, count, timeout);
}

TEST(pq_pipeline, libpq_failing_to_wait_mid_transaction_is_a_connection_error_not_a_hang) {
    auto c = pgflow::connection_options::from_environment().connect();
    ASSERT_EQ(c.execute("SELECT 1").get<int>(0, 0), 1);
    std::vector<pgflow::pq::pipelined_statement> statements{
        {"", "SELECT 1", {}, true},  // same transaction as the next: no sync between them
        {"", "SELECT 2", {}, false},
    };
    polls_to_fail = 1;
    auto outcome = std::async(std::launch::async, [&]() -> std::string {
        try {
            c.run_pipeline(statements);
            return "returned";
        } catch (const pgflow::database_error& e) {
            return e.is_connection_error() ? "connection error" : std::string("other error: ") + e.what();
        }
    });
    if (outcome.wait_for(std::chrono::seconds{10}) != std::future_status::ready) {
        std::fprintf(stderr, "run_pipeline is still asking libpq for a result after 10 s\n");
        std::_Exit(1);  // the spinning thread cannot be joined
    }
    EXPECT_EQ(polls_to_fail.load(), 0) << "libpq never waited for the server";
    EXPECT_EQ(outcome.get(), "connection error");
}
