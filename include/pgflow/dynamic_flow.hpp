#pragma once
// pgflow::dynamic_flow — a flow assembled at run time (from configuration, an LLM's plan, …) with
// JSON-in/JSON-out handlers registered by step slug. It registers through the same
// create_flow/add_step calls as a compiled flow and runs on the same pgflow::worker.
//
//   pgflow::dynamic_flow f{"summarize_pages"};
//   f.step("fetch", [](const boost::json::value& in) { return fetch(in.at("run")); })
//    .map("summaries", "fetch", [](const boost::json::value& page) { return summarize(page); })
//    .step("report", {"summaries"}, [](const boost::json::value& in) { return join(in); });

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>
#include <pgflow/options.hpp>
#include <pgflow/shape.hpp>
#include <pgflow/task_context.hpp>

#include <boost/json/value.hpp>

#include <algorithm>
#include <functional>
#include <limits>
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
/// element for a map step) to the step's output.
using json_handler = std::function<boost::json::value(const boost::json::value& input, const task_context&)>;

/// Everything about one step, for callers that build steps from data.
struct dynamic_step {
    std::string slug;
    step_type type = step_type::single;
    std::vector<std::string> dependencies;
    json_handler handler;
    step_options options;
};

namespace detail {

/// pgflow.is_valid_slug: ASCII letter or '_' first, then letters, digits, '_'; 1–128 characters;
/// not the reserved "run".
inline std::string slug_problem(std::string_view slug) {
    if (slug.empty()) return "is empty";
    if (slug.size() > 128) return "is longer than 128 characters";
    if (slug == "run") return "is reserved (\"run\" names the flow input)";
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!letter(slug.front())) return "must start with an ASCII letter or '_'";
    for (char c : slug)
        if (!letter(c) && !(c >= '0' && c <= '9'))
            return "may contain only ASCII letters, digits and '_'";
    return {};
}

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

}  // namespace detail

class dynamic_flow {
public:
    using input_type = boost::json::value;
    using output_type = boost::json::value;

    /// Throws definition_error for a slug pgflow would reject (see detail::slug_problem; flow
    /// slugs also name a pgmq queue, which limits them to 47 characters) or options out of range.
    explicit dynamic_flow(std::string slug, flow_options options = {}) : slug_(std::move(slug)) {
        if (auto problem = detail::slug_problem(slug_); !problem.empty())
            throw definition_error("pgflow: dynamic flow slug " + detail::quoted(slug_) + " " + problem);
        if (slug_.size() > 47)
            throw definition_error("pgflow: dynamic flow slug \"" + slug_ +
                                   "\" is longer than 47 characters (it names a pgmq queue)");
        check_option("max_attempts", options.max_attempts, 0, "");
        check_option("base_delay", options.base_delay, 0, "");
        check_option("timeout", options.timeout, 1, "", max_timeout);
        options_ = options;
        handlers_ = std::make_shared<std::map<std::string, json_handler, std::less<>>>();
    }

    /// A single step. `dependencies` name steps of this flow (they may be added later; unknown
    /// ones are reported by shape()).
    template <class H>
    dynamic_flow& step(std::string slug, std::vector<std::string> dependencies, H&& handler,
                       step_options options = {}) {
        return add({std::move(slug), step_type::single, std::move(dependencies),
                    detail::make_json_handler(std::forward<H>(handler)), options});
    }

    /// A root single step (input `{"run": <flow input>}`).
    template <class H>
        requires(!std::is_convertible_v<H, std::vector<std::string>>)
    dynamic_flow& step(std::string slug, H&& handler, step_options options = {}) {
        return step(std::move(slug), {}, std::forward<H>(handler), options);
    }

    /// A root map over the flow input, which must then be a JSON array.
    template <class H>
        requires(!std::is_convertible_v<H, std::string>)
    dynamic_flow& map(std::string slug, H&& handler, step_options options = {}) {
        return add({std::move(slug), step_type::map, {}, detail::make_json_handler(std::forward<H>(handler)), options});
    }

    /// A map over the array output of `array_dependency`.
    template <class H>
    dynamic_flow& map(std::string slug, std::string array_dependency, H&& handler, step_options options = {}) {
        return add({std::move(slug), step_type::map, {std::move(array_dependency)},
                    detail::make_json_handler(std::forward<H>(handler)), options});
    }

    /// Adds a step described by data. Throws definition_error for an invalid or duplicate slug,
    /// a map with more than one dependency, a step depending on itself, a missing handler or
    /// options out of range.
    dynamic_flow& add(dynamic_step s) {
        const std::string where = "pgflow: dynamic flow \"" + slug_ + "\": step " + detail::quoted(s.slug) + " ";
        if (auto problem = detail::slug_problem(s.slug); !problem.empty())
            throw definition_error(where + "has an invalid slug: it " + problem);
        if (handlers_->contains(s.slug)) throw definition_error(where + "already exists in the flow");
        if (!s.handler) throw definition_error(where + "has no handler");
        if (s.type == step_type::map && s.dependencies.size() > 1) {
            std::string list;
            for (const auto& d : s.dependencies) list += (list.empty() ? "" : ", ") + d;
            throw definition_error(where + "is a map step and can have at most one dependency, but " +
                                   std::to_string(s.dependencies.size()) + " were provided: " + list);
        }
        for (std::size_t i = 0; i < s.dependencies.size(); ++i) {
            if (s.dependencies[i] == s.slug) throw definition_error(where + "depends on itself");
            if (std::find(s.dependencies.begin(), s.dependencies.begin() + static_cast<std::ptrdiff_t>(i),
                          s.dependencies[i]) != s.dependencies.begin() + static_cast<std::ptrdiff_t>(i))
                throw definition_error(where + "lists dependency " + detail::quoted(s.dependencies[i]) + " twice");
        }
        check_option("max_attempts", s.options.max_attempts, 0, s.slug);
        check_option("base_delay", s.options.base_delay, 0, s.slug);
        check_option("timeout", s.options.timeout, 1, s.slug, max_timeout);
        check_option("start_delay", s.options.start_delay, 0, s.slug);
        if (handlers_.use_count() > 1)  // copies (a worker's dispatcher) keep the handlers they had
            handlers_ = std::make_shared<std::map<std::string, json_handler, std::less<>>>(*handlers_);
        handlers_->emplace(s.slug, s.handler);
        steps_.push_back(std::move(s));
        return *this;
    }

    [[nodiscard]] const std::string& slug() const noexcept { return slug_; }

    /// The flow's shape with steps in a dependencies-first order (declaration order where the
    /// dependencies allow). Throws definition_error for an unknown dependency or a cycle (naming
    /// the steps on it).
    [[nodiscard]] flow_shape shape() const {
        flow_shape shape;
        shape.slug = slug_;
        shape.max_attempts = options_.max_attempts.value_or(3);
        shape.base_delay = options_.base_delay.value_or(5);
        shape.timeout = options_.timeout.value_or(60);
        shape.stated_options = options_;
        shape.input_type = "boost::json::value";
        for (const auto& s : steps_)
            for (const auto& d : s.dependencies)
                if (!handlers_->contains(d))
                    throw definition_error("pgflow: dynamic flow \"" + slug_ + "\": step \"" + s.slug +
                                           "\" depends on undefined step " + detail::quoted(d));
        std::vector<bool> placed(steps_.size(), false);
        auto is_placed = [&](const std::string& slug) {
            for (std::size_t i = 0; i < steps_.size(); ++i)
                if (steps_[i].slug == slug) return static_cast<bool>(placed[i]);
            return false;
        };
        while (shape.steps.size() < steps_.size()) {
            bool progress = false;
            for (std::size_t i = 0; i < steps_.size(); ++i) {
                if (placed[i]) continue;
                const auto& s = steps_[i];
                if (!std::all_of(s.dependencies.begin(), s.dependencies.end(), is_placed)) continue;
                placed[i] = true;
                progress = true;
                shape.steps.push_back(step_shape{s.slug, s.type, s.dependencies, s.options.max_attempts,
                                                 s.options.base_delay, s.options.timeout, s.options.start_delay,
                                                 "boost::json::value", "boost::json::value"});
                break;  // restart from the first step so declaration order wins
            }
            if (!progress) throw definition_error(describe_cycle(placed));
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
    // timeout has an upper bound too: see pgflow::max_timeout.
    void check_option(const char* name, const std::optional<int>& value, int minimum, const std::string& step,
                      int maximum = std::numeric_limits<int>::max()) const {
        if (!value || (*value >= minimum && *value <= maximum)) return;
        const std::string rule = *value < minimum ? "at least " + std::to_string(minimum)
                                                  : "at most " + std::to_string(maximum) +
                                                        " (timeout + 2 must fit a PostgreSQL integer)";
        throw definition_error("pgflow: dynamic flow \"" + slug_ + "\"" +
                               (step.empty() ? std::string{} : ": step \"" + step + "\"") + " option " + name + " is " +
                               std::to_string(*value) + " but must be " + rule);
    }

    // Called when no unplaced step has all its dependencies placed: walk unplaced dependencies
    // from any unplaced step until a step repeats; the repeated stretch is a cycle.
    std::string describe_cycle(const std::vector<bool>& placed) const {
        auto index_of = [&](const std::string& slug) {
            for (std::size_t i = 0; i < steps_.size(); ++i)
                if (steps_[i].slug == slug) return i;
            return steps_.size();
        };
        std::size_t current = 0;
        while (placed[current]) ++current;
        std::vector<std::size_t> path;
        while (std::find(path.begin(), path.end(), current) == path.end()) {
            path.push_back(current);
            for (const auto& d : steps_[current].dependencies) {
                const auto j = index_of(d);
                if (!placed[j]) {
                    current = j;
                    break;
                }
            }
        }
        std::string cycle;
        for (auto it = std::find(path.begin(), path.end(), current); it != path.end(); ++it)
            cycle += "\"" + steps_[*it].slug + "\" -> ";
        cycle += "\"" + steps_[current].slug + "\"";
        return "pgflow: dynamic flow \"" + slug_ + "\" has a dependency cycle: " + cycle +
               " (each step depends on the next)";
    }

    std::string slug_;
    flow_options options_;
    std::vector<dynamic_step> steps_;
    // Shared so that copies given to workers are cheap; copied before a change when shared.
    std::shared_ptr<std::map<std::string, json_handler, std::less<>>> handlers_;
};

/// The shape to register or verify (see dynamic_flow::shape()).
inline flow_shape shape_of(const dynamic_flow& f) { return f.shape(); }

/// The worker's dispatcher for a dynamic flow: a copy of the flow, callable by step slug.
inline dynamic_flow make_dispatcher(const dynamic_flow& f) { return f; }

}  // namespace pgflow
