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
// Lookup is a binary search over a constexpr table; no virtual call, no allocation besides JSON.
// A sleep step's thunk runs its function and throws pgflow::sleep_request (waits.hpp: the worker's
// hook); a signal or subflow step's fails the task (they have no queue message, so no worker gets one).

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/task_context.hpp>
#include <pgflow/waits.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
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

/// The parameter types of a handler with one call operator (a lambda, a function object, a
/// function pointer). Generic and overloaded handlers have none to read (`known` is false).
template <class... Parameters>
struct known_parameters {
    static constexpr bool known = true;
    using types = type_list<Parameters...>;
};
template <class F>
struct callable_parameters {
    static constexpr bool known = false;
    using types = type_list<>;
};
template <class R, class... A>
struct callable_parameters<R (*)(A...)> : known_parameters<A...> {};
template <class R, class... A>
struct callable_parameters<R (*)(A...) noexcept> : known_parameters<A...> {};
template <class R, class C, class... A>
struct callable_parameters<R (C::*)(A...) const> : known_parameters<A...> {};
template <class R, class C, class... A>
struct callable_parameters<R (C::*)(A...) const noexcept> : known_parameters<A...> {};
template <class F>
    requires requires { typename std::type_identity<decltype(&F::operator())>::type; }
struct callable_parameters<F> : callable_parameters<decltype(&F::operator())> {};

/// Whether the handler's parameter at `Position` is a std::optional: then a skipped dependency
/// there is passed as std::nullopt.
template <class Handler, std::size_t Position>
constexpr bool parameter_is_optional() {
    using parameters = callable_parameters<Handler>;
    if constexpr (parameters::known && Position < parameters::types::size)
        return is_optional<std::remove_cvref_t<list_at<Position, typename parameters::types>>>::value;
    else
        return false;
}

/// What a dependency of output type T is decoded as for the handler parameter at `Position`.
template <class Handler, std::size_t Position, class T>
using dependency_argument_t =
    std::conditional_t<!is_optional<T>::value && parameter_is_optional<Handler, Position>(), std::optional<T>, T>;

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
          class Dependencies = std::make_index_sequence<Step::type == step_type::map ? 0 : Step::dependencies::size>>
struct task_runner;

template <class Step, class Verdict, class First, class... Rest, std::size_t... Ks>
struct task_runner<Step, Verdict, type_list<First, Rest...>, std::index_sequence<Ks...>> {
    using output = typename Verdict::result;
    using handler_type = typename Step::handler_type;
    /// What the handler takes for dependency K: std::optional when its parameter is one.
    template <std::size_t K, class T>
    using dependency_value = indexed_value<K + 1, dependency_argument_t<handler_type, K + 1, T>>;
    /// Whether the handler returns void when called with the decoded values (and Context...).
    template <class... Context>
    static constexpr bool returns_void = std::is_void_v<
        call_result_t<handler_type, First, dependency_argument_t<handler_type, Ks + 1, Rest>..., Context...>>;

    static boost::json::value run(const void* step, std::string_view flow_slug, const boost::json::value& input,
                                  const task_context& ctx) {
        const handler_type& handler = static_cast<const Step*>(step)->handler;
        const task_site site{flow_slug, Step::slug, Step::type == step_type::map, ctx};
        auto args = decode_task_input<Step::type == step_type::map, First,
                                      dependency_argument_t<handler_type, Ks + 1, Rest>...>(
            input, Step::dependencies::slugs.data(), site, std::index_sequence<Ks...>{});
        // The handler's arguments, moved out of args: the flow input (or element), the dependencies.
#define PGFLOW_DETAIL_DECODED_ARGUMENTS \
    static_cast<indexed_value<0, First>&&>(args).value, static_cast<dependency_value<Ks, Rest>&&>(args).value...
        if constexpr (Step::kind == step_kind::sleep) {  // the worker turns this into pgflow_cpp.sleep_task
            if constexpr (Verdict::uses_context)
                throw sleep_request{wake_time(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx))};
            else
                throw sleep_request{wake_time(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS))};
        } else if constexpr (Verdict::uses_context) {
            if constexpr (returns_void<const task_context&>) {
                handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx);
                return nullptr;
            } else {
                return encode_result<output>(handler(PGFLOW_DETAIL_DECODED_ARGUMENTS, ctx));
            }
        } else {
            if constexpr (returns_void<>) {
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

/// A dispatcher's table row: a step's slug, its declaration index and its runner. Outside the
/// dispatcher, so that sorting and searching the table instantiate std::sort and std::lower_bound
/// once for all flows, with short names (with the row nested in dispatcher<Flow>, each of their
/// names spelled out the whole flow type: tens of kB for a flow of hundreds of steps).
struct dispatch_entry {
    using thunk = boost::json::value (*)(const void*, std::string_view, const boost::json::value&, const task_context&);
    std::string_view slug;
    std::size_t index;  ///< declaration index
    thunk run;
};
struct dispatch_entry_order {
    constexpr bool operator()(const dispatch_entry& a, const dispatch_entry& b) const noexcept {
        return a.slug < b.slug;
    }
    constexpr bool operator()(const dispatch_entry& a, std::string_view b) const noexcept { return a.slug < b; }
};
constexpr void sort_dispatch_entries(dispatch_entry* first, dispatch_entry* last) {
    std::sort(first, last, dispatch_entry_order{});
}
/// The entry for `slug` in [first, last) sorted by slug, or nullptr.
constexpr const dispatch_entry* find_dispatch_entry(const dispatch_entry* first, const dispatch_entry* last,
                                                    std::string_view slug) noexcept {
    const dispatch_entry* it = std::lower_bound(first, last, slug, dispatch_entry_order{});
    return it != last && it->slug == slug ? it : nullptr;
}

/// The thunk of a step: its handler's (or sleep function's) runner, or for a signal or subflow
/// step one that refuses.
template <class Step, class Verdict>
constexpr auto runner_of() {
    if constexpr (Step::kind == step_kind::signal || Step::kind == step_kind::subflow)
        return &handlerless_runner<Step>::run;
    else
        return &task_runner<Step, Verdict>::run;
}

}  // namespace detail

/// Runs the steps of one flow. Refers to the flow's steps, so the flow must outlive it.
template <flow_type Flow>
class dispatcher {
public:
    constexpr explicit dispatcher(const Flow& f) noexcept
        : steps_(step_addresses(f, std::make_index_sequence<Flow::step_count>{})) {}

    /// Runs step `step_slug` on a task input as start_tasks builds it and returns the handler's
    /// result as JSON. Throws unknown_step_error for a slug the flow lacks, json_decode_error (naming
    /// flow, step and JSON path) for an input that does not fit the handler, or what the handler throws.
    boost::json::value operator()(std::string_view step_slug, const boost::json::value& input,
                                  const task_context& ctx) const {
        const detail::dispatch_entry* e = find(step_slug);
        if (e == nullptr) throw_unknown_step(step_slug);
        return e->run(steps_[e->index], Flow::slug, input, ctx);
    }

    [[nodiscard]] static constexpr bool contains(std::string_view step_slug) noexcept {
        return find(step_slug) != nullptr;
    }
    [[nodiscard]] static constexpr std::string_view flow_slug() noexcept { return Flow::slug; }

private:
    template <std::size_t I>
    using step_at = detail::flow_step_t<typename Flow::traits, I>;

    template <std::size_t... Is>
    static constexpr std::array<const void*, Flow::step_count> step_addresses(const Flow& f,
                                                                              std::index_sequence<Is...>) {
        return {&static_cast<const detail::indexed_value<Is, step_at<Is>>&>(f.storage()).value...};
    }

    template <std::size_t... Is>
    static constexpr std::array<detail::dispatch_entry, Flow::step_count> make_table(std::index_sequence<Is...>) {
        std::array<detail::dispatch_entry, Flow::step_count> t{detail::dispatch_entry{
            step_at<Is>::slug, Is,
            detail::runner_of<step_at<Is>, typename detail::step_analysis<typename Flow::traits, Is>::verdict>()}...};
        detail::sort_dispatch_entries(t.data(), t.data() + t.size());
        return t;
    }
    static constexpr std::array<detail::dispatch_entry, Flow::step_count> table =
        make_table(std::make_index_sequence<Flow::step_count>{});

    static constexpr const detail::dispatch_entry* find(std::string_view step_slug) noexcept {
        return detail::find_dispatch_entry(table.data(), table.data() + table.size(), step_slug);
    }

    [[noreturn]] static void throw_unknown_step(std::string_view step_slug) {
        std::string message =
            detail::concat({"pgflow: flow \"", Flow::slug, "\" has no step \"", step_slug, "\" (its steps:"});
        for (const std::string_view s : Flow::step_slugs()) {
            message += ' ';
            message += s;
        }
        message += ')';
        throw unknown_step_error(message);
    }

    std::array<const void*, Flow::step_count> steps_;
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
