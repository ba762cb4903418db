#pragma once
// Flow control for compiled flows (docs/flow_control.md): concurrency limits per step, per key and
// per flow, and named rate limits, declared with the flow in a pgflow::flow_controls<...> argument
// after its options and enforced by the database across all workers.
//
//   constexpr auto billing = pgflow::flow<"billing", Order>(
//       pgflow::flow_options{.max_attempts = 5},
//       pgflow::flow_controls<
//           pgflow::max_concurrent_runs<100>,
//           pgflow::rate_limit<"partner_api", 20, 1>,  // 20 task starts per second
//           pgflow::step_limits<"charge", pgflow::concurrency<5>, pgflow::rate_limited<"partner_api">>,
//           pgflow::step_limits<"ship", pgflow::concurrency_per_key<"customer.id", 1>>>{},
//       pgflow::step<"charge">(...), pgflow::step<"ship", pgflow::after<"charge">>(...));
//
// The flow's registration text ends with the pgflow_cpp.set_rate_limit / set_flow_limits /
// set_step_limits statements (compile/limits_text.hpp); a flow without flow_controls keeps pgflow
// 0.8.1's text. Every rule is a named check with its own message (the end of limits_checks.hpp).

#include <pgflow/compile/limits_checks.hpp>
#include <pgflow/compile/type_list.hpp>
#include <pgflow/compile/registration_text.hpp>
#include <pgflow/fixed_string.hpp>
#include <pgflow/flow.hpp>
#include <pgflow/limits_shape.hpp>
#include <pgflow/options.hpp>
#include <pgflow/registration.hpp>
#include <pgflow/shape.hpp>

#include <boost/json/fwd.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace pgflow {

/// A flow: at most N of its runs in progress at once; later runs wait, in start order.
template <int N>
struct max_concurrent_runs {};
/// A flow: at most N runs in progress at once per value of the run input at KeyPath ("customer.id").
template <fixed_string KeyPath, int N>
struct max_runs_per_key {};
/// A named rate limit: at most MaxStarts task starts per PerSeconds, across all workers.
template <fixed_string Name, int MaxStarts, int PerSeconds = 1>
struct rate_limit {};
/// The limits of one step of the flow: any of concurrency, concurrency_per_key, rate_limited.
template <fixed_string Step, class... Limits>
struct step_limits {};

/// A step: at most N of its tasks started at once.
template <int N>
struct concurrency {};
/// A step: at most N of its tasks started at once per value of the run input at KeyPath.
template <fixed_string KeyPath, int N>
struct concurrency_per_key {};
/// A step: each task start counts against the flow's rate_limit<Name, ...> (waits when it is used up).
template <fixed_string Name>
struct rate_limited {};

/// The flow-control declarations of a flow, passed (as a value) after its flow_options.
template <class... Controls>
struct flow_controls {};

namespace detail {

// --- the declarations as data: a constexpr view with the members of flow_limits_shape ----------

struct step_limits_view {
    std::string_view step{};
    std::optional<int> max_concurrency{};
    std::string_view concurrency_key{};
    std::optional<int> max_per_key{};
    std::string_view rate_limit{};
};
struct rate_limit_view {
    std::string_view name{};
    int max_starts = 0;
    int per_seconds = 0;
};
template <std::size_t Steps, std::size_t Rates>
struct limits_view {
    std::optional<int> max_concurrent_runs{};
    std::string_view concurrency_key{};
    std::optional<int> max_runs_per_key{};
    std::array<step_limits_view, Steps> steps{};
    std::array<rate_limit_view, Rates> rate_limits{};
};

template <class Check>
using report = std::type_identity<Check>;
using no_report = std::type_identity<no_problem>;

/// The first of Problems that is not no_problem (none is instantiated: only the caller's sizeof is).
template <class... Problems>
constexpr auto first_problem() noexcept {
    constexpr std::size_t i = index_of_first<!std::is_same_v<Problems, no_problem>...>();
    if constexpr (i < sizeof...(Problems))
        return report<type_at<i, Problems...>>{};
    else
        return no_report{};
}

/// What each declaration is, what it sets, and the check it fails first (Context: the flow's steps
/// and its other declarations, controls_context below).
template <class T>
struct step_limit_traits {
    static constexpr step_limit_kind kind = step_limit_kind::unknown;
    static constexpr void apply(step_limits_view&) noexcept {}
    template <fixed_string Flow, fixed_string Step, class Context>
    static constexpr auto problem() noexcept {
        return report<check_step_limit_is_known<Flow, Step, T>>{};
    }
};
template <int N>
struct step_limit_traits<concurrency<N>> {
    static constexpr step_limit_kind kind = step_limit_kind::concurrency;
    static constexpr void apply(step_limits_view& v) noexcept { v.max_concurrency = N; }
    template <fixed_string Flow, fixed_string Step, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (N < 1)
            return report<check_limit_is_at_least_one<Flow, Step, "concurrency", N>>{};
        else
            return no_report{};
    }
};
template <fixed_string KeyPath, int N>
struct step_limit_traits<concurrency_per_key<KeyPath, N>> {
    static constexpr step_limit_kind kind = step_limit_kind::per_key;
    static constexpr void apply(step_limits_view& v) noexcept {
        v.concurrency_key = KeyPath.view();
        v.max_per_key = N;
    }
    template <fixed_string Flow, fixed_string Step, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (!key_path_is_valid(KeyPath.view()))
            return report<check_key_path_is_valid<Flow, Step, KeyPath>>{};
        else if constexpr (N < 1)
            return report<check_limit_is_at_least_one<Flow, Step, "concurrency_per_key", N>>{};
        else
            return no_report{};
    }
};
template <fixed_string Name>
struct step_limit_traits<rate_limited<Name>> {
    static constexpr step_limit_kind kind = step_limit_kind::rate;
    static constexpr void apply(step_limits_view& v) noexcept { v.rate_limit = Name.view(); }
    template <fixed_string Flow, fixed_string Step, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (Context::count(control_kind::rate_limit, Name.view()) == 0)
            return report<check_rate_limit_is_declared<Flow, Step, Name>>{};
        else
            return no_report{};
    }
};

template <class T>
struct control_traits {
    static constexpr control_kind kind = control_kind::unknown;
    static constexpr std::string_view name{};
    template <class View>
    static constexpr void apply(View&, std::size_t&, std::size_t&) noexcept {}
    template <fixed_string Flow, class Context>
    static constexpr auto problem() noexcept {
        return report<check_flow_control_is_known<Flow, T>>{};
    }
};
template <int N>
struct control_traits<max_concurrent_runs<N>> {
    static constexpr control_kind kind = control_kind::run_limit;
    static constexpr std::string_view name{};
    template <class View>
    static constexpr void apply(View& v, std::size_t&, std::size_t&) noexcept {
        v.max_concurrent_runs = N;
    }
    template <fixed_string Flow, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (N < 1)
            return report<check_limit_is_at_least_one<Flow, "", "max_concurrent_runs", N>>{};
        else if constexpr (Context::count(kind, name) > 1)
            return report<check_flow_control_given_once<Flow, "max_concurrent_runs">>{};
        else
            return no_report{};
    }
};
template <fixed_string KeyPath, int N>
struct control_traits<max_runs_per_key<KeyPath, N>> {
    static constexpr control_kind kind = control_kind::run_key_limit;
    static constexpr std::string_view name{};
    template <class View>
    static constexpr void apply(View& v, std::size_t&, std::size_t&) noexcept {
        v.concurrency_key = KeyPath.view();
        v.max_runs_per_key = N;
    }
    template <fixed_string Flow, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (!key_path_is_valid(KeyPath.view()))
            return report<check_key_path_is_valid<Flow, "", KeyPath>>{};
        else if constexpr (N < 1)
            return report<check_limit_is_at_least_one<Flow, "", "max_runs_per_key", N>>{};
        else if constexpr (Context::count(kind, name) > 1)
            return report<check_flow_control_given_once<Flow, "max_runs_per_key">>{};
        else
            return no_report{};
    }
};
template <fixed_string Name, int MaxStarts, int PerSeconds>
struct control_traits<rate_limit<Name, MaxStarts, PerSeconds>> {
    static constexpr control_kind kind = control_kind::rate_limit;
    static constexpr std::string_view name = Name.view();
    template <class View>
    static constexpr void apply(View& v, std::size_t&, std::size_t& rate) noexcept {
        v.rate_limits[rate++] = {Name.view(), MaxStarts, PerSeconds};
    }
    template <fixed_string Flow, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (!rate_limit_name_is_valid(Name.view()))
            return report<check_rate_limit_name_is_valid<Flow, Name>>{};
        else if constexpr (MaxStarts < 1 || PerSeconds < 1)
            return report<check_rate_limit_is_positive<Flow, Name, MaxStarts, PerSeconds>>{};
        else if constexpr (Context::count(kind, name) > 1)
            return report<check_rate_limit_declared_once<Flow, Name>>{};
        else
            return no_report{};
    }
};
template <fixed_string Step, class... Limits>
struct control_traits<step_limits<Step, Limits...>> {
    static constexpr control_kind kind = control_kind::step_limits;
    static constexpr std::string_view name = Step.view();
    template <class View>
    static constexpr void apply(View& v, std::size_t& step, std::size_t&) noexcept {
        step_limits_view& s = v.steps[step++];
        s.step = Step.view();
        (step_limit_traits<Limits>::apply(s), ...);
    }
    static constexpr bool kind_twice() noexcept {
        constexpr step_limit_kind kinds[] = {step_limit_traits<Limits>::kind..., step_limit_kind::unknown};
        for (std::size_t i = 0; i < sizeof...(Limits); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (kinds[i] == kinds[j] && kinds[i] != step_limit_kind::unknown) return true;
        return false;
    }
    template <fixed_string Flow, class Context>
    static constexpr auto problem() noexcept {
        if constexpr (!Context::has_step(Step.view()))
            return report<check_limited_step_is_declared<Flow, Step>>{};
        else if constexpr (Context::count(kind, name) > 1)
            return report<check_step_limits_given_once<Flow, Step>>{};
        else if constexpr (kind_twice())
            return report<check_step_limit_given_once<Flow, Step>>{};
        else
            return first_problem<
                typename decltype(step_limit_traits<Limits>::template problem<Flow, Step, Context>())::type...>();
    }
};

/// What the checks of one declaration may ask about the others and about the flow.
template <class FlowType, class... Controls>
struct controls_context {
    static constexpr bool has_step(std::string_view slug) noexcept {
        for (const std::string_view s : FlowType::step_slugs())
            if (s == slug) return true;
        return false;
    }
    static constexpr std::size_t count(control_kind kind, std::string_view name) noexcept {
        return (std::size_t{0} + ... +
                (control_traits<Controls>::kind == kind && control_traits<Controls>::name == name ? 1 : 0));
    }
};

/// The check the declarations fail first, in declaration order, or no_problem.
template <fixed_string Flow, class FlowType, class... Controls>
constexpr auto controls_problem() noexcept {
    using context = controls_context<FlowType, Controls...>;
    return first_problem<typename decltype(control_traits<Controls>::template problem<Flow, context>())::type...>();
}

template <class... Controls>
constexpr auto make_limits_view() noexcept {
    constexpr std::size_t steps =
        (std::size_t{0} + ... + (control_traits<Controls>::kind == control_kind::step_limits));
    constexpr std::size_t rates = (std::size_t{0} + ... + (control_traits<Controls>::kind == control_kind::rate_limit));
    limits_view<steps, rates> v{};
    std::size_t step = 0;
    std::size_t rate = 0;
    (control_traits<Controls>::apply(v, step, rate), ...);
    return v;
}

template <class Limits>
flow_limits_shape to_limits_shape(const Limits& view) {
    flow_limits_shape shape;
    shape.max_concurrent_runs = view.max_concurrent_runs;
    shape.concurrency_key = std::string(view.concurrency_key);
    shape.max_runs_per_key = view.max_runs_per_key;
    for (const step_limits_view& s : view.steps)
        shape.steps.push_back({std::string(s.step), s.max_concurrency, std::string(s.concurrency_key), s.max_per_key,
                               std::string(s.rate_limit)});
    for (const rate_limit_view& r : view.rate_limits)
        shape.rate_limits.push_back({std::string(r.name), r.max_starts, r.per_seconds});
    return shape;
}

template <class Limits>
constexpr std::size_t limits_text_size(std::string_view flow_slug, const Limits& view) {
    text_size size;
    write_limits(size, flow_slug, view);
    return size.size;
}

}  // namespace detail

/// A flow with flow_controls: the flow itself (it is one: workers, clients and the CLI take it like
/// any flow) plus the declarations, with a registration text that ends with their statements.
template <class Controls, class Base>
class controlled_flow;

template <class... Controls, class Base>
class controlled_flow<flow_controls<Controls...>, Base> : public Base {
public:
    using controls = flow_controls<Controls...>;
    /// The declarations as data (members like flow_limits_shape's), in declaration order.
    static constexpr auto limits = detail::make_limits_view<Controls...>();

    constexpr controlled_flow(detail::checked_flow, Base base) : Base(std::move(base)) {
        detail::text_buffer<sql_capacity> sql{controlled_sql_};
        sql.put(Base::registration_sql());
        detail::write_limits(sql, Base::slug, limits);
        controlled_sql_size_ = sql.size;
    }

    /// The flow's registration text (pgflow 0.8.1's) followed by its flow-control statements.
    [[nodiscard]] constexpr std::string_view registration_sql() const noexcept {
        return {controlled_sql_.data(), controlled_sql_size_};
    }

private:
    using base_traits = typename Base::traits;  // not `traits`: that would hide the flow's public one
    // An enumerator, not a static data member: see flow_traits (compile/flow_analysis.hpp).
    enum : std::size_t {
        sql_capacity =
            detail::registration_capacity_of<base_traits>::value + detail::limits_text_size(Base::slug, limits)
    };

    // Named apart from the flow's sql_ (protected, in detail::flow_values), which it would hide.
    std::array<char, sql_capacity> controlled_sql_{};
    std::size_t controlled_sql_size_ = 0;
};

namespace detail {
template <class Controls, class Base>
struct is_flow_definition<controlled_flow<Controls, Base>> : std::true_type {};
}  // namespace detail

/// A flow with flow-control declarations (see the top of this header); checked at compile time
/// like the rest of the flow, after it.
template <fixed_string Slug, class Input = boost::json::value, class... Controls, class... Steps>
    requires detail::step_arguments<Steps...>
[[nodiscard]] constexpr auto flow(flow_options options, flow_controls<Controls...>, Steps... steps) {
    auto base = flow<Slug, Input>(options, std::move(steps)...);
    using base_type = decltype(base);
    if constexpr (std::is_same_v<base_type, detail::invalid_flow>) {
        return base;
    } else {
        using problem = typename decltype(detail::controls_problem<Slug, base_type, Controls...>())::type;
        if constexpr (!std::is_same_v<problem, detail::no_problem>) {
            static_assert(sizeof(problem) > 0);  // shows the check's diagnostic
            return detail::invalid_flow{};
        } else {
            return controlled_flow<flow_controls<Controls...>, base_type>(detail::checked_flow{}, std::move(base));
        }
    }
}
template <fixed_string Slug, class Input = boost::json::value, class... Controls, class... Steps>
    requires detail::step_arguments<Steps...>
[[nodiscard]] constexpr auto flow(flow_controls<Controls...> controls, Steps... steps) {
    return flow<Slug, Input>(flow_options{}, controls, std::move(steps)...);
}

/// The flow's shape with its flow-control declarations (registration writes them from here).
template <class Controls, class Base>
[[nodiscard]] flow_shape shape_of(const controlled_flow<Controls, Base>& f) {
    flow_shape shape = shape_of(static_cast<const Base&>(f));
    shape.limits = detail::to_limits_shape(controlled_flow<Controls, Base>::limits);
    return shape;
}

}  // namespace pgflow
