#pragma once
// `pgflow dashboard`: serves the web dashboard (<pgflow/dashboard.hpp>) until SIGINT or SIGTERM.

#include <pgflow/cli/context.hpp>
#include <pgflow/cli/exit_status.hpp>
#include <pgflow/dashboard.hpp>
#include <pgflow/error.hpp>
#include <pgflow/signals.hpp>

#include <cstdlib>
#include <ostream>
#include <string>
#include <string_view>

namespace pgflow::detail::cli {

/// What `pgflow dashboard` was given.
struct dashboard_arguments {
    std::string listen = "127.0.0.1:8080";
    std::string token;  ///< empty: PGFLOW_DASHBOARD_TOKEN, if set
    bool allow_actions = false;
};

inline int serve_dashboard(const context& ctx, const dashboard_arguments& args) {
    pgflow::dashboard::options o;
    o.listen = args.listen;
    o.token = args.token;
    if (o.token.empty())
        if (const char* from_environment = std::getenv("PGFLOW_DASHBOARD_TOKEN")) o.token = from_environment;
    o.allow_actions = args.allow_actions;
    o.database = ctx.database.with_application_name("pgflow dashboard");
    try {
        pgflow::dashboard::detail::check_options(o);
    } catch (const error& e) {
        throw usage_error(e.what());
    }
    o.log = [&ctx](std::string_view line) { ctx.err << line << std::endl; };
    o.on_listening = [&](std::string_view url) {
        ctx.out << "pgflow dashboard: " << url << (o.allow_actions ? " (actions enabled)" : " (read-only)")
                << (o.token.empty() ? "" : "; open " + std::string(url) + "?token=<token> once to sign in")
                << "; Ctrl-C stops it" << std::endl;
    };
    pgflow::stop_on_signals signals;
    pgflow::dashboard::serve(o, signals.token());
    return pgflow::cli::success;
}

}  // namespace pgflow::detail::cli
