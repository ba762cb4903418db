// Worker ids and run ids (detail::random_uuid): distinct across processes forked after the
// parent has made ids, as forked workers and clients need (issue 10, defect 6).

#include <pgflow/runtime/uuid.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

TEST(ids, are_version_4_uuids) {
    const std::string id = pgflow::detail::random_uuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_NO_THROW(static_cast<void>(pgflow::run_id{id}));
}

TEST(ids, forked_processes_make_distinct_ids) {
    constexpr int children = 8;
    constexpr int ids_per_process = 4;
    std::set<std::string> seen{pgflow::detail::random_uuid()};  // the parent's generator is in use before the forks
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    std::vector<pid_t> pids;
    for (int c = 0; c < children; ++c) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(pipe_fds[0]);
            std::string text;
            for (int i = 0; i < ids_per_process; ++i) text += pgflow::detail::random_uuid();
            const bool written = ::write(pipe_fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
            ::_exit(written ? 0 : 1);
        }
        pids.push_back(pid);
    }
    ::close(pipe_fds[1]);
    for (int i = 0; i < ids_per_process; ++i) seen.insert(pgflow::detail::random_uuid());
    std::string all;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
        all.append(buffer, static_cast<std::size_t>(n));
    ::close(pipe_fds[0]);
    for (const pid_t pid : pids) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ASSERT_EQ(all.size(), std::size_t{36} * children * ids_per_process);
    for (std::size_t at = 0; at < all.size(); at += 36) seen.insert(all.substr(at, 36));
    EXPECT_EQ(seen.size(), std::size_t{1 + ids_per_process + children * ids_per_process})
        << "forked processes repeated each other's ids";
}

}  // namespace
