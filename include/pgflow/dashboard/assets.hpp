#pragma once
// Stub until dash-front's generated header replaces it (cmake -P cmake/EmbedDashboard.cmake): the
// dashboard's embedded files, looked up by path.

#include <string_view>

namespace pgflow::dashboard::detail {

struct asset {
    std::string_view path, content_type, body;
};

inline constexpr asset assets[] = {
    {"/", "text/html; charset=utf-8",
     "<!doctype html><html><head><title>pgflow dashboard</title></head><body><h1>pgflow dashboard</h1>"
     "<p>The front end is not embedded in this build; the JSON API is under <a href=\"/api/overview\">/api</a>."
     "</p></body></html>\n"},
};

}  // namespace pgflow::dashboard::detail
