#pragma once
// detail::concat — builds a message by appending pieces. (`"literal" + std::string(...)` trips a
// bogus -Wrestrict in g++ 12 at -O2 and above, GCC bug 105329; appending avoids it.)

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pgflow::detail {

inline std::string concat(std::initializer_list<std::string_view> pieces) {
    std::size_t size = 0;
    for (const std::string_view piece : pieces) size += piece.size();
    std::string out;
    out.reserve(size);
    for (const std::string_view piece : pieces) out.append(piece);
    return out;
}

}  // namespace pgflow::detail
