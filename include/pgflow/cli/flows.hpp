#pragma once
// The flows the command line knows (what pgflow::cli::main is given): their slugs, registration
// text, child flows and input checks.

#include <pgflow/detail/type_name.hpp>
#include <pgflow/dynamic_flow.hpp>
#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/json_traits.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/shape.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <concepts>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pgflow::detail::cli {

/// A command line mistake (exit status 2).
class usage_error : public error {
public:
    using error::error;
};

/// A JSON-ish name of a C++ input type for messages ("array of strings"): the compiler's spelling
/// of a standard container is unreadable. Structs keep their C++ name (examples::Order).
template <class T>
std::string readable_type_name(bool plural = false) {
    auto noun = [plural](std::string singular) { return plural ? singular + "s" : singular; };
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, boost::json::string>) {
        return noun("string");
    } else if constexpr (std::is_same_v<T, bool>) {
        return noun("boolean");
    } else if constexpr (json_integer<T>) {
        return noun("integer");
    } else if constexpr (std::is_floating_point_v<T>) {
        return noun("number");
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        return plural ? "JSON values" : "any JSON";
    } else if constexpr (std::is_same_v<T, boost::json::object>) {
        return noun("object");
    } else if constexpr (std::is_same_v<T, boost::json::array>) {
        return noun("array");
    } else if constexpr (is_optional<T>::value) {
        return readable_type_name<typename T::value_type>(plural) + " or null";
    } else if constexpr (is_std_array<T>::value || sequence_shaped<T>) {
        return (plural ? "arrays of " : "array of ") + readable_type_name<typename T::value_type>(true);
    } else if constexpr (map_shaped<T>) {
        return (plural ? "objects of " : "object of ") + readable_type_name<typename T::mapped_type>(true);
    } else {
        return std::string(type_name<T>()) + (plural ? " values" : "");
    }
}

/// A flow the command line knows: what `compile` prints and how `start` checks an input.
struct known_flow {
    std::string slug;
    std::string input_type;  ///< readable name of the run input's type, for messages
    std::function<std::string()> registration_sql;
    std::function<void(const boost::json::value&)> check_input;  ///< throws json_decode_error; may be empty
    flow_shape shape;                                            ///< what its registration must match for `start`

    /// The child flows of its subflow steps, each once: registered before it.
    [[nodiscard]] std::vector<std::string> child_flows() const {
        std::vector<std::string> children;
        for (const auto& s : shape.steps)
            if (s.kind == step_kind::subflow &&
                std::find(children.begin(), children.end(), s.child_flow) == children.end())
                children.push_back(s.child_flow);
        return children;
    }
};

template <class F>
known_flow describe_flow(const F& f) {
    if constexpr (flow_type<F>) {
        using input = typename F::input_type;
        return {std::string(F::slug), readable_type_name<input>(),
                [&f] { return std::string(pgflow::registration_sql(f)); },
                [](const boost::json::value& v) { static_cast<void>(pgflow::from_json<input>(v)); },
                pgflow::shape_of(f)};
    } else {
        static_assert(
            requires {
                { shape_of(f) } -> std::convertible_to<flow_shape>;
            }, "pgflow::cli::main takes compiled flows (pgflow::flow<...>) and pgflow::dynamic_flow objects");
        flow_shape shape = shape_of(f);
        std::string slug = shape.slug;
        return {std::move(slug), "JSON", [shape] { return pgflow::registration_sql(shape); }, {}, shape};
    }
}

/// Appends to `order` the flows of `flows` that registering `slug` needs, each once, every child
/// flow before the flows that run it, `slug` last; a flow the list lacks is left out. `entered`
/// holds the flows already visited, which also stops a cycle (refused at registration anyway).
inline void append_children_first(const std::vector<known_flow>& flows, const std::string& slug,
                                  std::vector<std::string>& entered, std::vector<const known_flow*>& order) {
    const auto it = std::find_if(flows.begin(), flows.end(), [&](const known_flow& f) { return f.slug == slug; });
    if (it == flows.end() || std::find(entered.begin(), entered.end(), slug) != entered.end()) return;
    entered.push_back(slug);
    for (const auto& child : it->child_flows()) append_children_first(flows, child, entered, order);
    order.push_back(&*it);
}

/// The flows with every child flow before the flows that run it (registration order: a subflow
/// step's child must be registered first), otherwise in the order given.
inline std::vector<known_flow> children_first(const std::vector<known_flow>& flows) {
    std::vector<std::string> entered;
    std::vector<const known_flow*> order;
    for (const auto& f : flows) append_children_first(flows, f.slug, entered, order);
    std::vector<known_flow> ordered;
    for (const auto* f : order) ordered.push_back(*f);
    return ordered;
}

/// Checks a run input against the flow's input type when the program knows the flow (`start`,
/// `schedule add`): a mismatch is a usage error with its JSON path.
inline void check_input(const known_flow* known, const std::string& flow_slug, const boost::json::value& input) {
    if (known == nullptr || !known->check_input) return;
    try {
        known->check_input(input);
    } catch (const json_decode_error& e) {
        throw usage_error("pgflow: the input does not fit flow \"" + flow_slug + "\" (input type " + known->input_type +
                          "): " + e.what());
    }
}

}  // namespace pgflow::detail::cli
