#pragma once
// A finished run's output decoded into the flow's output type, for client::wait: a decode error
// names the flow and the run besides the JSON path, since the output may be read long after the run.

#include <pgflow/error.hpp>
#include <pgflow/json.hpp>
#include <pgflow/run_id.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace pgflow::detail {

template <class Output>
Output decode_run_output(std::string_view flow_slug, const pgflow::run_id& id, boost::json::value output) {
    // pgflow leaves skipped leaves out of the output, and stores no output (null) when every leaf
    // was skipped: the typed output then has all its (optional) leaves unset.
    if (output.is_null()) output = boost::json::object{};
    try {
        return pgflow::from_json<Output>(output);
    } catch (const json_decode_error& e) {
        throw json_decode_error("pgflow: flow \"" + std::string(flow_slug) + "\", run " + id.str() +
                                    ": cannot decode the run's output: " + e.what(),
                                e.path());
    }
}

}  // namespace pgflow::detail
