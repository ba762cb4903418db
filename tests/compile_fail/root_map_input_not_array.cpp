#include <pgflow/flow.hpp>
// expect: check_root_map_input_is_array<.*"per_item".*"each".*int>
// expect: a map step without dependencies maps over the flow input, which must then be an array type
constexpr auto f = pgflow::flow<"per_item", int>(pgflow::map<"each">([](int x) { return x; }));
