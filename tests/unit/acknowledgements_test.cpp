// runtime/acknowledgements.hpp without a database: which statements a round trip sends for the
// pending results (batching, 4 MiB, fail vs complete, deferred notifications) and what their
// outcomes make of the results (settled, retried, reported alone, lost); failure messages made
// valid UTF-8 before they are queued.
#include <pgflow/detail/utf8.hpp>
#include <pgflow/runtime/acknowledgements.hpp>
#include <pgflow/runtime/protocol.hpp>
#include <pgflow/runtime/statements.hpp>
#include <pgflow/runtime/wait_waker.hpp>
#include <pgflow/runtime/worker_handlers.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using pgflow::database_error;
using namespace pgflow::detail;

acknowledgement done(std::string run, std::string step, int index = 0, std::string output = "1") {
    return {std::move(run), std::move(step), index, true, std::move(output)};
}
acknowledgement failed(std::string run, std::string step, std::string message = "boom") {
    return {std::move(run), std::move(step), 0, false, std::move(message)};
}

std::vector<ack_statement> kinds(const acknowledgement_plan& p) {
    std::vector<ack_statement> k;
    for (const auto& s : p.statements) k.push_back(s.kind);
    return k;
}

const schema_capabilities plain{};
const schema_capabilities deferring{true, true, true, true};
const database_error deadlock{"deadlock detected", "40P01"};
const database_error bad_output{"unsupported Unicode escape sequence", "22P05"};

std::vector<const database_error*> none(const acknowledgement_plan& p) {
    return std::vector<const database_error*>(p.statements.size());
}

TEST(acknowledgements, nothing_pending_plans_nothing_unless_a_heartbeat_publishes) {
    const std::deque<acknowledgement> pending;
    EXPECT_TRUE(plan_acknowledgements(pending, plain, true).statements.empty());
    EXPECT_TRUE(plan_acknowledgements(pending, deferring, false).statements.empty());
    EXPECT_EQ(kinds(plan_acknowledgements(pending, deferring, true)), std::vector{ack_statement::publish});
}

TEST(acknowledgements, a_lone_completion_goes_through_complete_task) {
    const std::deque<acknowledgement> pending{done("r1", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_EQ(plan.taken, 1u);
    EXPECT_EQ(kinds(plan), std::vector{ack_statement::complete});
    EXPECT_EQ(name_of(plan.statements[0].kind), "pgflow_complete");
}

TEST(acknowledgements, completions_are_batched_in_lock_order_after_the_lone_failures) {
    acknowledgement timed_out = failed("r0", "t");
    timed_out.attempt = 2;
    const std::deque<acknowledgement> pending{done("r2", "b"), failed("r1", "x"), done("r1", "b", 1),
                                              done("r1", "b", 0), timed_out};
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_EQ(plan.taken, 5u);
    EXPECT_EQ(kinds(plan),
              (std::vector{ack_statement::fail, ack_statement::fail_attempt, ack_statement::complete_batch}));
    EXPECT_EQ(plan.statements[0].acks, std::vector<std::size_t>{1});
    EXPECT_EQ(plan.statements[1].acks, std::vector<std::size_t>{4});
    EXPECT_EQ(plan.statements[2].acks, (std::vector<std::size_t>{3, 2, 0}));
}

TEST(acknowledgements, deferred_notifications_wrap_each_report_and_publish_last) {
    const std::deque<acknowledgement> pending{failed("r1", "x"), done("r1", "a"), done("r2", "a")};
    const auto plan = plan_acknowledgements(pending, deferring, false);
    EXPECT_EQ(kinds(plan), (std::vector{ack_statement::defer, ack_statement::fail, ack_statement::defer,
                                        ack_statement::complete_batch, ack_statement::publish}));
    EXPECT_TRUE(plan.statements[0].same_transaction_as_next);
    EXPECT_FALSE(plan.statements[1].same_transaction_as_next);
    EXPECT_FALSE(plan.statements[4].same_transaction_as_next);
}

TEST(acknowledgements, results_marked_alone_are_not_batched) {
    auto alone = done("r1", "a");
    alone.alone = true;
    const std::deque<acknowledgement> pending{alone, done("r2", "a"), done("r3", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_EQ(kinds(plan), (std::vector{ack_statement::complete, ack_statement::complete_batch}));
    EXPECT_EQ(plan.statements[1].acks, (std::vector<std::size_t>{1, 2}));
}

TEST(acknowledgements, a_round_trip_takes_at_most_4_mib_and_a_bigger_result_alone) {
    const std::string mib(1024 * 1024, 'x');
    std::deque<acknowledgement> pending;
    for (int i = 0; i < 6; ++i) pending.push_back(done("r", "a", i, mib));
    EXPECT_EQ(plan_acknowledgements(pending, plain, false).taken, 4u);
    std::deque<acknowledgement> big{done("r", "a", 0, std::string(5 * 1024 * 1024, 'x')), done("r", "a", 1)};
    const auto plan = plan_acknowledgements(big, plain, false);
    EXPECT_EQ(plan.taken, 1u);
    EXPECT_EQ(kinds(plan), std::vector{ack_statement::complete});
}

TEST(acknowledgements, a_round_trip_takes_at_most_100_results) {
    std::deque<acknowledgement> pending;
    for (int i = 0; i < 150; ++i) pending.push_back(done("r", "a", i));
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_EQ(plan.taken, 100u);
    ASSERT_EQ(plan.statements.size(), 1u);
    EXPECT_EQ(plan.statements[0].acks.size(), 100u);
}

TEST(acknowledgements, an_output_over_max_output_bytes_fails_its_task) {
    const auto ok = completion_of("r", "s", 3, "[1,2]", 5);
    EXPECT_TRUE(ok.completed);
    EXPECT_EQ(ok.payload, "[1,2]");
    const auto too_big = completion_of("r", "s", 3, "[1,2,3]", 5);
    EXPECT_FALSE(too_big.completed);
    EXPECT_EQ(too_big.task_index, 3);
    EXPECT_EQ(too_big.payload,
              "pgflow worker: the output of step s is 7 bytes of JSON, more than "
              "worker_options::max_output_bytes (5 bytes)");
}

TEST(acknowledgements, successes_are_settled_and_removed) {
    std::deque<acknowledgement> pending{done("r1", "a"), done("r2", "a"), failed("r3", "a"), done("r4", "late")};
    const auto plan = plan_acknowledgements(pending, deferring, true, acknowledgement_limits{.max_acks = 3});
    EXPECT_EQ(plan.taken, 3u);
    const auto s = settle_acknowledgements(pending, plan, none(plan));
    EXPECT_EQ(s.settled, 3u);
    EXPECT_EQ(s.retried + s.lost, 0u);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].step_slug, "late");
}

TEST(acknowledgements, a_deadlocked_report_is_retried_up_to_the_limit) {
    std::deque<acknowledgement> pending{failed("r1", "a")};
    for (int attempt = 1; attempt <= 10; ++attempt) {
        const auto plan = plan_acknowledgements(pending, plain, false);
        const auto s = settle_acknowledgements(pending, plan, std::vector{&deadlock});
        EXPECT_EQ(s.retried, 1u);
        ASSERT_EQ(pending.size(), 1u);
        EXPECT_EQ(pending[0].retries, attempt);
    }
    const auto plan = plan_acknowledgements(pending, plain, false);
    const auto s = settle_acknowledgements(pending, plan, std::vector{&deadlock});
    EXPECT_EQ(s.lost, 1u);
    EXPECT_TRUE(pending.empty());
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0], "could not record the failure of task a[0] of run r1: deadlock detected");
}

TEST(acknowledgements, a_refused_output_becomes_the_tasks_failure_reported_alone) {
    std::deque<acknowledgement> pending{done("r1", "a", 2)};
    const auto plan = plan_acknowledgements(pending, plain, false);
    const auto s = settle_acknowledgements(pending, plan, std::vector{&bad_output});
    EXPECT_EQ(s.retried, 1u);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_FALSE(pending[0].completed);
    EXPECT_TRUE(pending[0].alone);
    EXPECT_EQ(pending[0].task_index, 2);
    EXPECT_EQ(pending[0].payload,
              "pgflow worker: the database rejected the step output: unsupported Unicode escape sequence");
}

TEST(acknowledgements, a_deadlocked_batch_is_sent_again_as_a_batch) {
    std::deque<acknowledgement> pending{done("r2", "a"), done("r1", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    const auto s = settle_acknowledgements(pending, plan, std::vector{&deadlock});
    EXPECT_TRUE(s.log.empty());
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[0].run_id, "r1");  // requeued in lock order
    EXPECT_EQ(pending[0].retries, 1);
    EXPECT_FALSE(pending[0].alone);
    EXPECT_EQ(kinds(plan_acknowledgements(pending, plain, false)), std::vector{ack_statement::complete_batch});
}

TEST(acknowledgements, a_batch_the_database_refuses_is_reported_one_by_one) {
    std::deque<acknowledgement> pending{done("r1", "a"), done("r2", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    const auto s = settle_acknowledgements(pending, plan, std::vector{&bad_output});
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0],
              "reporting 2 results together failed (unsupported Unicode escape sequence); reporting them one by one");
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_TRUE(pending[0].alone && pending[1].alone);
    EXPECT_EQ(kinds(plan_acknowledgements(pending, plain, false)),
              (std::vector{ack_statement::complete, ack_statement::complete}));
}

TEST(acknowledgements, a_failed_publication_is_logged_and_settles_nothing_else) {
    std::deque<acknowledgement> pending{done("r1", "a")};
    const auto plan = plan_acknowledgements(pending, deferring, false);
    ASSERT_EQ(plan.statements.size(), 3u);
    const database_error gone{"publish failed", "XX000"};
    const auto s = settle_acknowledgements(pending, plan, std::vector<const database_error*>{nullptr, nullptr, &gone});
    EXPECT_EQ(s.settled, 1u);
    EXPECT_TRUE(pending.empty());
    ASSERT_EQ(s.log.size(), 1u);
    EXPECT_EQ(s.log[0], "publishing notifications failed: publish failed");
}

TEST(acknowledgements, a_permanent_failure_goes_through_fail_task_permanently_where_the_schema_has_it) {
    acknowledgement permanent = failed("r1", "validate", "order 1004 has no lines");
    permanent.permanent = true;
    const std::deque<acknowledgement> pending{permanent, failed("r2", "x"), done("r3", "a")};
    const schema_capabilities run_control{true, false, true, true, true};
    const auto plan = plan_acknowledgements(pending, run_control, false);
    EXPECT_EQ(kinds(plan),
              (std::vector{ack_statement::fail_permanently, ack_statement::fail, ack_statement::complete}));
    EXPECT_EQ(name_of(plan.statements[0].kind), "pgflow_fail_permanently");
    EXPECT_EQ(plan.statements[0].acks, std::vector<std::size_t>{0});
    // pgflow 0.8.1's schema has no fail_task_permanently: an ordinary failure (retried while attempts remain).
    EXPECT_EQ(kinds(plan_acknowledgements(pending, plain, false)),
              (std::vector{ack_statement::fail, ack_statement::fail, ack_statement::complete}));
    EXPECT_EQ(kinds(plan_acknowledgements(pending, deferring, false)),
              (std::vector{ack_statement::defer, ack_statement::fail, ack_statement::defer, ack_statement::fail,
                           ack_statement::defer, ack_statement::complete, ack_statement::publish}));
}

TEST(acknowledgements, a_permanent_failure_that_cannot_be_recorded_is_lost_like_any_failure) {
    acknowledgement permanent = failed("r1", "validate");
    permanent.permanent = true;
    std::deque<acknowledgement> pending{permanent};
    const schema_capabilities run_control{false, false, false, false, true};
    const auto plan = plan_acknowledgements(pending, run_control, false);
    const auto s = settle_acknowledgements(pending, plan, std::vector{&deadlock});
    EXPECT_EQ(s.retried, 1u);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_TRUE(pending[0].permanent);
    EXPECT_EQ(kinds(plan_acknowledgements(pending, run_control, false)), std::vector{ack_statement::fail_permanently});
}

TEST(acknowledgements, outcomes_must_match_the_plan) {
    std::deque<acknowledgement> pending{done("r1", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_THROW(settle_acknowledgements(pending, plan, std::vector<const database_error*>{}), pgflow::error);
}

}  // namespace

// --- sleep steps and the waking of due waits (runtime/wait_waker.hpp) -------------------------------

namespace {

acknowledgement sleeping(std::string run, std::string step, std::string until = "2030-01-01T00:00:00.000000Z") {
    acknowledgement a{std::move(run), std::move(step), 0, false, std::move(until)};
    a.sleep = true;
    return a;
}

TEST(acknowledgements, a_sleep_goes_alone_through_sleep_task_never_in_a_batch) {
    const std::deque<acknowledgement> pending{done("r1", "a"), sleeping("r2", "nap"), done("r3", "a")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    EXPECT_EQ(kinds(plan), (std::vector{ack_statement::sleep, ack_statement::complete_batch}));
    EXPECT_EQ(name_of(plan.statements[0].kind), "pgflow_sleep_task");
    EXPECT_EQ(plan.statements[0].acks, std::vector<std::size_t>{1});
}

TEST(acknowledgements, a_sleep_the_database_refuses_fails_its_task_alone) {
    std::deque<acknowledgement> pending{sleeping("r1", "nap")};
    const auto plan = plan_acknowledgements(pending, plain, false);
    const database_error refused{"task is not started", "55000"};
    const std::vector<const database_error*> errors{&refused};
    const auto s = settle_acknowledgements(pending, plan, errors);
    EXPECT_EQ(s.retried, 1u);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_FALSE(pending[0].sleep);
    EXPECT_FALSE(pending[0].completed);
    EXPECT_TRUE(pending[0].alone);
    EXPECT_NE(pending[0].payload.find("sleep step to sleep until 2030-01-01"), std::string::npos) << pending[0].payload;
    // A deadlock says nothing about the sleep: sent again as a sleep.
    std::deque<acknowledgement> again{sleeping("r1", "nap")};
    const std::vector<const database_error*> deadlocked{&deadlock};
    settle_acknowledgements(again, plan_acknowledgements(again, plain, false), deadlocked);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_TRUE(again[0].sleep);
}

TEST(wait_waker, calls_again_within_a_second_sooner_when_a_wait_is_due_sooner_never_in_a_busy_loop) {
    using std::chrono::milliseconds;
    const wait_waker waker{milliseconds{1000}, milliseconds{100}};
    EXPECT_EQ(waker.delay_until_next(std::nullopt), milliseconds{1000});
    EXPECT_EQ(waker.delay_until_next(60'000), milliseconds{1000});
    EXPECT_EQ(waker.delay_until_next(349), milliseconds{350});
    EXPECT_EQ(waker.delay_until_next(0), milliseconds{100});
    EXPECT_EQ(waker.delay_until_next(-5000), milliseconds{100});  // due, but locked by another session
    EXPECT_TRUE(waker.due(wait_waker::clock::now()));             // the first call is at once
}

const std::string fffd = "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER

TEST(valid_utf8, keeps_well_formed_text_of_every_length_unchanged) {
    for (const std::string text : {"", "plain ASCII", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80!",
                                   "\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF", "\xC2\x80\xDF\xBF"})
        EXPECT_EQ(valid_utf8(text), text);
}

TEST(valid_utf8, replaces_a_truncated_sequence_by_one_replacement_character) {
    EXPECT_EQ(valid_utf8("a\xC3"), "a" + fffd);
    EXPECT_EQ(valid_utf8("a\xE2\x82 b"), "a" + fffd + " b");
    EXPECT_EQ(valid_utf8("\xF0\x9F\x98"), fffd);
    EXPECT_EQ(valid_utf8("\xF0\x9F\x98\xC3\xA9"), fffd + "\xC3\xA9") << "the next character is kept";
}

TEST(valid_utf8, replaces_overlong_forms_surrogates_and_code_points_past_the_last) {
    EXPECT_EQ(valid_utf8("\xC0\xAF"), fffd + fffd);             // overlong '/'
    EXPECT_EQ(valid_utf8("\xC1\xBF"), fffd + fffd);             // overlong, C1 lead
    EXPECT_EQ(valid_utf8("\xE0\x80\xAF"), fffd + fffd + fffd);  // overlong, three bytes
    EXPECT_EQ(valid_utf8("\xF0\x80\x80\xAF"), fffd + fffd + fffd + fffd);
    EXPECT_EQ(valid_utf8("\xED\xA0\x80"), fffd + fffd + fffd);             // U+D800, a surrogate
    EXPECT_EQ(valid_utf8("\xED\xBF\xBF"), fffd + fffd + fffd);             // U+DFFF
    EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // U+110000
    EXPECT_EQ(valid_utf8("\xF5\x80"), fffd + fffd);
    EXPECT_EQ(valid_utf8("\xFF"), fffd);
}

TEST(valid_utf8, replaces_stray_continuation_bytes_and_nul_characters) {
    EXPECT_EQ(valid_utf8("\x80"), fffd);
    EXPECT_EQ(valid_utf8("ab\xBF\xBF"
                         "c"),
              "ab" + fffd + fffd + "c");
    EXPECT_EQ(valid_utf8("\xC3\xA9\xA9"), "\xC3\xA9" + fffd);
    EXPECT_EQ(valid_utf8(std::string_view("a\0b", 3)), "a" + fffd + "b");
}

TEST(valid_utf8, a_handler_failure_is_queued_with_a_message_the_database_accepts) {
    const claimed_task task{"r1", "s", "null"};
    const auto a = failure_of(task, std::string_view("bad \xFF byte\0!", 12));
    EXPECT_FALSE(a.completed);
    EXPECT_EQ(a.payload, "bad " + fffd + " byte" + fffd + "!");
    EXPECT_EQ(failure_of(task, "caf\xC3\xA9").payload, "caf\xC3\xA9");
}

}  // namespace

namespace {

// A completion statement's result as the worker gets it: its count, then the queues its
// transaction woke (nullptr: NULL, as on pgflow 0.8.1's schema).
pgflow::pq::result completion_answer(const char* woken) {
    PGresult* r = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
    PGresAttDesc columns[2] = {{const_cast<char*>("count"), 0, 0, 0, 20, 8, -1},
                               {const_cast<char*>("current_setting"), 0, 0, 0, 25, -1, -1}};
    PQsetResultAttrs(r, 2, columns);
    PQsetvalue(r, 0, 0, const_cast<char*>("1"), 1);
    PQsetvalue(r, 0, 1, const_cast<char*>(woken), woken ? static_cast<int>(std::strlen(woken)) : -1);
    return pgflow::pq::result(r);
}

// A round trip of one completion statement of `kind` between its defer and the publication.
bool fed(ack_statement kind, pgflow::pq::pipelined_outcome answer, std::string_view flow) {
    acknowledgement_plan plan;
    plan.statements = {{ack_statement::defer, {}, true}, {kind, {0}}, {ack_statement::publish, {}}};
    std::vector<pgflow::pq::pipelined_outcome> outcomes;
    outcomes.emplace_back(pgflow::pq::result{});
    outcomes.push_back(std::move(answer));
    outcomes.emplace_back(pgflow::pq::result{});
    return queue_fed_by(plan, outcomes, flow);
}

}  // namespace

TEST(acknowledgements, a_completion_feeds_the_queue_of_the_flows_it_answers_and_no_other) {
    EXPECT_TRUE(fed(ack_statement::complete, completion_answer(" fed "), "fed"));
    EXPECT_TRUE(fed(ack_statement::complete_batch, completion_answer(" child fed "), "fed"));
    EXPECT_FALSE(fed(ack_statement::complete, completion_answer(" fed2 "), "fed")) << "a flow named like it";
    EXPECT_FALSE(fed(ack_statement::complete, completion_answer(" fed "), "fe"));
    EXPECT_FALSE(fed(ack_statement::complete, completion_answer(" "), "fed"));
    EXPECT_FALSE(fed(ack_statement::complete, completion_answer(nullptr), "fed")) << "pgflow 0.8.1's schema";
    EXPECT_FALSE(fed(ack_statement::complete, deadlock, "fed")) << "a completion that failed";
    EXPECT_FALSE(fed(ack_statement::fail, completion_answer(" fed "), "fed")) << "only completions answer it";
}

// tests/sql/woken_queues.sql prepares the worker's two completion statements to test what they
// answer: its copies must say what the worker sends (whitespace aside), or the test proves nothing.
TEST(acknowledgements, the_pgtap_copies_of_the_completion_statements_match_the_workers) {
    std::ifstream file(PGFLOW_SQL_TESTS_DIR "/woken_queues.sql");
    ASSERT_TRUE(file) << "cannot read " PGFLOW_SQL_TESTS_DIR "/woken_queues.sql";
    std::stringstream text;
    text << file.rdbuf();
    const std::string sql = text.str();
    const auto normalized = [](std::string_view s) {
        std::string out;
        for (char c : s) {
            const bool space = c == ' ' || c == '\n' || c == '\t';
            if (space && (out.empty() || out.back() == ' ')) continue;
            out += space ? ' ' : c;
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out;
    };
    // The statement after "PREPARE <name>(<types>) AS", up to its semicolon.
    const auto prepared = [&](std::string_view name) {
        const auto at = sql.find("PREPARE " + std::string(name) + "(");
        if (at == std::string::npos) return std::string("(no PREPARE ") + std::string(name) + ")";
        const auto body = sql.find(" AS", at) + 3;
        return normalized(std::string_view(sql).substr(body, sql.find(';', body) - body));
    };
    EXPECT_EQ(prepared("complete_one"), normalized(pgflow::detail::statements::complete.sql));
    EXPECT_EQ(prepared("complete_batch"), normalized(pgflow::detail::statements::complete_batch_function.sql));
}
