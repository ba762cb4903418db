#pragma once
// The flows the command line knows (what pgflow::cli::main is given): their slugs, registration
// text and input checks.

#include <pgflow/detail/type_name.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/shape.hpp>

#include <boost/json.hpp>

#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow::detail::cli {

/// A command line mistake (exit status 2).
class usage_error : public error {
public:
    using error::error;
};

/// A flow the command line knows: what `compile` prints and how `start` checks an input.
struct known_flow {
    std::string slug;
    std::string input_type;  ///< C++ type of the run input, for messages
    std::function<std::string()> registration_sql;
    std::function<void(const boost::json::value&)> check_input;  ///< throws json_decode_error; may be empty
};

/// compileFlow's text for a flow known only by its shape (a dynamic flow): the same statements
/// and argument order, leaving out flow options equal to create_flow's defaults.
inline std::string registration_sql_of(const flow_shape& shape) {
    // Appends only: g++ 12 at -O3 reports a bogus -Wrestrict for "literal" + std::string&&.
    std::string sql;
    auto quoted = [&sql](std::string_view slug) {
        sql += '\'';
        sql += slug;
        sql += '\'';
    };
    auto option = [&sql](std::string_view name, const std::optional<int>& value) {
        if (!value) return;
        sql += ", ";
        sql += name;
        sql += " => ";
        sql += std::to_string(*value);
    };
    auto flow_option = [&](std::string_view name, int value, int default_value) {
        if (value != default_value) option(name, value);
    };
    sql += "SELECT pgflow.create_flow(";
    quoted(shape.slug);
    flow_option("max_attempts", shape.max_attempts, default_max_attempts);
    flow_option("base_delay", shape.base_delay, default_base_delay);
    flow_option("timeout", shape.timeout, default_timeout);
    sql += ");";
    for (const auto& step : shape.steps) {
        sql += "\nSELECT pgflow.add_step(";
        quoted(shape.slug);
        sql += ", ";
        quoted(step.slug);
        if (!step.dependencies.empty()) {
            sql += ", ARRAY[";
            for (std::size_t i = 0; i < step.dependencies.size(); ++i) {
                if (i > 0) sql += ", ";
                quoted(step.dependencies[i]);
            }
            sql += "]";
        }
        option("max_attempts", step.max_attempts);
        option("base_delay", step.base_delay);
        option("timeout", step.timeout);
        option("start_delay", step.start_delay);
        if (step.type == step_type::map) sql += ", step_type => 'map'";
        sql += ");";
    }
    return sql;
}

template <class F>
known_flow describe_flow(const F& f) {
    if constexpr (flow_type<F>) {
        using input = typename F::input_type;
        return {std::string(F::slug), std::string(type_name<input>()),
                [&f] { return std::string(pgflow::registration_sql(f)); },
                [](const boost::json::value& v) { static_cast<void>(pgflow::from_json<input>(v)); }};
    } else {
        static_assert(requires { { shape_of(f) } -> std::convertible_to<flow_shape>; },
                      "pgflow::cli::main takes compiled flows (pgflow::flow<...>) and pgflow::dynamic_flow objects");
        flow_shape shape = shape_of(f);
        std::string slug = shape.slug;
        return {std::move(slug), "JSON", [shape = std::move(shape)] { return registration_sql_of(shape); }, {}};
    }
}

}  // namespace pgflow::detail::cli
