#pragma once
// What every command of the command line works with: the flows it knows, its output streams, the
// database; and the reading of the arguments every command shares.

#include <pgflow/cli/flows.hpp>
#include <pgflow/connection_options.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/json_parse.hpp>
#include <pgflow/pq/connection.hpp>
#include <pgflow/run_id.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail::cli {

/// psql options for `pgflow compile … | psql`: without them a failing statement leaves the flow
/// registered half-way and psql still exits 0.
inline constexpr std::string_view registration_psql_options = "-v ON_ERROR_STOP=1 --single-transaction";

struct context {
    std::vector<known_flow> flows;
    std::ostream& out;
    std::ostream& err;
    connection_options database{std::string()};

    [[nodiscard]] pq::connection connect() const { return database.connect(); }

    /// The flow with that slug, or nullptr.
    [[nodiscard]] const known_flow* known(std::string_view slug) const {
        const known_flow* found = nullptr;
        for (const auto& f : flows)
            if (f.slug == slug) found = &f;
        return found;
    }

    [[nodiscard]] const known_flow& find_flow(const std::string& name) const {
        for (const auto& f : flows)
            if (f.slug == name) return f;
        throw usage_error("pgflow: unknown flow " + detail::quoted(name) + "; this program knows: " + flow_list());
    }

    /// The known flows `slug` needs registered, children first, ending with `slug` itself.
    [[nodiscard]] std::vector<std::string> registration_order(const std::string& slug) const {
        std::vector<std::string> entered;
        std::vector<const known_flow*> flows_in_order;
        append_children_first(flows, slug, entered, flows_in_order);
        std::vector<std::string> order;
        for (const auto* f : flows_in_order) order.push_back(f->slug);
        return order;
    }

    /// `start` and `schedule add` of a flow the database lacks: a usage error (an unknown flow, as
    /// --help says), with one hint for both: how to register it (children first).
    [[nodiscard]] usage_error not_registered(const std::string& slug) const {
        std::string message = "pgflow: flow " + detail::quoted(slug) +
                              " is not registered in this database; register it first, e.g. by starting its worker";
        const auto order = registration_order(slug);
        if (order.empty()) return usage_error(message);
        message += " or with";
        for (std::size_t i = 0; i < order.size(); ++i)
            message += std::string(i == 0 ? " `" : " then `") + "pgflow compile " + order[i] + " | psql " +
                       std::string(registration_psql_options) + "`";
        return usage_error(message);
    }

    [[nodiscard]] std::string flow_list() const {
        if (flows.empty()) return "(none)";
        std::string list;
        for (const auto& f : flows) list += (list.empty() ? "" : ", ") + f.slug;
        return list;
    }
};

// The library's reading (depth limit, exact numbers) with the command line's exit status.
// `what` names the value in the error ("the input", "the signal value").
inline boost::json::value parse_input(std::string_view text, const std::string& what = "the input") {
    try {
        return pgflow::parse_json(text, what);
    } catch (const json_parse_error& e) {
        if (!e.path().empty()) throw usage_error("pgflow: " + what + " cannot be stored exactly: " + e.problem());
        throw usage_error("pgflow: " + what + " is not valid JSON: " + e.problem());
    }
}

inline run_id parse_run_id(const std::string& text) {
    try {
        return run_id{text};
    } catch (const invalid_argument_error&) {
        throw usage_error("pgflow: " + detail::quoted(text) + " is not a run id (a UUID: 8-4-4-4-12 hex digits)");
    }
}

}  // namespace pgflow::detail::cli
