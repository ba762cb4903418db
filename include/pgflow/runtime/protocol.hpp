#pragma once
// The worker protocol on a connection: the schema capability probe (once per connection) and the
// preparation of runtime/statements.hpp's statements, for the worker and for the client.

#include <pgflow/pq/connection.hpp>
#include <pgflow/runtime/acknowledgements.hpp>
#include <pgflow/runtime/statements.hpp>

#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pgflow::detail {

inline void prepare(pq::connection& c, const prepared_statement& s) { c.prepare(std::string(s.name), s.sql); }

/// One round trip: what the schema behind `c` offers.
inline schema_capabilities probe_capabilities(pq::connection& c) {
    const auto r = c.execute(capability_probe_sql);
    return {r.get<bool>(0, 0), r.get<bool>(0, 1), r.get<bool>(0, 2), r.get<bool>(0, 3),
            r.get<bool>(0, 4), r.get<bool>(0, 5), r.get<bool>(0, 6), r.get<bool>(0, 7)};
}

/// Prepares every statement a worker of `flow_slug` sends (one round trip each, plus one to name
/// the queue's table).
inline void prepare_worker_statements(pq::connection& c, const schema_capabilities& caps,
                                      const std::string& flow_slug) {
    namespace s = statements;
    prepare(c, s::complete);
    prepare(c, s::fail);
    prepare(c, fail_attempt_statement(caps));
    if (caps.read_and_start_tasks) {
        prepare(c, s::claim);
    } else {
        prepare(c, s::read);
        prepare(c, s::start_tasks);
    }
    if (caps.defer_notifications) {
        prepare(c, s::defer_notifications);
        prepare(c, s::publish_notifications);
    }
    if (caps.run_control) prepare(c, s::fail_permanently);
    prepare(c, complete_batch_statement(caps));
    prepare(c, s::heartbeat);
    prepare(c, s::ended_runs);
    if (caps.handlerless_steps) {
        prepare(c, s::sleep_task);
        prepare(c, s::wake_due_waits);
        prepare(c, s::next_wake);
    }
    const auto table = c.execute(s::queue_table, flow_slug).get<std::string>(0, 0);
    c.prepare(std::string(s::next_visible_name), std::string(s::next_visible_sql_prefix) + c.quote_identifier(table) +
                                                     std::string(s::next_visible_sql_suffix));
}

/// Runs the claim path once without claiming anything (a read of 0 messages, a claim of a message
/// id that does not exist), so that the worker's first real claim does not pay alone for what a
/// new backend does once: catalog cache loads, PL/pgSQL compilation, plans. $1 flow, $2 worker id.
inline void warm_up_claims(pq::connection& c, const schema_capabilities& caps, const std::string& flow_slug,
                           const std::string& worker_id) {
    c.execute(caps.read_and_start_tasks
                  ? "SELECT (SELECT count(*) FROM pgflow_cpp.read_and_start_tasks($1, 1, 0, $2::uuid)) + "
                    "(SELECT count(*) FROM pgflow.start_tasks($1, ARRAY[-1]::bigint[], $2::uuid))"
                  : "SELECT (SELECT count(*) FROM pgmq.read($1, 1, 0)) + "
                    "(SELECT count(*) FROM pgflow.start_tasks($1, ARRAY[-1]::bigint[], $2::uuid))",
              flow_slug, worker_id);
}

/// Prepares the client's start of a run (and the notification deferral around it, where the
/// schema has it).
inline void prepare_client_statements(pq::connection& c, const schema_capabilities& caps) {
    prepare(c, statements::start_flow);
    if (caps.defer_notifications) {
        prepare(c, statements::defer_notifications);
        prepare(c, statements::publish_notifications);
    }
}

/// The parameters of a planned acknowledgement statement, taken from the results it reports.
inline pq::parameters parameters_of(const planned_statement& s, const std::deque<acknowledgement>& pending,
                                    const std::string& worker_id) {
    if (!s.reports()) return {};
    if (s.kind == ack_statement::complete_batch) {
        std::vector<std::string_view> run_ids, step_slugs, outputs;
        std::vector<int> task_indexes;
        for (auto i : s.acks) {
            run_ids.push_back(pending[i].run_id);
            step_slugs.push_back(pending[i].step_slug);
            task_indexes.push_back(pending[i].task_index);
            outputs.push_back(pending[i].payload);
        }
        return pq::parameters(run_ids, step_slugs, task_indexes, outputs);
    }
    const auto& a = pending[s.acks.front()];
    if (s.kind == ack_statement::fail_attempt)
        return pq::parameters(a.run_id, a.step_slug, a.task_index, a.payload, worker_id, a.attempt);
    return pq::parameters(a.run_id, a.step_slug, a.task_index, a.payload);
}

/// The plan's statements, ready for a pipeline.
inline std::vector<pq::pipelined_statement> pipeline_of(const acknowledgement_plan& plan,
                                                        const std::deque<acknowledgement>& pending,
                                                        const std::string& worker_id) {
    std::vector<pq::pipelined_statement> out;
    for (const auto& s : plan.statements)
        out.push_back(
            {std::string(name_of(s.kind)), {}, parameters_of(s, pending, worker_id), s.same_transaction_as_next});
    return out;
}

/// Whether a completion of the plan queued tasks of `flow_slug`: the flows whose queues its
/// transaction woke, which the completion statements answer after their rows (statements.hpp).
inline bool queue_fed_by(const acknowledgement_plan& plan, std::span<const pq::pipelined_outcome> outcomes,
                         std::string_view flow_slug) {
    const std::string flow = ' ' + std::string(flow_slug) + ' ';
    for (std::size_t k = 0; k < plan.statements.size() && k < outcomes.size(); ++k) {
        const auto kind = plan.statements[k].kind;
        const auto* r = std::get_if<pq::result>(&outcomes[k]);
        if ((kind == ack_statement::complete || kind == ack_statement::complete_batch) && r != nullptr &&
            r->rows() == 1 && r->columns() == 2 && !r->is_null(0, 1) &&
            r->get<std::string>(0, 1).find(flow) != std::string::npos)
            return true;
    }
    return false;
}

}  // namespace pgflow::detail
