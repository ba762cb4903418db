#include <pgflow/json.hpp>
#include <map>
// std::map keys must be strings.
// expect: check_json_convertible<std::map<int, .*>, std::map<int
// expect: type cannot be converted from/to JSON
auto j = pgflow::to_json(std::map<int, double>{{1, 2.0}});
