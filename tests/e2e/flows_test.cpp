// Flow semantics end to end: a real server, the embedded installer, a worker (on a thread of this
// process) and the client. Assertions read the database state.

#include "e2e_support.hpp"
#include "flows.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

using namespace e2e;
using boost::json::value;
namespace flows = e2e::flows;

namespace {

value json(std::string_view text) { return boost::json::parse(text); }

// A handler whose error text is not valid UTF-8 (a stray byte, a truncated sequence).
inline constexpr auto garbled = pgflow::flow<"e2e_garbled", int>(
    pgflow::flow_options{.max_attempts = 1},
    pgflow::step<"garble">([](int) -> int { throw std::runtime_error("garble: \xFF and \xC3("); }));

}  // namespace

TEST(flow, sequential_chain_passes_each_output_to_the_next_step) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    worker_thread worker{db, flows::chain};

    const auto id = client.start(flows::chain, 4);
    const auto output = client.wait(id, 20s);
    EXPECT_EQ(output, json(R"({"c":"4:10"})"));

    const auto typed = client.wait(flows::chain, id, 1s);
    EXPECT_EQ(pgflow::to_json(typed), json(R"({"c":"4:10"})"));

    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'completed'", id),
              3);
    // Each step started only after its dependency completed.
    EXPECT_EQ(scalar(c, R"(SELECT count(*) FROM pgflow.step_states a JOIN pgflow.step_states b
                         ON a.run_id = b.run_id AND (a.step_slug, b.step_slug) IN (('a','b'), ('b','c'))
                         WHERE a.run_id = $1::uuid AND b.started_at >= a.completed_at)",
                     id),
              2);
    EXPECT_EQ(scalar(c, "SELECT count(DISTINCT last_worker_id) FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 1);
    EXPECT_EQ(c.execute("SELECT last_worker_id::text FROM pgflow.step_tasks WHERE run_id = $1::uuid LIMIT 1", id)
                  .get<std::string>(0, 0),
              worker.get().id());
}

TEST(flow, diamond_joins_both_branches) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::diamond);
    worker_thread worker{db, flows::diamond};

    const auto id = client.start(flows::diamond, 3);
    EXPECT_EQ(client.wait(id, 20s), json(R"({"join":[3,31,32]})"));
    auto c = db.connect();
    EXPECT_EQ(scalar(c, R"(SELECT count(*) FROM pgflow.step_states j, pgflow.step_states l, pgflow.step_states r
                         WHERE j.run_id = $1::uuid AND l.run_id = j.run_id AND r.run_id = j.run_id
                           AND j.step_slug = 'join' AND l.step_slug = 'left' AND r.step_slug = 'right'
                           AND j.started_at >= l.completed_at AND j.started_at >= r.completed_at)",
                     id),
              1);
}

TEST(flow, root_map_of_fifty_runs_one_task_per_element_in_order) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::squares);
    worker_thread worker{db, flows::squares};

    std::vector<int> input(50);
    boost::json::array expected;
    for (int i = 0; i < 50; ++i) {
        input[static_cast<std::size_t>(i)] = i;
        expected.emplace_back(i * i);
    }
    const auto id = client.start(flows::squares, input);
    EXPECT_EQ(client.wait(id, 30s), (boost::json::object{{"square", expected}}));
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND status = 'completed'", id),
              50);
    EXPECT_EQ(scalar(c, "SELECT max(attempts_count) FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 1);
}

TEST(flow, empty_root_map_completes_without_tasks) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::map_chain);
    // Both maps are taskless and complete inside start_flow; only the single step at the end
    // runs a task, with [] as its input.
    worker_thread worker{db, flows::map_chain};
    const auto id = client.start(flows::map_chain, std::vector<int>{});
    EXPECT_EQ(client.wait(id, 20s), json(R"({"total":0})"));
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug <> 'total'", id),
              0);
    const auto state = client.status(id);
    ASSERT_EQ(state.steps.size(), 3U);
    EXPECT_EQ(state.steps[0].step_slug, "doubled");
    EXPECT_EQ(state.steps[0].initial_tasks, 0);
    EXPECT_EQ(state.steps[1].initial_tasks, 0);
    EXPECT_EQ(state.status, pgflow::run_status::completed);
}

TEST(flow, map_then_map_then_single_aggregates_in_task_order) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::map_chain);
    worker_thread worker{db, flows::map_chain};
    const auto id = client.start(flows::map_chain, std::vector<int>{1, 2, 3, 4, 5});
    EXPECT_EQ(client.wait(id, 20s), json(R"({"total":35})"));
    auto c = db.connect();
    EXPECT_EQ(
        scalar(c, "SELECT count(*) FROM pgflow.step_tasks WHERE run_id = $1::uuid AND step_slug = 'plus_one'", id), 5);
    EXPECT_EQ(c.execute(R"(SELECT json_agg(output ORDER BY task_index)::text FROM pgflow.step_tasks
                           WHERE run_id = $1::uuid AND step_slug = 'plus_one')",
                        id)
                  .get<std::string>(0, 0),
              "[3, 5, 7, 9, 11]");
}

TEST(flow, start_delay_holds_a_step_back) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::delayed);
    worker_thread worker{db, flows::delayed};
    const auto id = client.start(flows::delayed, 1);
    EXPECT_EQ(client.wait(id, 20s), json(R"({"later":2})"));
    auto c = db.connect();
    const double waited = seconds(c, R"(SELECT extract(epoch FROM l.started_at - f.completed_at)::float8
                                        FROM pgflow.step_tasks l, pgflow.step_tasks f
                                        WHERE l.run_id = $1::uuid AND f.run_id = l.run_id
                                          AND l.step_slug = 'later' AND f.step_slug = 'first')",
                                  id);
    EXPECT_GE(waited, 1.9);
    EXPECT_LT(waited, 4.5);
}

TEST(flow, failing_task_is_retried_with_exponential_backoff_then_succeeds) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::flaky);
    worker_thread worker{db, flows::flaky};
    auto& log = flows::attempt_log::instance();
    {
        std::lock_guard lock(log.mutex);
        log.attempts.clear();
    }
    const auto id = client.start(flows::flaky, 10);
    EXPECT_EQ(client.wait(id, 30s), json(R"({"flaky":13})"));
    std::lock_guard lock(log.mutex);
    ASSERT_EQ(log.attempts.size(), 3U);
    EXPECT_EQ(log.attempts[0].first, 1);
    EXPECT_EQ(log.attempts[1].first, 2);
    EXPECT_EQ(log.attempts[2].first, 3);
    const auto first_gap = std::chrono::duration<double>(log.attempts[1].second - log.attempts[0].second).count();
    const auto second_gap = std::chrono::duration<double>(log.attempts[2].second - log.attempts[1].second).count();
    // base_delay 1: the k-th retry waits 1·2^k seconds.
    EXPECT_GE(first_gap, 1.9);
    EXPECT_LT(first_gap, 4.0);
    EXPECT_GE(second_gap, 3.9);
    EXPECT_LT(second_gap, 6.5);
    auto c = db.connect();
    EXPECT_EQ(scalar(c, "SELECT attempts_count FROM pgflow.step_tasks WHERE run_id = $1::uuid", id), 3);
    EXPECT_EQ(
        c.execute("SELECT error_message FROM pgflow.step_tasks WHERE run_id = $1::uuid", id).get<std::string>(0, 0),
        "flaky: attempt 2 fails");
}

TEST(flow, permanent_failure_fails_the_run_and_wait_throws) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::doomed);
    worker_thread worker{db, flows::doomed};
    const auto id = client.start(flows::doomed, 1);
    const auto e = e2e::wait_for_failure(client, id);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step_slug(), "explode");
    EXPECT_EQ(e->error_message(), "explode: the reactor is out of coolant");
    EXPECT_EQ(e->run_id(), id.str());
    EXPECT_NE(std::string(e->what()).find("explode"), std::string::npos);
    const auto state = client.status(id);
    EXPECT_EQ(state.status, pgflow::run_status::failed);
    ASSERT_NE(state.step("explode"), nullptr);
    EXPECT_EQ(state.step("explode")->status, pgflow::step_status::failed);
    EXPECT_EQ(state.step("prepare")->status, pgflow::step_status::completed);
    EXPECT_TRUE(state.failed_at.has_value());
    // Typed wait throws just the same.
    EXPECT_THROW(client.wait(flows::doomed, id, 1s), pgflow::run_failed_error);
}

TEST(flow, handler_error_text_that_is_not_utf8_is_recorded_with_replacement_characters) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(garbled);
    worker_thread worker{db, garbled};
    const auto id = client.start(garbled, 1);
    // The server refused the raw bytes (SQLSTATE 22021): the failure was lost until the timeout.
    const auto e = e2e::wait_for_failure(client, id);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step_slug(), "garble");
    EXPECT_EQ(e->error_message(), "garble: \xEF\xBF\xBD and \xEF\xBF\xBD(");
    EXPECT_EQ(client.status(id).step("garble")->status, pgflow::step_status::failed);
}

TEST(flow, type_violation_in_a_dynamic_flow_fails_the_run) {
    database db;
    const auto flow = flows::type_violation();
    pgflow::client client{db.options()};
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    const auto id = client.start(flow, json(R"({"x":1})"));
    const auto e = e2e::wait_for_failure(client, id);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->step_slug(), "produce");
    EXPECT_NE(e->error_message().find("[TYPE_VIOLATION]"), std::string::npos) << e->error_message();
    EXPECT_NE(e->error_message().find("each"), std::string::npos) << e->error_message();
}

TEST(flow, dynamic_flow_runs_maps_and_joins_with_json_handlers) {
    database db;
    const auto flow = flows::planned();
    pgflow::client client{db.options()};
    client.ensure_registered(flow);
    client.ensure_registered(flow);  // a second time only verifies
    worker_thread worker{db, flow};
    const auto id = client.start(flow, json(R"({"pages":3,"title":"t"})"));
    EXPECT_EQ(client.wait(flow, id, 20s),
              json(R"({"report":{"pages":3,"summaries":[{"page":"page 0","index":0},{"page":"page 1","index":1},
                     {"page":"page 2","index":2}],"title":"t"}})"));
}

TEST(flow, caller_chosen_run_id_is_used) {
    database db;
    pgflow::client client{db.options()};
    client.ensure_registered(flows::chain);
    worker_thread worker{db, flows::chain};
    const auto chosen = pgflow::new_run_id();
    EXPECT_EQ(client.start(flows::chain, 1, chosen), chosen);
    EXPECT_EQ(client.wait(chosen, 20s), json(R"({"c":"1:4"})"));
    // The same id twice is the server's primary-key violation.
    try {
        client.start(flows::chain, 1, chosen);
        FAIL() << "a duplicate run id was accepted";
    } catch (const pgflow::database_error& e) {
        EXPECT_EQ(e.sqlstate(), "23505");
    }
}

TEST(flow, falsy_outputs_are_kept) {
    database db;
    pgflow::dynamic_flow flow{"e2e_falsy"};
    flow.step("zero", [](const value&) -> value { return 0; })
        .step("no", [](const value&) -> value { return false; })
        .step("empty", [](const value&) -> value { return ""; })
        .step("nothing", [](const value&) -> value { return nullptr; });
    pgflow::client client{db.options()};
    client.ensure_registered(flow);
    worker_thread worker{db, flow};
    const auto id = client.start(flow, value(nullptr));
    EXPECT_EQ(client.wait(id, 20s), json(R"({"zero":0,"no":false,"empty":"","nothing":null})"));
}
