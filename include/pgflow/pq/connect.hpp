#pragma once
// How pgflow::pq::connection establishes a connection (detail): libpq's connect, started by hand
// and awaited as PQconnectdb would, so that a failure carries the server's SQLSTATE; each server
// tried gets its own connect_timeout, and one that did not answer in time is left out of the next
// attempt when the settings name several.

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::pq::detail {

/// libpq keyword/value pairs, in order (later pairs override earlier ones).
using connection_keywords = std::vector<std::pair<std::string, std::string>>;

/// A failed connection's message and the server's SQLSTATE, when it sent one.
struct connect_failure {
    std::string message;
    std::string sqlstate;
};

// libpq gives no SQLSTATE for a failed connection, but with verbose errors its message carries the
// server's after the severity ("FATAL:  3D000: database \"x\" does not exist"), in any language:
// the last such code is taken, every one is cut from the text, and so are verbose-only
// "LOCATION:" lines (libpq's own words, in the program's locale: English unless it set one).
inline connect_failure parse_connect_failure(std::string text) {
    const auto is_code_char = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); };
    connect_failure f;
    for (auto at = text.find(":  "); at != std::string::npos; at = text.find(":  ", at + 1)) {
        const auto code = at + 3;
        if (code + 7 <= text.size() && text.compare(code + 5, 2, ": ") == 0 &&
            std::all_of(text.begin() + static_cast<std::ptrdiff_t>(code),
                        text.begin() + static_cast<std::ptrdiff_t>(code + 5), is_code_char)) {
            f.sqlstate = text.substr(code, 5);
            text.erase(code, 7);
        }
    }
    for (auto line = text.find("LOCATION:  "); line != std::string::npos; line = text.find("LOCATION:  ", line)) {
        if (line != 0 && text[line - 1] != '\n') {
            ++line;
            continue;
        }
        const auto end = text.find('\n', line);
        text.erase(line, end == std::string::npos ? std::string::npos : end + 1 - line);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    f.message = std::move(text);
    return f;
}

using conninfo_options = std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)>;

// One of the connection's libpq settings as libpq resolved it ("" when unset).
inline std::string setting_of(PGconn* c, std::string_view keyword) {
    conninfo_options options(PQconninfo(c), PQconninfoFree);
    for (auto* o = options.get(); o != nullptr && o->keyword != nullptr; ++o)
        if (keyword == o->keyword) return o->val != nullptr ? o->val : "";
    return {};
}

// Whether the settings name more than one server (host or hostaddr lists).
inline bool names_several_hosts(PGconn* c) {
    return setting_of(c, "host").find(',') != std::string::npos ||
           setting_of(c, "hostaddr").find(',') != std::string::npos;
}

// libpq's connect_timeout in milliseconds as PQconnectdb applies it (at least 2 s; 0 or less, or
// none: wait as long as the system does).
inline int connect_timeout_ms(PGconn* c) {
    const int seconds = std::atoi(setting_of(c, "connect_timeout").c_str());
    return seconds <= 0 ? -1 : std::max(seconds, 2) * 1000;
}

/// How a wait for a connection ended early (nothing: libpq finished it, connected or not).
struct connect_wait {
    std::string failure;     ///< what ended it ("" when libpq finished)
    bool timed_out = false;  ///< the server being tried did not answer within connect_timeout
};

// PQconnectdb's wait, which libpq does not offer for a connection started by hand: poll the socket
// in the direction PQconnectPoll asks for, with connect_timeout for each server tried (each address
// of a host name: libpq's own connect gives each its own).
inline connect_wait await_connection(PGconn* c) {
    const int timeout_ms = connect_timeout_ms(c);
    std::string server;  // socket, host, address and port: a new one gets its own connect_timeout
    auto deadline = std::chrono::steady_clock::now();
    for (auto status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED;) {
        const int fd = PQsocket(c);
        const auto now = std::chrono::steady_clock::now();
        const char* host = PQhost(c);
        const char* address = PQhostaddr(c);
        const char* port = PQport(c);
        auto current =
            std::to_string(fd) + ' ' + (host ? host : "") + ' ' + (address ? address : "") + ' ' + (port ? port : "");
        if (current != server) {
            server = std::move(current);
            deadline = now + std::chrono::milliseconds(timeout_ms);
        }
        int wait_ms = -1;
        if (timeout_ms >= 0)
            wait_ms =
                std::max(0, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count()));
        pollfd p{fd, static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        const int ready = ::poll(&p, 1, wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return {std::string("waiting for the server: ") + std::strerror(errno), false};
        if (ready == 0)
            return {"connection to server at \"" + std::string(host ? host : "") + "\", port " + (port ? port : "") +
                        " failed: timeout expired",
                    true};
        status = PQconnectPoll(c);
    }
    return {};
}

inline std::vector<std::string> split_list(std::string_view list) {
    std::vector<std::string> items;
    for (std::size_t from = 0;;) {
        const auto comma = list.find(',', from);
        items.emplace_back(list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
        if (comma == std::string_view::npos) return items;
        from = comma + 1;
    }
}

inline std::string join_list(const std::vector<std::string>& items) {
    std::string list;
    for (std::size_t i = 0; i < items.size(); ++i) list += (i == 0 ? "" : ",") + items[i];
    return list;
}

/// What to try after the server being tried did not answer in time.
struct next_servers {
    enum class verdict {
        retry_without,  ///< start again with `settings`: the others, without every entry naming it
        none_left,      ///< every entry names it: nothing else to try
        unknown,        ///< no entry can be told to name it (an empty host entry, say)
    } what = verdict::unknown;
    connection_keywords settings;
    std::size_t servers = 0;  ///< entries in `settings`' host lists
};

/// The settings of a connection whose current server did not answer in time, without that server:
/// every entry of the host, hostaddr and port lists naming it (PQhost, PQhostaddr when the entry
/// has an address, PQport) is left out, every other setting is as libpq resolved it (environment
/// and defaults included). PQconnectdb would go on to the next server; a connection started by
/// hand can only be started again, so the servers before it (which failed at once, or were not what
/// target_session_attrs asks for) are tried again, and so are none of the other addresses of a
/// host name that timed out.
inline next_servers settings_without_current_server(PGconn* c) {
    const std::string host = PQhost(c) != nullptr ? PQhost(c) : "";
    const std::string address = PQhostaddr(c) != nullptr ? PQhostaddr(c) : "";
    const std::string port = PQport(c) != nullptr ? PQport(c) : "";
    conninfo_options options(PQconninfo(c), PQconninfoFree);
    next_servers next;
    std::vector<std::string> hosts, addresses, ports;
    for (auto* o = options.get(); o != nullptr && o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        const std::string_view keyword = o->keyword;
        if (keyword == "host")
            hosts = split_list(o->val);
        else if (keyword == "hostaddr")
            addresses = split_list(o->val);
        else if (keyword == "port")
            ports = split_list(o->val);
        else
            next.settings.emplace_back(o->keyword, o->val);
    }
    const auto entry = [](const std::vector<std::string>& list, std::size_t i) {
        return i < list.size() ? list[i] : std::string();
    };
    const std::size_t count = std::max(hosts.size(), addresses.size());
    std::vector<std::string> kept_hosts, kept_addresses, kept_ports;
    for (std::size_t i = 0; i < count; ++i) {
        // PQhost answers the entry's host name, or its address when it has none.
        const std::string name = entry(hosts, i).empty() ? entry(addresses, i) : entry(hosts, i);
        const std::string entry_port = ports.size() == 1 ? ports[0] : entry(ports, i);
        const bool names_it = name == host && (entry(addresses, i).empty() || entry(addresses, i) == address) &&
                              (entry_port.empty() || entry_port == port);
        if (names_it) continue;
        if (i < hosts.size()) kept_hosts.push_back(hosts[i]);
        if (i < addresses.size()) kept_addresses.push_back(addresses[i]);
        if (ports.size() > 1 && i < ports.size()) kept_ports.push_back(ports[i]);
    }
    next.servers = std::max(kept_hosts.size(), kept_addresses.size());
    if (next.servers == count) return next;  // unknown: no entry names it
    const auto joined_is_empty = [](const std::vector<std::string>& list) {
        return std::all_of(list.begin(), list.end(), [](const std::string& e) { return e.empty(); });
    };
    // An empty list would be no setting at all to libpq, which would fill it in again (PGHOST, a
    // service file): the same servers, tried for ever.
    if (next.servers > 0 && ((!hosts.empty() && joined_is_empty(kept_hosts) && kept_addresses.empty()) ||
                             (ports.size() > 1 && joined_is_empty(kept_ports))))
        return next;  // unknown
    next.what = next.servers == 0 ? next_servers::verdict::none_left : next_servers::verdict::retry_without;
    if (!hosts.empty()) next.settings.emplace_back("host", join_list(kept_hosts));
    if (!addresses.empty()) next.settings.emplace_back("hostaddr", join_list(kept_addresses));
    if (ports.size() == 1) next.settings.emplace_back("port", ports[0]);
    if (ports.size() > 1) next.settings.emplace_back("port", join_list(kept_ports));
    return next;
}

}  // namespace pgflow::pq::detail
