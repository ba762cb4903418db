#pragma once
// The dashboard's HTTP vocabulary, free of sockets: the limits a request must fit, the response a
// route produces, the errors that become 4xx JSON answers, and the reading of a request target
// (path and query string). Bad input is always an http_error with a status below 500.

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::dashboard::detail {

/// What one request may be: a dashboard request is a short GET or an empty POST.
struct request_limits {
    static constexpr std::size_t header_bytes = std::size_t{8} * 1024;
    static constexpr std::size_t body_bytes = std::size_t{16} * 1024;
    static constexpr std::size_t target_bytes = std::size_t{2} * 1024;
    static constexpr std::size_t query_parameters = 16;
};

/// A route's answer. `stream_run` set: the connection turns into the run's event stream instead.
struct response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<std::string> stream_run;
};

/// A request the dashboard refuses; `status` is the HTTP status, what() the message for the client.
class http_error : public std::runtime_error {
public:
    http_error(unsigned status, const std::string& message) : std::runtime_error(message), status_(status) {}
    [[nodiscard]] unsigned status() const noexcept { return status_; }

private:
    unsigned status_;
};

inline http_error bad_request(const std::string& message) { return {400, message}; }
inline http_error not_found(const std::string& message) { return {404, message}; }

/// `{"error": "<message>"}`, the message escaped as a JSON string.
inline std::string error_body(std::string_view message) {
    return "{\"error\":" + boost::json::serialize(boost::json::string(message)) + "}";
}

inline response json_response(std::string body, unsigned status = 200) {
    response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

inline response error_response(unsigned status, std::string_view message) {
    return json_response(error_body(message), status);
}

/// A JSON string literal of `text` (for names quoted in messages and hand-built bodies).
inline std::string json_quoted(std::string_view text) { return boost::json::serialize(boost::json::string(text)); }

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Percent-decoding ('+' is a space in a query string); a malformed escape or a NUL is a 400.
inline std::string percent_decoded(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size() || hex_digit(text[i + 1]) < 0 || hex_digit(text[i + 2]) < 0)
                throw bad_request("malformed percent-encoding in the request target");
            const int high = hex_digit(text[i + 1]), low = hex_digit(text[i + 2]);
            c = static_cast<char>(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') throw bad_request("the request target contains a NUL character");
        out.push_back(c);
    }
    return out;
}

/// A request target split into its decoded path and query parameters.
struct target {
    std::string path;
    std::map<std::string, std::string, std::less<>> query;

    /// The parameter's value, or nullopt when absent. An empty value counts as absent.
    [[nodiscard]] std::optional<std::string> get(std::string_view name) const {
        auto it = query.find(name);
        if (it == query.end() || it->second.empty()) return std::nullopt;
        return it->second;
    }
};

/// Splits and decodes "/path?a=1&b=2". Repeated parameters, too many of them, or a target that
/// does not start with '/' are 400s.
inline target parse_target(std::string_view raw) {
    if (raw.size() > request_limits::target_bytes) throw http_error(414, "the request target is too long");
    if (raw.empty() || raw.front() != '/') throw bad_request("the request target must be an absolute path");
    target t;
    const auto question = raw.find('?');
    t.path = percent_decoded(raw.substr(0, question), false);
    if (question == std::string_view::npos) return t;
    std::string_view rest = raw.substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;
        const auto eq = pair.find('=');
        std::string name = percent_decoded(pair.substr(0, eq), true);
        std::string value = eq == std::string_view::npos ? "" : percent_decoded(pair.substr(eq + 1), true);
        if (t.query.size() >= request_limits::query_parameters)
            throw bad_request("too many query parameters (at most " + std::to_string(request_limits::query_parameters) +
                              ")");
        if (!t.query.emplace(name, std::move(value)).second)
            throw bad_request("query parameter " + json_quoted(name) + " is given more than once");
    }
    return t;
}

/// Splits a path into its segments ("/api/runs/x" → api, runs, x); empty segments are dropped.
inline std::vector<std::string_view> path_segments(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        const auto slash = path.find('/');
        const auto part = path.substr(0, slash);
        if (!part.empty()) parts.push_back(part);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

}  // namespace pgflow::dashboard::detail
