// Parsing pgflow.get_run_with_states's document into pgflow::run_state: pgflow 0.14's skipped
// steps (skip_reason, skipped_at), and a document from a schema without them (pgflow 0.8.1's).

#include <pgflow/runtime/run_state.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace {

const char* const document = R"({
  "run": {"run_id": "6f1b8c7e-2d4a-4f3b-9c1d-0e5a6b7c8d9e", "flow_slug": "orders", "status": "completed",
          "input": {"amount": 250}, "output": {"summary": "rejected"}, "remaining_steps": 0,
          "started_at": "2026-12-03T14:00:00.000000+00:00", "completed_at": "2026-12-03T14:00:02.5+00:00"},
  "steps": [
    {"step_slug": "summary", "status": "completed", "remaining_deps": 0, "remaining_tasks": 0, "initial_tasks": 1,
     "created_at": "2026-12-03T14:00:00+00:00", "completed_at": "2026-12-03T14:00:02+00:00",
     "skip_reason": null, "skipped_at": null},
    {"step_slug": "charge", "status": "skipped", "remaining_deps": 0, "remaining_tasks": null,
     "initial_tasks": null, "created_at": "2026-12-03T14:00:00+00:00", "skip_reason": "condition_unmet",
     "skipped_at": "2026-12-03T14:00:01+00:00", "error_message": null},
    {"step_slug": "notify", "status": "skipped", "remaining_deps": 0, "created_at": "2026-12-03T14:00:00+00:00",
     "skip_reason": "handler_failed", "skipped_at": "2026-12-03T14:00:01.5+00:00",
     "error_message": "mail server down"},
    {"step_slug": "fraud_check", "status": "completed", "remaining_deps": 0,
     "created_at": "2026-12-03T14:00:00+00:00", "completed_at": "2026-12-03T14:00:00.5+00:00"}
  ]})";

TEST(run_state, skipped_steps_have_their_reason_and_time) {
    const auto order = boost::json::parse(R"(["fraud_check", "charge", "notify", "summary"])");
    const pgflow::run_state state = pgflow::detail::parse_run_state(boost::json::parse(document), order);
    ASSERT_EQ(state.steps.size(), 4U);
    EXPECT_EQ(state.steps[0].step_slug, "fraud_check");
    const pgflow::step_state* charge = state.step("charge");
    ASSERT_NE(charge, nullptr);
    EXPECT_EQ(charge->status, pgflow::step_status::skipped);
    EXPECT_EQ(pgflow::to_string(charge->status), "skipped");
    EXPECT_EQ(charge->skip_reason, "condition_unmet");
    ASSERT_TRUE(charge->skipped_at);
    EXPECT_EQ(*charge->skipped_at - charge->created_at, std::chrono::seconds{1});
    EXPECT_FALSE(charge->error_message);
    EXPECT_FALSE(charge->remaining_tasks);
    const pgflow::step_state* notify = state.step("notify");
    EXPECT_EQ(notify->skip_reason, "handler_failed");
    EXPECT_EQ(notify->error_message, "mail server down");
    const pgflow::step_state* summary = state.step("summary");
    EXPECT_EQ(summary->status, pgflow::step_status::completed);
    EXPECT_FALSE(summary->skip_reason);
    EXPECT_FALSE(summary->skipped_at);
}

TEST(run_state, a_document_without_skip_columns_parses_as_before) {
    // pgflow 0.8.1's step_states have no skip_reason and no skipped_at.
    const auto doc = boost::json::parse(R"({
      "run": {"run_id": "6f1b8c7e-2d4a-4f3b-9c1d-0e5a6b7c8d9e", "flow_slug": "orders", "status": "started",
              "input": 1, "output": null, "remaining_steps": 1, "started_at": "2026-12-03T14:00:00+00:00"},
      "steps": [{"step_slug": "a", "status": "started", "remaining_deps": 0, "remaining_tasks": 1,
                 "initial_tasks": 1, "created_at": "2026-12-03T14:00:00+00:00",
                 "started_at": "2026-12-03T14:00:00+00:00"}]})");
    const pgflow::run_state state = pgflow::detail::parse_run_state(doc, boost::json::value{});
    ASSERT_EQ(state.steps.size(), 1U);
    EXPECT_EQ(state.steps[0].status, pgflow::step_status::started);
    EXPECT_FALSE(state.steps[0].skip_reason);
    EXPECT_FALSE(state.steps[0].skipped_at);
}

}  // namespace
