#pragma once
// The dashboard's access rules: which addresses count as loopback (no token needed there), and
// whether a request carries the token, as `Authorization: Bearer <token>` or as the cookie
// `pgflow_token` that `/?token=<token>` sets. Tokens are compared in constant time.

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace pgflow::dashboard::detail {

inline constexpr std::string_view token_cookie = "pgflow_token";

/// Equal texts, in time that depends only on their lengths (no early exit on the first difference).
inline bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i)
        difference |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
    return difference == 0;
}

/// True for 127.0.0.0/8, ::1, "localhost" and IPv4-mapped loopback; false for anything else,
/// including unparsable hosts (the caller then demands a token).
inline bool is_loopback_host(std::string_view host) {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec) return false;
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return address.to_v6().to_v4().is_loopback();  // NOLINT(bugprone-unchecked-optional-access)
    return address.is_loopback();
}

/// The value of cookie `name` in a Cookie header, or an empty view.
inline std::string_view cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const auto semicolon = header.find(';');
        std::string_view pair = header.substr(0, semicolon);
        header = semicolon == std::string_view::npos ? std::string_view{} : header.substr(semicolon + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
    return {};
}

/// Whether a request with these Authorization and Cookie headers may pass. No token configured:
/// everyone may (the server listens on loopback only then).
inline bool authorized(std::string_view token, std::string_view authorization, std::string_view cookie) {
    if (token.empty()) return true;
    constexpr std::string_view bearer = "Bearer ";
    if (authorization.starts_with(bearer) && constant_time_equal(authorization.substr(bearer.size()), token))
        return true;
    const auto from_cookie = cookie_value(cookie, token_cookie);
    return !from_cookie.empty() && constant_time_equal(from_cookie, token);
}

}  // namespace pgflow::dashboard::detail
