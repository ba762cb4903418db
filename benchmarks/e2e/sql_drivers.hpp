#pragma once
// Workers that speak SQL directly, for the two reference points:
//  - edge_worker: pgflow 0.8.1's edge worker in flow mode, its loop and defaults:
//    read_with_poll(vt 2, qty 10, 2 s, 100 ms) → start_tasks → one complete_task per
//    task, up to maxConcurrent 10 at once over a pool of maxPgConnections 4, heartbeat every 5 s.
//  - limit_worker: the smallest durable queue PostgreSQL can run: one table, SKIP LOCKED claims
//    of 10 rows in one transaction, acknowledgements of 10 rows (DELETE) in one transaction.

#include "libpq.hpp"
#include "shapes.hpp"

#include <boost/json.hpp>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgflow_bench {

/// What every worker reports, shared with the coordinator.
struct counters {
    std::atomic<long long> tasks{0};  ///< tasks whose completion was committed
    std::atomic<long long> handler_entries{0};
    std::atomic<std::int64_t> last_handler_entry_ns{0};  ///< steady_clock of the latest handler call
    std::atomic<bool> stop{false};
    std::mutex error_mutex;
    std::string first_error;

    void handler_entered() {
        last_handler_entry_ns.store(std::chrono::steady_clock::now().time_since_epoch().count());
        ++handler_entries;
    }
    void fail(const std::string& what) {
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = what;
        stop = true;
    }
};

inline std::string bigint_array(const std::vector<std::string>& ids) {
    std::string s = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) s += ',';
        s += ids[i];
    }
    return s + "}";
}

struct edge_settings {
    int visibility_timeout = 2;
    int batch_size = 10;
    int max_poll_seconds = 2;
    int poll_interval_ms = 100;
    int max_concurrent = 10;
    int max_connections = 4;
    int heartbeat_ms = 5000;
};

class edge_worker {
public:
    edge_worker(std::string conninfo, std::string flow_slug, counters& c, edge_settings s = {})
        : conninfo_(std::move(conninfo)), slug_(std::move(flow_slug)), c_(c), s_(s) {}

    /// Connects and registers; call before run() so set-up is outside the measurement.
    void connect() {
        for (int i = 0; i < s_.max_connections; ++i) pool_.emplace_back(conninfo_);
        auto& main = pool_.front();
        worker_id_ = std::string(main.exec("insert into pgflow.workers (queue_name, worker_id, function_name) "
                                           "values ($1, gen_random_uuid(), 'pgflow-bench-edge') returning worker_id",
                                           {slug_})
                                     .get(0, 0));
        main.prepare("read",
                     "select msg_id from pgmq.read_with_poll(queue_name => $1, vt => $2::int, qty => $3::int, "
                     "max_poll_seconds => $4::int, poll_interval_ms => $5::int)");
        main.prepare("start",
                     "select run_id, step_slug, task_index, input from pgflow.start_tasks("
                     "flow_slug => $1, msg_ids => $2::bigint[], worker_id => $3::uuid)");
        main.prepare("heartbeat",
                     "update pgflow.workers set last_heartbeat_at = clock_timestamp() "
                     "where worker_id = $1::uuid returning (deprecated_at is not null)");
        for (auto& conn : pool_)
            conn.prepare("complete",
                         "select 1 from pgflow.complete_task(run_id => $1::uuid, step_slug => $2, "
                         "task_index => $3::int, output => $4::jsonb)");
    }

    /// Interrupts a read_with_poll in progress (called from the coordinator at the end).
    void interrupt() {
        if (!pool_.empty()) pool_.front().cancel();
    }

    void run() {
        try {
            loop();
        } catch (const std::exception& e) {
            if (!c_.stop) c_.fail(std::string("edge worker: ") + e.what());
        }
        done_ = true;
    }

    [[nodiscard]] bool done() const { return done_; }

private:
    struct pending {
        std::string run_id, step_slug, task_index, output;
    };

    void loop() {
        auto& main = pool_.front();
        auto last_heartbeat = std::chrono::steady_clock::now();
        const params read_params{slug_, std::to_string(s_.visibility_timeout), std::to_string(s_.batch_size),
                                 std::to_string(s_.max_poll_seconds), std::to_string(s_.poll_interval_ms)};
        while (!c_.stop) {
            auto now = std::chrono::steady_clock::now();
            if (now - last_heartbeat >= std::chrono::milliseconds(s_.heartbeat_ms)) {
                main.exec_prepared("heartbeat", {worker_id_});
                last_heartbeat = now;
            }
            auto messages = main.exec_prepared("read", read_params);
            if (messages.rows() == 0) continue;
            std::vector<std::string> ids;
            for (int i = 0; i < messages.rows(); ++i) ids.emplace_back(messages.get(i, 0));
            auto tasks = main.exec_prepared("start", {slug_, bigint_array(ids), worker_id_});
            std::deque<pending> work;
            for (int i = 0; i < tasks.rows(); ++i) {
                c_.handler_entered();
                auto step = std::string(tasks.get(i, 1));
                auto out = compute_output(step, boost::json::parse(tasks.get(i, 3)));
                work.push_back(
                    {std::string(tasks.get(i, 0)), step, std::string(tasks.get(i, 2)), boost::json::serialize(out)});
            }
            complete_all(work);
        }
    }

    /// One complete_task per task, as many at once as the pool has connections (postgres.js
    /// hands each query to a free connection of the pool and queues the rest).
    void complete_all(std::deque<pending>& work) {
        const std::size_t lanes = std::min<std::size_t>(pool_.size(), static_cast<std::size_t>(s_.max_concurrent));
        std::vector<bool> busy(lanes, false);
        std::size_t in_flight = 0;
        while (!work.empty() || in_flight > 0) {
            for (std::size_t i = 0; i < lanes && !work.empty(); ++i) {
                if (busy[i]) continue;
                auto t = std::move(work.front());
                work.pop_front();
                pool_[i].send_prepared("complete", {t.run_id, t.step_slug, t.task_index, t.output});
                busy[i] = true;
                ++in_flight;
            }
            std::vector<pollfd> fds;
            std::vector<std::size_t> which;
            for (std::size_t i = 0; i < lanes; ++i)
                if (busy[i]) {
                    fds.push_back({pool_[i].socket(), POLLIN, 0});
                    which.push_back(i);
                }
            if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
            for (std::size_t k = 0; k < fds.size(); ++k) {
                if (!(fds[k].revents & (POLLIN | POLLERR | POLLHUP))) continue;
                auto& conn = pool_[which[k]];
                if (!conn.consume()) continue;
                conn.finish();
                busy[which[k]] = false;
                --in_flight;
                ++c_.tasks;
            }
        }
    }

    std::string conninfo_, slug_;
    counters& c_;
    edge_settings s_;
    std::vector<connection> pool_;
    std::string worker_id_;
    std::atomic<bool> done_{false};
};

/// The limit: a one-table durable queue, claims and acknowledgements batched `batch` per
/// transaction, no workflow bookkeeping at all.
class limit_worker {
public:
    static constexpr const char* schema_sql =
        "create schema if not exists bench_limit;"
        "create table if not exists bench_limit.jobs ("
        "  id bigint generated always as identity primary key,"
        "  claimed_at timestamptz,"
        "  payload jsonb not null);";

    limit_worker(const std::string& conninfo, counters& c, int batch) : conn_(conninfo), c_(c), batch_(batch) {
        conn_.prepare("claim",
                      "with c as (select id from bench_limit.jobs where claimed_at is null order by id "
                      "limit $1::int for update skip locked) "
                      "update bench_limit.jobs j set claimed_at = now() from c where j.id = c.id "
                      "returning j.id, j.payload");
        conn_.prepare("ack", "delete from bench_limit.jobs where id = any($1::bigint[])");
    }

    void run() {
        try {
            const params claim_params{std::to_string(batch_)};
            while (!c_.stop) {
                auto jobs = conn_.exec_prepared("claim", claim_params);
                if (jobs.rows() == 0) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    continue;
                }
                std::vector<std::string> ids;
                for (int i = 0; i < jobs.rows(); ++i) {
                    c_.handler_entered();
                    auto payload = boost::json::parse(jobs.get(i, 1));
                    auto out = compute_output("items", payload.at("i"));
                    (void)boost::json::serialize(out);
                    ids.emplace_back(jobs.get(i, 0));
                }
                conn_.exec_prepared("ack", {bigint_array(ids)});
                c_.tasks += static_cast<long long>(ids.size());
            }
        } catch (const std::exception& e) {
            if (!c_.stop) c_.fail(std::string("limit worker: ") + e.what());
        }
    }

private:
    connection conn_;
    counters& c_;
    int batch_;
};

}  // namespace pgflow_bench
