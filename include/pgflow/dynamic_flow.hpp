#pragma once
// pgflow::dynamic_flow — a flow assembled at run time (from configuration, an LLM's plan, …) with
// JSON-in/JSON-out handlers registered by step slug. It registers through the same
// create_flow/add_step calls as a compiled flow and runs on the same pgflow::worker.
//
//   pgflow::dynamic_flow f{"summarize_pages"};
//   f.step("fetch", [](const boost::json::value& in) { return fetch(in.at("run")); })
//    .map("summaries", "fetch", [](const boost::json::value& page) { return summarize(page); })
//    .step("report", {"summaries"}, [](const boost::json::value& in) { return join(in); });
//
// A step may carry pgflow 0.14's conditions (pgflow/step_conditions.hpp) after its options.
//
// Steps without handlers (waits.hpp, wait_steps.hpp), by data:
//   f.signal("approval", {"draft"}, value_shape, pgflow::signal_options{.timeout = 3600})
//       value_shape: a JSON object in pgflow_cpp.json_matches_shape's terms, or null for any JSON;
//       f.signal_map("approvals", {"items"}, value_shape) waits for one signal per element;
//   f.sleep("cool_off", {"ship"}, [](const boost::json::value& in) { return std::chrono::hours(24); })
//       a time_point or a duration from now, computed from the task input;
//   f.subflow("charge", {"order"}, "charge_flow") / f.subflow_map("charges", {"orders"}, "charge_flow")
//       the child flow by slug, registered before this one.

#include <pgflow/checks.hpp>
#include <pgflow/compile/graph.hpp>
#include <pgflow/compile/step_rules.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/slug.hpp>
#include <pgflow/step_conditions.hpp>
#include <pgflow/task_context.hpp>
#include <pgflow/waits.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pgflow {

/// A dynamic step's handler: the task input (`{"run": …, "<dep>": …}` for a single step, one
/// element for a map step; a skipped dependency has no key) to the step's output.
using json_handler = std::function<boost::json::value(const boost::json::value& input, const task_context&)>;

/// A dynamic sleep step's function: the task input to when it wakes.
using deadline_function =
    std::function<std::chrono::system_clock::time_point(const boost::json::value& input, const task_context&)>;

/// Everything about one step, for callers that build steps from data. A step without a handler
/// (kind signal, sleep or subflow) has none: add() gives it the one the worker's dispatch needs.
struct dynamic_step {
    std::string slug;
    step_type type = step_type::single;
    std::vector<std::string> dependencies;
    json_handler handler;
    step_options options;
    step_conditions conditions{};
    step_kind kind = step_kind::handler;
    std::optional<int> signal_timeout{};  ///< signal: seconds it waits, unset: forever
    boost::json::value value_shape{};     ///< signal: what its value must look like, null: any JSON
    deadline_function deadline{};         ///< sleep: when it wakes
    std::string child_flow{};             ///< subflow: the child flow's slug
};

namespace detail {

template <class H>
json_handler make_json_handler(H&& h) {
    using F = std::decay_t<H>;
    if constexpr (std::is_invocable_r_v<boost::json::value, const F&, const boost::json::value&, const task_context&>) {
        return json_handler(std::forward<H>(h));
    } else {
        static_assert(std::is_invocable_r_v<boost::json::value, const F&, const boost::json::value&>,
                      "a dynamic step handler takes (const boost::json::value& input) or "
                      "(const boost::json::value& input, const pgflow::task_context&) and returns a value "
                      "convertible to boost::json::value");
        return [f = F(std::forward<H>(h))](const boost::json::value& input, const task_context&) -> boost::json::value {
            return f(input);
        };
    }
}

template <class D>
deadline_function make_deadline_function(D&& d) {
    using F = std::decay_t<D>;
    if constexpr (std::is_invocable_v<const F&, const boost::json::value&, const task_context&>) {
        static_assert(sleep_deadline<std::invoke_result_t<const F&, const boost::json::value&, const task_context&>>,
                      "a dynamic sleep step's function returns a std::chrono::system_clock::time_point or a duration");
        return [f = F(std::forward<D>(d))](const boost::json::value& input, const task_context& context) {
            return wake_time(f(input, context));
        };
    } else {
        static_assert(std::is_invocable_v<const F&, const boost::json::value&>,
                      "a dynamic sleep step's function takes (const boost::json::value& input) or "
                      "(const boost::json::value& input, const pgflow::task_context&)");
        static_assert(sleep_deadline<std::invoke_result_t<const F&, const boost::json::value&>>,
                      "a dynamic sleep step's function returns a std::chrono::system_clock::time_point or a duration");
        return [f = F(std::forward<D>(d))](const boost::json::value& input, const task_context&) {
            return wake_time(f(input));
        };
    }
}

/// The checks of a step without a handler, and the handler its dispatch runs: a sleep's throws
/// sleep_request (the worker's hook), a signal's or subflow's refuses (no worker gets their tasks).
inline void prepare_handlerless_step(std::string_view flow, dynamic_step& s) {
    const auto refuse = [&](std::string_view problem) { throw flow_definition_error(flow, s.slug, problem); };
    if (s.handler) refuse("a signal, sleep or subflow step has no handler");
    if (s.kind == step_kind::signal) {
        if (!s.value_shape.is_null() && !s.value_shape.is_object())
            refuse("a signal's value shape is a JSON object (or null for any JSON)");
        if (s.signal_timeout && *s.signal_timeout <= 0)
            refuse(concat({"signal timeout must be > 0, got ", std::to_string(*s.signal_timeout)}));
        s.handler = [kind = s.kind](const boost::json::value&, const task_context& c) -> boost::json::value {
            fail_handlerless_step(c.flow_slug, c.step_slug, kind);
        };
    } else if (s.kind == step_kind::sleep) {
        if (!s.deadline) refuse("a sleep step needs a function that says when it wakes");
        if (s.type == step_type::map) refuse("a sleep step is a single step, not a map");
        s.handler = [d = s.deadline](const boost::json::value& input, const task_context& c) -> boost::json::value {
            throw sleep_request{d(input, c)};
        };
    } else {
        if (const std::string_view problem = pgflow::flow_slug_problem(s.child_flow); !problem.empty())
            refuse(concat({"its child flow: ", problem}));
        if (s.type == step_type::single && s.dependencies.size() > 1)
            refuse(
                "a subflow step has at most one dependency: its child run's input is the flow input (no "
                "dependency) or that dependency's output");
        s.handler = [kind = s.kind](const boost::json::value&, const task_context& c) -> boost::json::value {
            fail_handlerless_step(c.flow_slug, c.step_slug, kind);
        };
    }
}

}  // namespace detail

class dynamic_flow {
public:
    using input_type = boost::json::value;
    using output_type = boost::json::value;

    /// Throws definition_error for a slug pgflow would reject (pgflow::flow_slug_problem) or options out
    /// of range, with the words of the compiled flows' checks.
    explicit dynamic_flow(std::string slug, flow_options options = {}) : slug_(std::move(slug)) {
        if (const std::string_view problem = flow_slug_problem(slug_); !problem.empty())
            throw detail::flow_definition_error(slug_, {}, problem);
        detail::check_flow_options(slug_, options);
        options_ = options;
        handlers_ = std::make_shared<std::map<std::string, json_handler, std::less<>>>();
    }

    /// A single step. `dependencies` name steps of this flow (they may be added later; unknown
    /// ones are reported by shape()).
    template <class H>
    dynamic_flow& step(std::string slug, std::vector<std::string> dependencies, H&& handler, step_options options = {},
                       step_conditions conditions = {}) {
        return add({std::move(slug), step_type::single, std::move(dependencies),
                    detail::make_json_handler(std::forward<H>(handler)), options, std::move(conditions)});
    }
    template <class H>
    dynamic_flow& step(std::string slug, std::vector<std::string> dependencies, H&& handler,
                       step_conditions conditions) {
        return step(std::move(slug), std::move(dependencies), std::forward<H>(handler), {}, std::move(conditions));
    }

    /// A root single step (input `{"run": <flow input>}`).
    template <class H>
        requires(!std::is_convertible_v<H, std::vector<std::string>>)
    dynamic_flow& step(std::string slug, H&& handler, step_options options = {}, step_conditions conditions = {}) {
        return step(std::move(slug), {}, std::forward<H>(handler), options, std::move(conditions));
    }
    template <class H>
        requires(!std::is_convertible_v<H, std::vector<std::string>>)
    dynamic_flow& step(std::string slug, H&& handler, step_conditions conditions) {
        return step(std::move(slug), {}, std::forward<H>(handler), {}, std::move(conditions));
    }

    /// A root map over the flow input, which must then be a JSON array. It may not have a
    /// condition (no object pattern matches an array), only when_exhausted.
    template <class H>
        requires(!std::is_convertible_v<H, std::string>)
    dynamic_flow& map(std::string slug, H&& handler, step_options options = {}, step_conditions conditions = {}) {
        return add({std::move(slug),
                    step_type::map,
                    {},
                    detail::make_json_handler(std::forward<H>(handler)),
                    options,
                    std::move(conditions)});
    }
    template <class H>
        requires(!std::is_convertible_v<H, std::string>)
    dynamic_flow& map(std::string slug, H&& handler, step_conditions conditions) {
        return map(std::move(slug), std::forward<H>(handler), {}, std::move(conditions));
    }

    /// A map over the array output of `array_dependency`.
    template <class H>
    dynamic_flow& map(std::string slug, std::string array_dependency, H&& handler, step_options options = {},
                      step_conditions conditions = {}) {
        return add({std::move(slug),
                    step_type::map,
                    {std::move(array_dependency)},
                    detail::make_json_handler(std::forward<H>(handler)),
                    options,
                    std::move(conditions)});
    }
    template <class H>
    dynamic_flow& map(std::string slug, std::string array_dependency, H&& handler, step_conditions conditions) {
        return map(std::move(slug), std::move(array_dependency), std::forward<H>(handler), {}, std::move(conditions));
    }

    /// A signal step: completed by pgflow_cpp.signal / client.signal with a value of `value_shape`
    /// (null: any JSON), which is its output.
    dynamic_flow& signal(std::string slug, std::vector<std::string> dependencies,
                         boost::json::value value_shape = nullptr, signal_options options = {},
                         step_conditions conditions = {}) {
        return add_signal(step_type::single, std::move(slug), std::move(dependencies), std::move(value_shape), options,
                          std::move(conditions));
    }

    /// One signal per element of the array it maps over (the flow input without a dependency).
    dynamic_flow& signal_map(std::string slug, std::vector<std::string> dependencies,
                             boost::json::value value_shape = nullptr, signal_options options = {},
                             step_conditions conditions = {}) {
        return add_signal(step_type::map, std::move(slug), std::move(dependencies), std::move(value_shape), options,
                          std::move(conditions));
    }

    /// A sleep step: wakes at the time `deadline(task input[, context])` returns (a system_clock
    /// time_point, or a duration from now); its output is that time as an ISO-8601 string.
    template <class D>
    dynamic_flow& sleep(std::string slug, std::vector<std::string> dependencies, D&& deadline,
                        step_options options = {}, step_conditions conditions = {}) {
        dynamic_step s{std::move(slug), step_type::single, std::move(dependencies), {}, options, std::move(conditions)};
        s.kind = step_kind::sleep;
        s.deadline = detail::make_deadline_function(std::forward<D>(deadline));
        return add(std::move(s));
    }

    /// A subflow step: a run of flow `child_flow` (registered first) with the flow input (no
    /// dependency) or its dependency's output; its output is the child run's.
    dynamic_flow& subflow(std::string slug, std::vector<std::string> dependencies, std::string child_flow,
                          step_options options = {}, step_conditions conditions = {}) {
        dynamic_step s{std::move(slug), step_type::single, std::move(dependencies), {}, options, std::move(conditions)};
        s.kind = step_kind::subflow;
        s.child_flow = std::move(child_flow);
        return add(std::move(s));
    }
    /// One child run per element of the array it maps over (the flow input without a dependency).
    dynamic_flow& subflow_map(std::string slug, std::vector<std::string> dependencies, std::string child_flow,
                              step_options options = {}, step_conditions conditions = {}) {
        dynamic_step s{std::move(slug), step_type::map, std::move(dependencies), {}, options, std::move(conditions)};
        s.kind = step_kind::subflow;
        s.child_flow = std::move(child_flow);
        return add(std::move(s));
    }

    /// Adds a step described by data. Throws definition_error for an invalid or duplicate slug, a map
    /// with more than one dependency, a step depending on itself or listing a dependency twice, a
    /// missing handler, options out of range or conditions that cannot work
    /// (detail::check_step_conditions).
    dynamic_flow& add(dynamic_step s) {
        if (const std::string_view problem = slug_problem(s.slug); !problem.empty())
            throw detail::flow_definition_error(slug_, s.slug, problem);
        if (handlers_->contains(s.slug))
            throw detail::flow_definition_error(slug_, s.slug, PGFLOW_DETAIL_DUPLICATE_STEP);
        if (s.kind != step_kind::handler)
            detail::prepare_handlerless_step(slug_, s);
        else if (!s.handler)
            throw detail::flow_definition_error(slug_, s.slug, "the step has no handler");
        if (const auto check = detail::check_step_declaration(s.slug, s.type, s.dependencies);
            check.verdict != detail::declaration_verdict::valid)
            throw detail::flow_definition_error(slug_, s.slug, declaration_problem(check, s.dependencies));
        detail::check_step_options(slug_, s.slug, s.options);
        detail::check_step_conditions(slug_, s.slug, s.type, s.dependencies, s.conditions);
        if (handlers_.use_count() > 1)  // copies (a worker's dispatcher) keep the handlers they had
            handlers_ = std::make_shared<std::map<std::string, json_handler, std::less<>>>(*handlers_);
        handlers_->emplace(s.slug, s.handler);
        steps_.push_back(std::move(s));
        return *this;
    }

    [[nodiscard]] const std::string& slug() const noexcept { return slug_; }

    /// The flow's flow control (docs/flow_control.md), replacing any given before; checked, naming
    /// the rule broken, when the shape is built (steps may be added after it).
    dynamic_flow& limits(flow_limits_shape limits) {
        limits_ = std::move(limits);
        return *this;
    }

    /// The flow's shape with steps in a dependencies-first order (declaration order where the
    /// dependencies allow), by the compiled flows' graph analysis. Throws definition_error for an
    /// unknown dependency or a cycle (naming the steps on it).
    [[nodiscard]] flow_shape shape() const {
        const detail::dynamic_graph g = graph();
        if (g.duplicate != detail::npos)  // add() refuses duplicates; kept for completeness
            throw detail::flow_definition_error(slug_, g.slugs[g.duplicate], PGFLOW_DETAIL_DUPLICATE_STEP);
        if (g.undeclared_step != detail::npos) {
            const dynamic_step& s = steps_[g.undeclared_step];
            throw detail::flow_definition_error(
                slug_, s.slug,
                detail::concat(
                    {PGFLOW_DETAIL_UNDECLARED_DEPENDENCY ": ", detail::quoted(s.dependencies[g.undeclared_position])}));
        }
        if (g.cycle_length != 0) {
            std::string cycle;
            for (std::size_t k = 0; k < g.cycle_length; ++k) cycle += detail::concat({g.slugs[g.cycle[k]], " -> "});
            cycle += g.slugs[g.cycle[0]];
            throw detail::flow_definition_error(slug_, {},
                                                detail::concat({PGFLOW_DETAIL_DEPENDENCY_CYCLE ": ", cycle}));
        }
        flow_shape shape;
        shape.slug = slug_;
        shape.max_attempts = options_.max_attempts.value_or(default_max_attempts);
        shape.base_delay = options_.base_delay.value_or(default_base_delay);
        shape.timeout = options_.timeout.value_or(default_timeout);
        shape.stated_options = options_;
        shape.input_type = "boost::json::value";
        shape.limits = limits_;
        if (const auto broken = detail::find_limits_problem(limits_, g.slugs); !broken.problem.empty())
            throw detail::flow_definition_error(slug_, broken.step, broken.problem);
        for (const std::size_t i : g.order) {
            const dynamic_step& s = steps_[i];
            step_shape step{.slug = s.slug,
                            .type = s.type,
                            .dependencies = s.dependencies,
                            .max_attempts = s.options.max_attempts,
                            .base_delay = s.options.base_delay,
                            .timeout = s.options.timeout,
                            .start_delay = s.options.start_delay,
                            .input_type = "boost::json::value",
                            .output_type = "boost::json::value"};
            detail::apply_conditions(step, s.conditions);
            step.kind = s.kind;
            step.signal_timeout = s.signal_timeout;
            if (!s.value_shape.is_null()) step.value_shape = boost::json::serialize(s.value_shape);
            step.child_flow = s.child_flow;
            shape.steps.push_back(std::move(step));
        }
        return shape;
    }

    /// Runs the handler of `step_slug`: the dispatcher the worker calls. Throws
    /// unknown_step_error for a slug the flow does not have.
    boost::json::value operator()(std::string_view step_slug, const boost::json::value& input,
                                  const task_context& context) const {
        auto it = handlers_->find(step_slug);
        if (it == handlers_->end())
            throw unknown_step_error("pgflow: dynamic flow \"" + slug_ + "\" has no step " + detail::quoted(step_slug));
        return it->second(input, context);
    }

    [[nodiscard]] const std::vector<dynamic_step>& steps() const noexcept { return steps_; }

private:
    // signal() and signal_map(): a signal step's retries and back-off are the options' own; its
    // timeout ends the wait (not a handler's run), so it is kept apart from step_options::timeout.
    dynamic_flow& add_signal(step_type type, std::string slug, std::vector<std::string> dependencies,
                             boost::json::value value_shape, const signal_options& options,
                             step_conditions conditions) {
        dynamic_step s{std::move(slug),
                       type,
                       std::move(dependencies),
                       {},
                       step_options{options.max_attempts, options.base_delay, std::nullopt, std::nullopt},
                       std::move(conditions)};
        s.kind = step_kind::signal;
        s.signal_timeout = options.timeout;
        s.value_shape = std::move(value_shape);
        return add(std::move(s));
    }

    [[nodiscard]] detail::dynamic_graph graph() const {
        std::vector<std::string_view> slugs;
        std::vector<std::size_t> begin{0};
        std::vector<std::string_view> dependencies;
        for (const dynamic_step& s : steps_) {
            slugs.emplace_back(s.slug);
            for (const std::string& d : s.dependencies) dependencies.emplace_back(d);
            begin.push_back(dependencies.size());
        }
        return detail::analyze_graph(std::move(slugs), std::move(begin), dependencies);
    }

    static std::string declaration_problem(const detail::declaration_check& check,
                                           const std::vector<std::string>& dependencies) {
        const std::string_view rule = detail::declaration_message(check.verdict);
        if (check.verdict == detail::declaration_verdict::self_dependency) return std::string(rule);
        if (check.verdict == detail::declaration_verdict::dependency_twice)
            return detail::concat({rule, ": ", detail::quoted(dependencies[check.position])});
        std::string listed;
        for (const std::string& d : dependencies)
            listed += detail::concat({listed.empty() ? "" : ", ", detail::quoted(d)});
        return detail::concat({rule, "; it lists ", std::to_string(dependencies.size()), ": ", listed});
    }

    std::string slug_;
    flow_options options_;
    std::vector<dynamic_step> steps_;
    flow_limits_shape limits_;
    // Shared so that copies given to workers are cheap; copied before a change when shared.
    std::shared_ptr<std::map<std::string, json_handler, std::less<>>> handlers_;
};

/// The shape to register or verify (see dynamic_flow::shape()).
inline flow_shape shape_of(const dynamic_flow& f) { return f.shape(); }

/// The worker's dispatcher for a dynamic flow: a copy of the flow, callable by step slug.
inline dynamic_flow make_dispatcher(const dynamic_flow& f) { return f; }

}  // namespace pgflow
