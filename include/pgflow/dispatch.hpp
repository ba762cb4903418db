#pragma once
// pgflow::make_dispatcher(f) — step slug → typed thunk, built at compile time.
//
//   auto dispatch = pgflow::make_dispatcher(order_processing);
//   boost::json::value output = dispatch("charge", task_input, context);
//
// A thunk decodes the task input (spec 8.1: `{"run": ..., "<dependency>": ...}` for a step, the
// bare element for a map task), calls the handler (flow input first, then the dependencies'
// outputs in after<...> order, then the task_context if it takes one) and encodes its result.
// Lookup is a binary search over a constexpr table; no virtual call, no allocation besides JSON.

#include <pgflow/error.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/json.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

namespace detail {

[[noreturn]] inline void rethrow_task_input_error(const json_decode_error& e, const task_context& ctx,
                                                  std::string_view flow_slug, std::string_view step_slug,
                                                  bool map_task) {
    std::string message = "pgflow: flow \"" + std::string(flow_slug) + "\", step \"" + std::string(step_slug) + "\"";
    if (map_task) message += " (map task " + std::to_string(ctx.task_index) + ")";
    message += ": cannot decode the task input ";
    message += e.what();
    throw json_decode_error(std::move(message), e.path());
}

/// One handler argument, decoded from `v` at `path`; mismatches name the flow and the step.
template <class T, class Step>
T decode_argument(const boost::json::value& v, const json_path& path, const task_context& ctx,
                  std::string_view flow_slug) {
    try {
        return json_codec<T>::decode(v, path);
    } catch (const json_decode_error& e) {
        rethrow_task_input_error(e, ctx, flow_slug, Step::slug, Step::type == step_type::map);
    }
}

template <class T, class Step>
T decode_member(const boost::json::object& input, std::string_view key, std::string_view what,
                const json_path& root, const task_context& ctx, std::string_view flow_slug) {
    const json_path path = root.member(key);
    if (const boost::json::value* v = input.if_contains(key)) return decode_argument<T, Step>(*v, path, ctx, flow_slug);
    try {
        path.fail("missing member \"" + std::string(key) + "\" (" + std::string(what) + ")");
    } catch (const json_decode_error& e) {
        rethrow_task_input_error(e, ctx, flow_slug, Step::slug, false);
    }
}

template <class Analysis, class Handler, class... Args>
boost::json::value call_handler(const Handler& handler, const task_context& ctx, Args&&... args) {
    using result = typename Analysis::task_output_type;
    if constexpr (Analysis::uses_context) {
        if constexpr (std::is_void_v<std::invoke_result_t<const Handler&, Args..., const task_context&>>) {
            std::invoke(handler, std::forward<Args>(args)..., ctx);
            return nullptr;
        } else {
            return json_codec<result>::encode(std::invoke(handler, std::forward<Args>(args)..., ctx));
        }
    } else {
        if constexpr (std::is_void_v<std::invoke_result_t<const Handler&, Args...>>) {
            std::invoke(handler, std::forward<Args>(args)...);
            return nullptr;
        } else {
            return json_codec<result>::encode(std::invoke(handler, std::forward<Args>(args)...));
        }
    }
}

template <class Flow, std::size_t I>
boost::json::value run_task(const Flow& f, const boost::json::value& input, const task_context& ctx) {
    using analysis = step_analysis<typename Flow::traits, I>;
    using step = typename analysis::step;
    using arguments = typename analysis::arguments;
    const auto& handler = f.template step_at<I>().handler;
    const json_path root;
    if constexpr (step::type == step_type::map) {
        return call_handler<analysis>(handler, ctx,
                                      decode_argument<list_at<0, arguments>, step>(input, root, ctx, Flow::slug));
    } else {
        const boost::json::object* object = input.if_object();
        if (object == nullptr) {
            try {
                fail_expected(root, "an object with the flow input under \"run\"", input);
            } catch (const json_decode_error& e) {
                rethrow_task_input_error(e, ctx, Flow::slug, step::slug, false);
            }
        }
        return [&]<std::size_t... Ks>(std::index_sequence<Ks...>) {
            return call_handler<analysis>(
                handler, ctx, decode_member<list_at<0, arguments>, step>(*object, "run", "the flow input", root, ctx, Flow::slug),
                decode_member<list_at<Ks + 1, arguments>, step>(*object, step::dependencies::slugs[Ks],
                                                                "the output of a dependency", root, ctx, Flow::slug)...);
        }(std::make_index_sequence<step::dependencies::size>{});
    }
}

}  // namespace detail

/// Runs the steps of one flow. Holds a reference to the flow, which must outlive it.
template <flow_type Flow>
class dispatcher {
public:
    constexpr explicit dispatcher(const Flow& f) noexcept : flow_(&f) {}

    /// Runs step `step_slug` on a task input as start_tasks builds it and returns the handler's
    /// result as JSON. Throws unknown_step_error for a slug the flow lacks, json_decode_error (naming
    /// flow, step and JSON path) for an input that does not fit the handler, or what the handler throws.
    boost::json::value operator()(std::string_view step_slug, const boost::json::value& input,
                                  const task_context& ctx) const {
        const auto it = std::lower_bound(table.begin(), table.end(), step_slug,
                                         [](const entry& e, std::string_view s) { return e.slug < s; });
        if (it == table.end() || it->slug != step_slug) throw_unknown_step(step_slug);
        return it->run(*flow_, input, ctx);
    }

    [[nodiscard]] static constexpr bool contains(std::string_view step_slug) noexcept {
        const auto it = std::lower_bound(table.begin(), table.end(), step_slug,
                                         [](const entry& e, std::string_view s) { return e.slug < s; });
        return it != table.end() && it->slug == step_slug;
    }
    [[nodiscard]] static constexpr std::string_view flow_slug() noexcept { return Flow::slug; }
    [[nodiscard]] constexpr const Flow& flow() const noexcept { return *flow_; }

private:
    using thunk = boost::json::value (*)(const Flow&, const boost::json::value&, const task_context&);
    struct entry {
        std::string_view slug;
        thunk run;
    };
    static constexpr std::array<entry, Flow::step_count> table = []<std::size_t... Is>(std::index_sequence<Is...>) {
        std::array<entry, Flow::step_count> t{entry{Flow::traits::graph.slugs[Is], &detail::run_task<Flow, Is>}...};
        std::sort(t.begin(), t.end(), [](const entry& a, const entry& b) { return a.slug < b.slug; });
        return t;
    }(std::make_index_sequence<Flow::step_count>{});

    [[noreturn]] static void throw_unknown_step(std::string_view step_slug) {
        std::string message = "pgflow: flow \"" + std::string(Flow::slug) + "\" has no step \"" +
                              std::string(step_slug) + "\" (its steps:";
        for (const std::string_view s : Flow::step_slugs()) message += " " + std::string(s);
        throw unknown_step_error(message + ")");
    }

    const Flow* flow_;
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
