#pragma once
// The benchmark's clients: how runs are started on each schema (run_launcher) and the client loop
// that keeps a shape's runs in flight (run_starter).

#include "libpq.hpp"
#include "shapes.hpp"
#include "sql_drivers.hpp"

#include <pgflow/client.hpp>

#include <boost/json.hpp>

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace pgflow_bench {

/// How a benchmark client starts runs: on pgflow-cpp's schema with pgflow::client, as a C++ user
/// does (its NOTIFYs deferred to a WAL-free second transaction of the same round trip); on pgflow
/// 0.8.1's with a prepared start_flow, as its clients call it. Returns the run id.
class run_launcher {
public:
    run_launcher(const std::string& conninfo, connection& conn, const shape& s)
        : conn_(conn), slug_(s.flow_slug), input_(s.run_input()) {
        conn_.prepare("start_flow", "select run_id from pgflow.start_flow(flow_slug => $1, input => $2::jsonb)");
        // pgflow 0.8.1 has no batched start: its start_flow once per input, in one statement.
        conn_.prepare("start_flows",
                      "select r.run_id from unnest($2::jsonb[]) with ordinality as i(input, n) "
                      "cross join lateral pgflow.start_flow(flow_slug => $1, input => i.input) as r "
                      "order by i.n");
        if (conn_.exec("select to_regprocedure('pgflow_cpp.publish_deferred_notifications(integer)') is not null")
                .get(0, 0) == "t") {
            client_.emplace(pgflow::connection_options(conninfo));
            input_json_ = boost::json::parse(input_);
        }
    }
    std::string start() {
        return client_ ? client_->start(slug_, input_json_).str()
                       : std::string(conn_.exec_prepared("start_flow", {slug_, input_}).get(0, 0));
    }
    /// Starts n runs in one call and one transaction; returns their ids.
    std::vector<std::string> start_many(int n) {
        std::vector<std::string> ids;
        if (client_) {
            for (const auto& id : client_->start_many(slug_, std::vector<boost::json::value>(n, input_json_)))
                ids.push_back(id.str());
            return ids;
        }
        std::string inputs = "{";
        for (int i = 0; i < n; ++i) {
            if (i) inputs += ',';
            inputs += '"';
            for (char ch : input_) {
                if (ch == '"' || ch == '\\') inputs += '\\';
                inputs += ch;
            }
            inputs += '"';
        }
        inputs += '}';
        auto r = conn_.exec_prepared("start_flows", {slug_, inputs});
        for (int i = 0; i < r.rows(); ++i) ids.emplace_back(r.get(i, 0));
        return ids;
    }

private:
    connection& conn_;
    std::optional<pgflow::client> client_;
    std::string slug_, input_;
    boost::json::value input_json_;
};

/// One client starting runs: keeps `target` runs of the shape in flight on its own connection,
/// polling every 5 ms which of them finished. Several run at once, so that starting runs (one
/// start_flow transaction each, like independent clients) never limits what the workers can do.
class run_starter {
public:
    run_starter(const std::string& conninfo, const shape& s, int target, counters& c)
        : conn_(conninfo), launcher_(conninfo, conn_, s), target_(target), batch_(s.start_batch), c_(c) {
        conn_.prepare("finished",
                      "select run_id::text, status from pgflow.runs "
                      "where run_id = any($1::uuid[]) and status <> 'started'");
    }

    void run(const std::atomic<bool>& stop) {
        tid_ = static_cast<int>(::gettid());
        try {
            std::set<std::string> in_flight;
            while (!stop && !c_.stop) {
                if (batch_ > 1) {
                    while (static_cast<int>(in_flight.size()) + batch_ <= target_)
                        for (auto& id : launcher_.start_many(batch_)) in_flight.insert(std::move(id));
                } else {
                    while (static_cast<int>(in_flight.size()) < target_) in_flight.insert(launcher_.start());
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                std::string ids = "{";
                for (const auto& id : in_flight) ids += (ids.size() > 1 ? "," : "") + id;
                ids += "}";
                auto done = conn_.exec_prepared("finished", {ids});
                for (int i = 0; i < done.rows(); ++i) {
                    in_flight.erase(std::string(done.get(i, 0)));
                    if (done.get(i, 1) == "failed") ++failed_;
                }
            }
        } catch (const std::exception& e) {
            if (!stop && !c_.stop) c_.fail(std::string("starting runs: ") + e.what());
        }
    }

    [[nodiscard]] int tid() const { return tid_; }
    [[nodiscard]] long long failed() const { return failed_; }

private:
    connection conn_;
    run_launcher launcher_;
    int target_;
    int batch_;
    counters& c_;
    std::atomic<int> tid_{0};
    std::atomic<long long> failed_{0};
};

}  // namespace pgflow_bench
