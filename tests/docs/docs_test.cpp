// The documentation, checked: the README's first flow is the example that is built, its compiler
// error is what g++ prints, its least-privilege roles, monitoring queries and pruning SQL work on a
// real server, docs/ covers every public header, and relative links resolve.

#include "../cli/cli_support.hpp"

#include "flows/order_processing.hpp"
#include "flows/text_processing.hpp"

#include <pgflow/client.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace cli_test;
using testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = PGFLOW_SOURCE_DIR;

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The contents of the fenced code block that follows `<!-- test: <name> -->` in README.md.
std::string readme_block(const std::string& name) {
    const std::string readme = read_file(source_dir / "README.md");
    const std::string marker = "<!-- test: " + name + " -->";
    const auto at = readme.find(marker);
    if (at == std::string::npos) throw std::runtime_error("README.md has no " + marker);
    const auto fence = readme.find("```", at + marker.size());
    const auto begin = readme.find('\n', fence) + 1;
    const auto end = readme.find("\n```", begin);
    if (fence == std::string::npos || end == std::string::npos)
        throw std::runtime_error("README.md: no code block after " + marker);
    return readme.substr(begin, end - begin + 1);
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

/// A README line of compiler output as a regex: paths may sit under any directory, line and column
/// numbers may change, "…" stands for anything.
std::regex output_line_pattern(const std::string& line) {
    static const std::regex special{R"([.^$|()\[\]{}*+?\\])"};
    std::string pattern = std::regex_replace(line, special, R"(\$&)");
    pattern = replace_all(pattern, "…", ".*");
    pattern = replace_all(pattern, "include/pgflow/", ".*include/pgflow/");
    pattern = std::regex_replace(pattern, std::regex(R"((\\\.[ch]pp):[0-9]+(:[0-9]+)?)"), "$1:[0-9]+(:[0-9]+)?");
    return std::regex("^" + pattern + "$");
}

/// Runs a shell command; returns its exit status and its combined output.
std::pair<int, std::string> shell(const std::string& command) {
    const auto o = process({"/bin/sh", "-c", command + " 2>&1"}).wait(120s);
    return {o.status, o.out + o.err};
}

/// The four README roles, with a suffix so that the test does not meet roles of a real set-up.
struct readme_roles {
    std::string suffix = "_docs" + std::to_string(::getpid());
    std::string owner = "pgflow_owner" + suffix, worker = "pgflow_worker" + suffix, client = "pgflow_client" + suffix,
                monitor = "pgflow_monitor" + suffix;

    std::string rename(std::string sql, const std::string& database) const {
        for (const char* role : {"pgflow_owner", "pgflow_worker", "pgflow_client", "pgflow_monitor"})
            sql = replace_all(sql, role, std::string(role) + suffix);
        return replace_all(sql, "DATABASE app ", "DATABASE \"" + database + "\" ");
    }

    ~readme_roles() {
        try {
            auto admin = admin_connection();
            for (const auto& role : {owner, worker, client, monitor})
                admin.execute("DROP ROLE IF EXISTS " + admin.quote_identifier(role));
        } catch (const std::exception& e) {
            ADD_FAILURE() << "could not drop the test roles: " << e.what();
        }
    }
};

/// Connection options that act as `role` (SET ROLE at connection start).
pgflow::connection_options as_role(const database& db, const std::string& role) {
    return pgflow::connection_options{db.url() + " options='-c role=" + role + "'"};
}

std::string sqlstate_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const pgflow::database_error& e) {
        return e.sqlstate();
    }
    return "no error";
}

/// A worker thread acting as a given role (cli_support's worker_thread registers the flow, which
/// a worker role may not do).
class role_worker {
public:
    template <class Flow>
    role_worker(const pgflow::connection_options& db, const Flow& flow) {
        pgflow::worker_options options;
        options.log = [](std::string_view) {};
        worker_ = std::make_unique<pgflow::worker>(db, flow, std::move(options));
        thread_ = std::jthread([this](std::stop_token stop) {
            try {
                worker_->run(stop);
            } catch (...) {
                failure_ = std::current_exception();
            }
        });
    }
    ~role_worker() {
        thread_.request_stop();
        thread_.join();
        if (failure_) {
            try {
                std::rethrow_exception(failure_);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "worker failed: " << e.what();
            }
        }
    }

private:
    std::unique_ptr<pgflow::worker> worker_;
    std::exception_ptr failure_;
    std::jthread thread_;
};

}  // namespace

TEST(readme, first_flow_is_the_built_example) {
    EXPECT_EQ(readme_block("examples/first_flow.cpp"), read_file(source_dir / "examples/first_flow.cpp"))
        << "README.md's first flow and examples/first_flow.cpp differ: keep them identical";
}

namespace {

/// Compiles the README block `<name> source` with g++ and checks that it fails with the lines of
/// the block `<name> output`, in order (line numbers aside). `file` is the name the output shows.
void expect_gxx_prints(const std::string& name, const std::string& file) {
    const fs::path dir = fs::temp_directory_path() / ("pgflow-docs-" + name + "-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    { std::ofstream(dir / file) << readme_block(name + " source"); }
    const auto [status, output] = shell("cd '" + dir.string() + "' && LC_ALL=C " + std::string(PGFLOW_GXX) +
                                        " -std=c++20 -fsyntax-only -fdiagnostics-color=never -I'" +
                                        (source_dir / "include").string() + "' " + file);
    fs::remove_all(dir);
    EXPECT_NE(status, 0) << "the README's " << name << " snippet compiled:\n" << output;
    const auto produced = lines(output);
    std::size_t next = 0;
    for (const auto& shown : lines(readme_block(name + " output"))) {
        const auto pattern = output_line_pattern(shown);
        while (next < produced.size() && !std::regex_match(produced[next], pattern)) ++next;
        ASSERT_LT(next, produced.size()) << "g++ no longer prints this README line (in this order):\n  " << shown
                                         << "\n--- g++ output ---\n"
                                         << output;
        ++next;
    }
}

}  // namespace

TEST(readme, compile_error_is_what_gxx_prints) { expect_gxx_prints("compile-error", "order_processing.cpp"); }

TEST(readme, condition_error_is_what_gxx_prints) { expect_gxx_prints("condition-error", "orders.cpp"); }

TEST(readme, least_privilege_roles_run_flows) {
    readme_roles roles;  // dropped after the database
    database db{false};
    db.connect().execute_script(roles.rename(readme_block("roles"), db.name()), "README roles");

    const auto owner = as_role(db, roles.owner), worker = as_role(db, roles.worker), client = as_role(db, roles.client),
               monitor = as_role(db, roles.monitor);
    pgflow::client{owner}.install_schema(pgflow::queue_mode::builtin);
    owner.connect().execute_script(roles.rename(readme_block("grants-upgrade"), db.name()), "README grants upgrade");
    owner.connect().execute_script(roles.rename(readme_block("grants"), db.name()), "README grants");
    EXPECT_EQ(owner.connect()
                  .execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'pgflow'")
                  .get<std::string>(0, 0),
              roles.owner);

    // The deployment step registers the flows as the owner; the queue tables it creates get the
    // default privileges.
    pgflow::dynamic_flow doomed{"docs_doomed", pgflow::flow_options{.max_attempts = 1}};
    doomed.step("explode", [](const boost::json::value&) -> boost::json::value { throw std::runtime_error("no"); });
    pgflow::client deployer{owner};
    deployer.ensure_registered(examples::order_processing);
    deployer.ensure_registered(examples::text_processing);
    deployer.ensure_registered(doomed);
    pgflow::dynamic_flow quick{"docs_quick"};
    quick.step("only", [](const boost::json::value&) -> boost::json::value { return 1; });
    deployer.ensure_registered(quick);

    pgflow::client app{client};
    {
        role_worker orders{worker, examples::order_processing};
        role_worker texts{worker, examples::text_processing};
        role_worker failing{worker, doomed};
        role_worker quick_worker{worker, quick};

        // Run events and queue wake-ups are delivered under these roles (the client and the workers
        // publish what they deferred), so a one-step run takes a few round trips, not the workers'
        // 2 s polling interval nor the client's re-reads; nothing is left undelivered.
        auto listener = monitor.connect();
        const pgflow::run_id watched{"00000000-0000-4000-8000-00000000d0c5"};
        listener.listen("pgflow:run:" + watched.str());
        app.wait(app.start("docs_quick", boost::json::value{}, watched), 30s);
        std::vector<std::string> events;
        for (const auto until = std::chrono::steady_clock::now() + 2s;
             events.size() < 4 && std::chrono::steady_clock::now() < until;) {
            listener.wait_for_input(100ms);
            while (auto n = listener.next_notification())
                events.push_back(boost::json::parse(n->payload).as_object().at("event").as_string().c_str());
        }
        EXPECT_EQ(events, (std::vector<std::string>{"run:started", "step:only:started", "step:only:completed",
                                                    "run:completed"}))
            << "a LISTENer did not receive the run's events";
        for (int i = 0; i < 3; ++i) {
            const auto begin = std::chrono::steady_clock::now();
            app.wait(app.start("docs_quick", boost::json::value{}), 30s);
            EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s)
                << "one-step run " << i << ": took a polling interval";
        }
        auto pending = [&] {
            return owner.connect()
                .execute("SELECT count(*) FROM pgflow_cpp.deferred_notifications")
                .get<long long>(0, 0);
        };
        for (const auto until = std::chrono::steady_clock::now() + 3s;
             pending() > 0 && std::chrono::steady_clock::now() < until;)
            std::this_thread::sleep_for(50ms);
        EXPECT_EQ(pending(), 0) << "deferred notifications pile up: a role cannot publish them";

        const auto order = app.start(examples::order_processing, examples::Order{1, "ada", {{"kettle", 2, 1500}}});
        const auto texts_run = app.start(examples::text_processing, {" Hello ", "WORLD"});
        const auto empty_run = app.start(examples::text_processing, std::vector<std::string>{});
        const auto failing_run = app.start("docs_doomed", boost::json::value{});

        const auto shipment = pgflow::get<"fulfill">(app.wait(examples::order_processing, order, 60s));
        EXPECT_EQ(shipment.charged_cents, 3000);
        EXPECT_EQ(shipment.charge_attempts, 2);  // the retry path works for the worker role too
        EXPECT_EQ(pgflow::get<"summarize">(app.wait(examples::text_processing, texts_run, 30s)).results,
                  (std::vector<std::string>{"Hello", "World"}));
        EXPECT_EQ(pgflow::get<"summarize">(app.wait(examples::text_processing, empty_run, 30s)).processed, 0);
        EXPECT_THROW(app.wait(failing_run, 30s), pgflow::run_failed_error);
        EXPECT_EQ(app.status(order).status, pgflow::run_status::completed);

        // Monitors read everything the README's monitoring queries and the CLI read.
        EXPECT_NO_THROW(monitor.connect().execute_script(readme_block("monitoring"), "README monitoring queries"));
        const std::string monitor_url = db.url() + " options='-c role=" + roles.monitor + "'";
        for (const std::vector<std::string>& command :
             {std::vector<std::string>{"status"}, {"status", order.str()}, {"workers"}, {"watch", order.str()}}) {
            auto args = command;
            args.insert(args.begin(), {"--database-url", monitor_url});
            const auto o = pgflow_cli(args);
            EXPECT_EQ(o.status, 0) << command[0] << ": " << o;
        }
    }

    // And nobody can do more than their part. A task claimed by a worker, which only a worker may
    // report on:
    const auto queued = app.start(examples::text_processing, {"x"});
    auto w = worker.connect();
    w.execute(
        "INSERT INTO pgflow.workers (worker_id, queue_name, function_name) VALUES ($1::uuid, 'text_processing', 'docs')",
        "00000000-0000-0000-0000-00000000d0c5");
    ASSERT_EQ(
        w.execute(
             "SELECT * FROM pgflow.start_tasks('text_processing', ARRAY(SELECT msg_id FROM pgmq.read('text_processing', 30, 10)), "
             "'00000000-0000-0000-0000-00000000d0c5')")
            .rows(),
        1);
    auto c = client.connect();
    EXPECT_EQ(sqlstate_of([&] { c.execute("SELECT pgflow.complete_task($1::uuid, 'normalize', 0, '\"x\"')", queued); }),
              "42501");
    EXPECT_EQ(sqlstate_of([&] { c.execute("SELECT pgflow.fail_task($1::uuid, 'normalize', 0, 'no')", queued); }),
              "42501");
    EXPECT_EQ(sqlstate_of([&] { c.execute("SELECT pgflow.create_flow('sneaky')"); }), "42501");
    EXPECT_EQ(sqlstate_of([&] { w.execute("SELECT pgflow.start_flow('text_processing', '[]')"); }), "42501");
    auto m = monitor.connect();
    EXPECT_EQ(sqlstate_of([&] { m.execute("SELECT pgflow.start_flow('text_processing', '[]')"); }), "42501");
    EXPECT_EQ(sqlstate_of([&] { m.execute("SELECT pgflow.complete_task($1::uuid, 'normalize', 0, '\"x\"')", queued); }),
              "42501");
    EXPECT_EQ(sqlstate_of([&] { m.execute("DELETE FROM pgflow.runs"); }), "42501");
    // Only through the functions: no role marks a run completed itself, nor starts runs by pgflow's
    // SECURITY DEFINER entry point unless it is a client (sql.role_privileges checks every case).
    for (auto* role : {&c, &w})
        EXPECT_EQ(sqlstate_of([&] {
                      role->execute(
                          "UPDATE pgflow.runs SET status = 'completed', completed_at = now(), output = '1' "
                          "WHERE run_id = $1::uuid",
                          queued);
                  }),
                  "42501");
    EXPECT_EQ(sqlstate_of([&] { w.execute("SELECT pgflow.start_flow_with_states('text_processing', '[]')"); }),
              "42501");
    EXPECT_EQ(sqlstate_of([&] { m.execute("SELECT pgflow.start_flow_with_states('text_processing', '[]')"); }),
              "42501");
    // The worker role, though, may finish the task it claimed.
    EXPECT_EQ(w.execute("SELECT count(*) FROM pgflow.complete_task($1::uuid, 'normalize', 0, '\"x\"')", queued)
                  .get<int>(0, 0),
              1);
}

TEST(readme, prune_deletes_only_runs_that_ended_long_ago) {
    database db;
    pgflow::client client{db.options()};
    std::vector<pgflow::run_id> runs;
    {
        worker_thread worker{db, examples::text_processing};
        for (int i = 0; i < 4; ++i) {
            runs.push_back(client.start(examples::text_processing, {"a", "b"}));
            client.wait(runs.back(), 30s);
        }
    }
    const auto running = client.start(examples::text_processing, {"still", "queued"});
    auto c = db.connect();
    // Two runs ended 40 days ago (with their messages archived then), two recently.
    for (std::size_t i = 0; i < 2; ++i) {
        c.execute(
            "UPDATE pgflow.runs SET started_at = started_at - interval '40 days', completed_at = completed_at - interval '40 days' "
            "WHERE run_id = $1::uuid",
            runs[i]);
        c.execute(
            "UPDATE pgmq.a_text_processing SET archived_at = archived_at - interval '40 days' WHERE message->>'run_id' = $1",
            runs[i]);
    }
    auto count = [&](const char* sql) { return c.execute(sql).get<long long>(0, 0); };
    EXPECT_EQ(count("SELECT count(*) FROM pgflow.runs"), 5);

    c.execute_script(readme_block("prune"), "README prune");

    EXPECT_EQ(count("SELECT count(*) FROM pgflow.runs"), 3);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(c.execute("SELECT count(*) FROM pgflow.runs WHERE run_id = $1::uuid", runs[i]).get<long long>(0, 0),
                  i < 2 ? 0 : 1);
    EXPECT_EQ(c.execute("SELECT count(*) FROM pgflow.runs WHERE run_id = $1::uuid", running).get<long long>(0, 0), 1);
    EXPECT_EQ(count("SELECT count(*) FROM pgflow.step_states WHERE run_id NOT IN (SELECT run_id FROM pgflow.runs)"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pgflow.step_tasks WHERE run_id NOT IN (SELECT run_id FROM pgflow.runs)"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pgmq.a_text_processing WHERE archived_at < now() - interval '30 days'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM pgmq.a_text_processing"), 2 * 5);  // the recent runs' 5 messages each
}

TEST(reference, names_every_public_header) {
    std::string reference;
    for (const auto& page : fs::directory_iterator(source_dir / "docs"))
        if (page.path().extension() == ".md") reference += read_file(page.path());
    for (const char* dir : {"include/pgflow", "include/pgflow/pq"})
        for (const auto& header : fs::directory_iterator(source_dir / dir)) {
            if (header.path().extension() != ".hpp") continue;
            const std::string name = "<" + fs::relative(header.path(), source_dir / "include").string() + ">";
            EXPECT_THAT(reference, HasSubstr(name)) << "docs/ does not document " << name;
        }
}

namespace {

// The anchors GitHub gives a page's headings: lower case, spaces to '-', punctuation (and
// anything not ASCII) dropped, "-1", "-2", ... after repeats; lines in fenced code are not headings.
std::set<std::string> heading_anchors(const std::string& text) {
    std::set<std::string> anchors;
    std::map<std::string, int> seen;
    std::istringstream lines{text};
    bool fenced = false;
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("```")) fenced = !fenced;
        const auto text_at = line.find_first_not_of('#');
        if (fenced || !line.starts_with("#") || text_at == std::string::npos) continue;
        std::string anchor;
        for (const char c : line.substr(text_at)) {
            const auto u = static_cast<unsigned char>(c);
            if (std::isalnum(u) && u < 0x80)
                anchor += static_cast<char>(std::tolower(u));
            else if (c == ' ' || c == '-')
                anchor += '-';
            else if (c == '_')
                anchor += '_';
        }
        if (anchor.starts_with('-')) anchor.erase(0, 1);  // the space after the #s
        const int repeat = seen[anchor]++;
        anchors.insert(repeat == 0 ? anchor : anchor + "-" + std::to_string(repeat));
    }
    return anchors;
}

}  // namespace

TEST(links, resolve_in_readme_and_reference) {
    std::vector<fs::path> pages{source_dir / "README.md"};
    for (const auto& page : fs::directory_iterator(source_dir / "docs"))
        if (page.path().extension() == ".md") pages.push_back(page.path());
    const std::regex link{R"(\]\(([^)\s]+)\))"};
    for (const auto& page : pages) {
        const std::string text = read_file(page);
        for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
            const std::string target = (*it)[1];
            if (target.starts_with("http") || target.starts_with("mailto:")) continue;
            const auto hash = target.find('#');
            const fs::path file = hash == 0 ? page : page.parent_path() / target.substr(0, hash);
            const std::string where = fs::relative(page, source_dir).string();
            if (!fs::exists(file)) {
                ADD_FAILURE() << where << " links to " << target << ", which does not exist";
                continue;
            }
            if (hash == std::string::npos || file.extension() != ".md") continue;
            const std::string anchor = target.substr(hash + 1);
            EXPECT_TRUE(heading_anchors(read_file(file)).contains(anchor))
                << where << " links to " << target << ": " << fs::relative(file, source_dir).string()
                << " has no heading with the anchor #" << anchor;
        }
    }
}
