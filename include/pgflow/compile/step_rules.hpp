#pragma once
// The rules of a step's own declaration (its dependencies), one function for step<...>/map<...> at
// compile time and dynamic_flow::add at run time, with one wording (checks.hpp). Slug rules are
// slug.hpp's, the flow graph's compile/graph.hpp's.

#include <pgflow/checks.hpp>
#include <pgflow/compile/slug_index.hpp>
#include <pgflow/shape.hpp>

#include <cstddef>
#include <string_view>

namespace pgflow::detail {

enum class declaration_verdict { valid, map_with_dependencies, self_dependency, dependency_twice };

struct declaration_check {
    declaration_verdict verdict = declaration_verdict::valid;
    std::size_t position = 0;  ///< the dependency at fault
};

/// The rule a step's dependencies break first: a map with several, the step itself, one listed twice.
template <class Dependencies>
constexpr declaration_check check_step_declaration(std::string_view slug, step_type type, const Dependencies& deps) {
    if (type == step_type::map && deps.size() > 1) return {declaration_verdict::map_with_dependencies, 1};
    for (std::size_t k = 0; k < deps.size(); ++k)
        if (std::string_view(deps[k]) == slug) return {declaration_verdict::self_dependency, k};
    if (const std::size_t repeated = first_repeated(deps); repeated != static_cast<std::size_t>(-1))
        return {declaration_verdict::dependency_twice, repeated};
    return {};
}

[[nodiscard]] constexpr std::string_view declaration_message(declaration_verdict verdict) noexcept {
    switch (verdict) {
        case declaration_verdict::valid: return {};
        case declaration_verdict::map_with_dependencies: return PGFLOW_DETAIL_MAP_DEPENDENCIES;
        case declaration_verdict::self_dependency: return PGFLOW_DETAIL_SELF_DEPENDENCY;
        case declaration_verdict::dependency_twice: return PGFLOW_DETAIL_DEPENDENCY_TWICE;
    }
    return {};
}

}  // namespace pgflow::detail
