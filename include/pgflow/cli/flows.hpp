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

template <class F>
known_flow describe_flow(const F& f) {
    if constexpr (flow_type<F>) {
        using input = typename F::input_type;
        return {std::string(F::slug), std::string(type_name<input>()),
                [&f] { return std::string(pgflow::registration_sql(f)); },
                [](const boost::json::value& v) { static_cast<void>(pgflow::from_json<input>(v)); }};
    } else {
        static_assert(
            requires {
                { shape_of(f) } -> std::convertible_to<flow_shape>;
            }, "pgflow::cli::main takes compiled flows (pgflow::flow<...>) and pgflow::dynamic_flow objects");
        flow_shape shape = shape_of(f);
        std::string slug = shape.slug;
        return {std::move(slug), "JSON", [shape = std::move(shape)] { return pgflow::registration_sql(shape); }, {}};
    }
}

}  // namespace pgflow::detail::cli
