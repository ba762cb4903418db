#pragma once
// pgflow::make_dispatcher(f) — step slug → typed thunk, built at compile time.
//
//   auto dispatch = pgflow::make_dispatcher(order_processing);
//   boost::json::value output = dispatch("charge", task_input, context);
//
// A thunk decodes the task input (docs/registration.md: `{"run": ..., "<dependency>": ...}` for a step, the
// bare element for a map task), calls the handler (flow input first, then the dependencies'
// outputs in after<...> order, then the task_context if it takes one) and encodes its result.
// A dependency that pgflow 0.14 skipped is absent from the input: a std::optional parameter gets
// std::nullopt for it, a plain one fails the task (permanent_error naming step and dependency).
// Lookup is the flow's constexpr hash index of its slugs (compile/graph.hpp); no virtual call, no
// allocation besides JSON.
// A sleep step's thunk runs its function and throws pgflow::sleep_request (waits.hpp: the worker's
// hook); a signal or subflow step's fails the task (they have no queue message, so no worker gets one).

#include <pgflow/compile/callable.hpp>
#include <pgflow/compile/graph.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/task_context.hpp>
#include <pgflow/waits.hpp>

#include <boost/json/value.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgflow {

namespace detail {

/// Where a task input is being decoded, for messages.
struct task_site {
    std::string_view flow;
    std::string_view step;
    bool map_task;
    const task_context& context;
};

[[noreturn]] inline void rethrow_task_input_error(const json_decode_error& e, const task_site& site) {
    const std::string task =
        site.map_task ? concat({" (map task ", std::to_string(site.context.task_index), ")"}) : std::string();
    std::string message = concat({"pgflow: flow \"", site.flow, "\", step \"", site.step, "\"", task,
                                  ": cannot decode the task input ", e.what()});
    throw json_decode_error(std::move(message), e.path());
}

/// One handler argument decoded from `v` at `path`; a mismatch names the flow and the step.
/// Templated on the type only, so steps that take the same types share it.
template <class T>
T decode_argument(const boost::json::value& v, const json_path& path, const task_site& site) {
    try {
        return json_codec<T>::decode(v, path);
    } catch (const json_decode_error& e) {
        rethrow_task_input_error(e, site);
    }
}

[[noreturn]] inline void fail_missing_member(const json_path& path, std::string_view key, std::string_view what,
                                             const task_site& site) {
    try {
        path.fail(concat({"missing member \"", key, "\" (", what, ")"}));
    } catch (const json_decode_error& e) {
        rethrow_task_input_error(e, site);
    }
}

template <class T>
T decode_member(const boost::json::object& input, std::string_view key, std::string_view what, const json_path& root,
                const task_site& site) {
    const json_path path = root.member(key);
    const boost::json::value* v = input.if_contains(key);
    if (v == nullptr) fail_missing_member(path, key, what, site);
    return decode_argument<T>(*v, path, site);
}

/// pgflow 0.14 leaves a skipped dependency out of the task input. Retrying cannot bring it back,
/// hence a permanent_error: the task fails at once.
[[noreturn]] inline void fail_skipped_dependency(std::string_view dependency, const task_site& site) {
    constexpr std::string_view why =
        "\" was skipped (pgflow 0.14 conditions leave a skipped step's output out of the task input), but the "
        "handler takes it as a plain value; take it as std::optional to run without it";
    throw permanent_error(
        concat({"pgflow: flow \"", site.flow, "\", step \"", site.step, "\": its dependency \"", dependency, why}));
}

/// A dependency's output: std::nullopt for an optional parameter when the dependency was skipped.
template <class T>
T decode_dependency(const boost::json::object& input, std::string_view dependency, const json_path& root,
                    const task_site& site) {
    const boost::json::value* v = input.if_contains(dependency);
    if (v == nullptr) {
        if constexpr (is_optional<T>::value)
            return T{};
        else
            fail_skipped_dependency(dependency, site);
    }
    return decode_argument<T>(*v, root.member(dependency), site);
}

/// The parameters a handler declares, without a trailing task_context; none for a generic or
/// overloaded handler, which has no parameter list to read (compile/callable.hpp).
template <class Handler>
struct declared_parameters {
    using type = type_list<>;
};
template <class Handler>
    requires callable_signature<Handler>::known
struct declared_parameters<Handler> {
    using type = typename without_trailing_context<typename callable_signature<Handler>::parameters>::type;
};

/// What a handler declaring Parameters is given for dependencies of output types Outputs...:
/// std::optional<T> where its parameter is a std::optional and T is not (a skipped dependency is then
/// passed as std::nullopt), else T. Pairs the two lists in one expansion: a lookup of the parameter per
/// dependency was quadratic in a fan-in's parameters (0.3 s with g++ 12, 0.45 s with clang 16 for 499).
template <class Parameters, class... Outputs>
struct decoded_dependencies {
    using type = type_list<Outputs...>;  // parameters unknown (or not one per dependency): as they are
};
template <class Run, class... Ps, class... Outputs>
    requires(sizeof...(Ps) == sizeof...(Outputs))
struct decoded_dependencies<type_list<Run, Ps...>, Outputs...> {
    using type =
        type_list<std::conditional_t<!is_optional<Outputs>::value && is_optional<std::remove_cvref_t<Ps>>::value,
                                     std::optional<Outputs>, Outputs>...>;
};

/// The types a step's task input decodes its dependencies into, for a handler called with Arguments
/// (the flow input, then one per dependency: step_analysis::arguments).
template <class Handler, class Arguments>
struct decoded_dependencies_of;
template <class Handler, class First, class... Rest>
struct decoded_dependencies_of<Handler, type_list<First, Rest...>>
    : decoded_dependencies<typename declared_parameters<Handler>::type, Rest...> {};
template <class Handler, class Arguments>
using decoded_dependencies_t = typename decoded_dependencies_of<Handler, Arguments>::type;

/// A single step's input is `{"run": ..., "<dependency>": ...}`, as start_tasks builds it.
inline const boost::json::object& task_input_object(const boost::json::value& input, const json_path& root,
                                                    const task_site& site) {
    if (const boost::json::object* object = input.if_object()) return *object;
    try {
        fail_expected(root, "an object with the flow input under \"run\"", input);
    } catch (const json_decode_error& e) {
        rethrow_task_input_error(e, site);
    }
}

/// A handler's result as JSON; C strings and string views become strings (see handler_output).
template <class Output, class Result>
boost::json::value encode_result(const Result& result) {
    if constexpr (std::is_same_v<Output, Result>)
        return json_codec<Output>::encode(result);
    else
        return json_codec<Output>::encode(Output(result));
}

/// Decodes a task's input: a map task's element, or a step's flow input (`run`) and then its
/// dependencies' outputs in after<...> order; value I is the handler's parameter I. Templated on
/// the types only, so every step taking the same types shares one.
template <bool MapTask, class First, class... Dependencies, std::size_t... Ks>
indexed_values<std::index_sequence<0, (Ks + 1)...>, First, Dependencies...> decode_task_input(
    const boost::json::value& input, const std::string_view* dependency_slugs, const task_site& site,
    std::index_sequence<Ks...>) {
    const json_path root;
    if constexpr (MapTask) {
        return {{decode_argument<First>(input, root, site)}};
    } else {
        const boost::json::object& object = task_input_object(input, root, site);
        // A braced list decodes in order, so a bad input reports its first bad member.
        return {{decode_member<First>(object, "run", "the flow input", root, site)},
                {decode_dependency<Dependencies>(object, dependency_slugs[Ks], root, site)}...};
    }
}

/// Runs one step: decodes its input, calls its handler, encodes the result. Named after the step and
/// its verdict only (not the whole flow), and reached through `const void*`, so that each thunk is
/// a function with a short symbol name; it is the only function compiled per step (decoding is
/// shared by the steps that take the same types): flows of hundreds of steps stay cheap to compile.
template <class Step, class Verdict, class Arguments = typename Verdict::arguments,
          class Dependencies = std::make_index_sequence<is(Step::type, step_type::map) ? 0 : Step::dependencies::size>,
          class Decoded = decoded_dependencies_t<typename Step::handler_type, Arguments>>
struct task_runner;

template <class Step, class Verdict, class First, class... Rest, std::size_t... Ks, class... Decoded>
struct task_runner<Step, Verdict, type_list<First, Rest...>, std::index_sequence<Ks...>, type_list<Decoded...>> {
    using output = typename Verdict::result;
    using handler_type = typename Step::handler_type;
    /// Whether the handler returns void when called with the decoded values (and Context...). A type,
    /// not a variable template: g++ at -O0 emits every static data member (see flow_traits).
    template <class... Context>
    using returns_void = std::is_void<call_result_t<handler_type, First, Decoded..., Context...>>;

    static boost::json::value run(const void* step, std::string_view flow_slug, const boost::json::value& input,
                                  const task_context& ctx) {
        const handler_type& handler = static_cast<const Step*>(step)->handler;
        constexpr bool map_task = is(Step::type, step_type::map);
        const task_site site{flow_slug, Step::slug, map_task, ctx};
        auto args = decode_task_input<map_task, First, Decoded...>(input, Step::dependencies::slugs.data(), site,
                                                                   std::index_sequence<Ks...>{});
        // The handler's arguments, moved out of args: the flow input (or element), the dependencies.
#define PGFLOW_DETAIL_DECODED_ARGUMENTS \
    static_cast<indexed_value<0, First>&&>(args).value, static_cast<indexed_value<Ks + 1, Decoded>&&>(args).value...
        if constexpr (is(Step::kind, step_kind::sleep)) {  // the worker turns this into pgflow_cpp.sleep_task
            if constexpr (Verdict::uses_context)
                throw sleep_request{wake_time(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx))};
            else
                throw sleep_request{wake_time(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS))};
        } else if constexpr (Verdict::uses_context) {
            if constexpr (returns_void<const task_context&>::value) {
                handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx);
                return nullptr;
            } else {
                return encode_result<output>(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx));
            }
        } else {
            if constexpr (returns_void<>::value) {
                handler(PGFLOW_DETAIL_DECODED_ARGUMENTS);
                return nullptr;
            } else {
                return encode_result<output>(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS));
            }
        }
#undef PGFLOW_DETAIL_DECODED_ARGUMENTS
    }
};

template <class Step>
struct handlerless_runner {
    static boost::json::value run(const void*, std::string_view flow_slug, const boost::json::value&,
                                  const task_context&) {
        fail_handlerless_step(flow_slug, Step::slug, Step::kind);
    }
};

/// A step's thunk: decodes a task input, runs the step's handler and encodes its result.
using step_thunk = boost::json::value (*)(const void* step, std::string_view flow_slug, const boost::json::value& input,
                                          const task_context& ctx);

/// A dispatcher's entry: the step (in the flow's storage) and its thunk.
struct dispatch_entry {
    const void* step;
    step_thunk run;
};

/// The runner of a step: its handler's (or sleep function's), or for a signal or subflow step one
/// that refuses. (A type, not a function per step.)
template <class Step, class Verdict>
using step_runner_t = std::conditional_t<is(Step::kind, step_kind::signal) || is(Step::kind, step_kind::subflow),
                                         handlerless_runner<Step>, task_runner<Step, Verdict>>;

/// What a dispatcher does at run time, in a class named by the flow's graph type (its step and
/// edge counts) alone. A member function of dispatcher<Flow> is named after every step of the flow
/// (some 64 kB for 500 steps), and g++ spends about 40 ms at -O0 on each such name it emits.
template <std::size_t N, std::size_t E>
class dispatch_table {
public:
    /// Runs step `step_slug` on a task input as start_tasks builds it and returns the handler's
    /// result as JSON. Throws unknown_step_error for a slug the flow lacks, json_decode_error (naming
    /// flow, step and JSON path) for an input that does not fit the handler, or what the handler throws.
    boost::json::value operator()(std::string_view step_slug, const boost::json::value& input,
                                  const task_context& ctx) const {
        const std::size_t i = graph_->index_of(step_slug);
        if (i == npos) throw_unknown_step(step_slug);
        return entries_[i].run(entries_[i].step, flow_slug_, input, ctx);
    }

protected:
    constexpr dispatch_table(std::string_view flow_slug, const flow_graph<N, E>& graph,
                             const std::array<dispatch_entry, N>& entries) noexcept
        : flow_slug_(flow_slug), graph_(&graph), entries_(entries) {}

private:
    [[noreturn]] void throw_unknown_step(std::string_view step_slug) const {
        std::string message = concat({"pgflow: flow \"", flow_slug_, "\" has no step \"", step_slug, "\" (its steps:"});
        for (const std::size_t i : graph_->order) {  // registration order, as Flow::step_slugs()
            message += ' ';
            message += graph_->slugs[i];
        }
        message += ')';
        throw unknown_step_error(message);
    }

    std::string_view flow_slug_;
    const flow_graph<N, E>* graph_;  ///< the flow's (Flow::traits::facts.graph)
    std::array<dispatch_entry, N> entries_;
};

}  // namespace detail

/// Runs the steps of one flow (operator(): detail::dispatch_table). Refers to the flow's steps, so
/// the flow must outlive it.
template <flow_type Flow>
class dispatcher : public detail::dispatch_table<Flow::step_count, Flow::traits::edge_count> {
public:
    constexpr explicit dispatcher(const Flow& f) noexcept
        : detail::dispatch_table<Flow::step_count, Flow::traits::edge_count>(
              Flow::slug, Flow::traits::facts.graph, entries(f, std::make_index_sequence<Flow::step_count>{})) {}

    [[nodiscard]] static constexpr bool contains(std::string_view step_slug) noexcept {
        return Flow::traits::facts.graph.index_of(step_slug) != detail::npos;
    }
    [[nodiscard]] static constexpr std::string_view flow_slug() noexcept { return Flow::slug; }

private:
    template <std::size_t I>
    using step_at = detail::flow_step_t<typename Flow::traits, I>;

    // In declaration order, the order of the graph's slug index: nothing to sort (sorting a table
    // by slug took 0.2 s of a 500-step flow's compilation with g++ 12).
    template <std::size_t... Is>
    static constexpr std::array<detail::dispatch_entry, Flow::step_count> entries(const Flow& f,
                                                                                  std::index_sequence<Is...>) {
        return {detail::dispatch_entry{
            &static_cast<const detail::indexed_value<Is, step_at<Is>>&>(f.storage()).value,
            &detail::step_runner_t<step_at<Is>,
                                   typename detail::step_analysis<typename Flow::traits, Is>::verdict>::run}...};
    }
};

/// The dispatcher of `f`. `f` must outlive it (flows are usually namespace-scope constants).
template <flow_type Flow>
[[nodiscard]] constexpr dispatcher<Flow> make_dispatcher(const Flow& f) noexcept {
    return dispatcher<Flow>(f);
}
template <flow_type Flow>
void make_dispatcher(const Flow&&) = delete;  // a temporary flow would dangle

/// A flow whose checks failed (already reported); keeps follow-up code from adding errors.
struct invalid_dispatcher {
    boost::json::value operator()(std::string_view, const boost::json::value&, const task_context&) const {
        return nullptr;
    }
    [[nodiscard]] static constexpr bool contains(std::string_view) noexcept { return false; }
    [[nodiscard]] static constexpr std::string_view flow_slug() noexcept { return {}; }
};
constexpr invalid_dispatcher make_dispatcher(const detail::invalid_flow&) noexcept { return {}; }

}  // namespace pgflow
