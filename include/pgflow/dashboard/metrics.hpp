#pragma once
// Stub until dash-observe's renderer replaces it: /metrics in Prometheus text format 0.0.4.

#include <pgflow/pq/connection.hpp>

#include <string>

namespace pgflow::dashboard {

inline void write_metrics(pq::connection&, std::string& out) { out += "# pgflow metrics: not built yet\n"; }

}  // namespace pgflow::dashboard
