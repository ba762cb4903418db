#include <pgflow/flow.hpp>
#include <string>
// expect: check_map_dependency_output_is_array<.*"shipping".*"ship_items".*"charge"
// expect: a map step maps over its dependency's output, which must be an array type
constexpr auto f =
    pgflow::flow<"shipping", int>(pgflow::step<"charge">([](int n) { return std::to_string(n); }),
                                  pgflow::map<"ship_items", pgflow::after<"charge">>([](char c) { return c == 'x'; }));
