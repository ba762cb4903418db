#pragma once
// pgflow::dashboard::serve — the dashboard's server: listens, answers until `stop` is requested,
// then closes everything and returns. A fixed number of threads: options.io_threads for the
// sockets, options.database_connections for queries (each with at most one connection), one
// for the shared LISTEN connection of the live run streams.
//
//   pgflow::dashboard::options o;                 // 127.0.0.1:8080, read-only, no token
//   pgflow::stop_on_signals signals;              // <pgflow/signals.hpp>
//   pgflow::dashboard::serve(o, signals.token());

#include <pgflow/dashboard/events.hpp>
#include <pgflow/dashboard/options.hpp>
#include <pgflow/dashboard/pool.hpp>
#include <pgflow/dashboard/session.hpp>
#include <pgflow/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdio>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pgflow::dashboard {

namespace detail {

/// Accepts connections, each on a strand of its own.
class listener : public std::enable_shared_from_this<listener> {
public:
    listener(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint, server_state& state)
        : io_(io), acceptor_(io), state_(state) {
        beast::error_code ec;
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw error("pgflow dashboard: cannot listen on " + endpoint.address().to_string() + ":" +
                        std::to_string(endpoint.port()) + ": " + ec.message());
    }

    [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept(
            asio::make_strand(io_), [self = shared_from_this()](beast::error_code ec, asio::ip::tcp::socket socket) {
                if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
                if (!ec) {
                    if (self->state_.connections.fetch_add(1) < self->state_.settings.max_connections) {
                        std::make_shared<http_session>(std::move(socket), self->state_)->start();
                    } else {
                        self->state_.connections.fetch_sub(1);  // over the limit: closed unanswered
                    }
                }
                self->accept();
            });
    }

    void close() {
        beast::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    asio::io_context& io_;
    asio::ip::tcp::acceptor acceptor_;
    server_state& state_;
};

inline std::string url_of(const listen_address& a, unsigned short port) {
    const bool v6 = a.host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(port) + "/";
}

}  // namespace detail

/// Serves the dashboard until `stop` is requested. Throws pgflow::error for options it refuses
/// (detail::check_options) or an address it cannot listen on; the database is reached lazily, so
/// an unreachable one makes the API answer 500 with the reason rather than stop the server.
inline void serve(options o, std::stop_token stop = {}) {
    namespace asio = boost::asio;
    detail::check_options(o);
    if (!o.log)
        o.log = [](std::string_view line) {
            std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        };
    const auto address = detail::parse_listen(o.listen);
    boost::system::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(address.host == "localhost" ? "127.0.0.1" : address.host, ec);
    if (ec) throw error("pgflow dashboard: --listen " + o.listen + ": " + address.host + " is not an IP address");

    const auto db = o.database.with_application_name("pgflow dashboard");
    detail::run_event_hub hub{db, o.log};
    detail::connection_pool pool{db, static_cast<std::size_t>(o.database_connections), o.statement_timeout};
    asio::thread_pool database_threads{static_cast<std::size_t>(o.database_connections)};
    detail::server_state state{o, pool, hub, database_threads};
    // Destroyed first: the connections' handlers it still holds refer to everything above.
    asio::io_context io{o.io_threads};

    auto acceptor = std::make_shared<detail::listener>(io, asio::ip::tcp::endpoint{ip, address.port}, state);
    acceptor->accept();
    std::stop_callback on_stop{stop, [&] {
                                   asio::post(io, [&] {
                                       acceptor->close();
                                       io.stop();
                                   });
                               }};
    if (o.on_listening) o.on_listening(detail::url_of(address, acceptor->port()));
    asio::post(database_threads, [&pool, &o] { detail::report_database_state(pool, o.log); });

    std::vector<std::thread> threads;
    for (int i = 1; i < o.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    // Queries in flight finish (their answers go nowhere), then no event is delivered any more
    // before the connections' handlers are destroyed with the io_context.
    database_threads.join();
    hub.shutdown();
}

}  // namespace pgflow::dashboard
