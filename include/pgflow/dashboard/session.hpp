#pragma once
// The dashboard's connections (Boost.Beast): an HTTP session reads one request at a time within
// the size limits, answers the checks and files on its network thread, and hands database routes
// to the database threads, whose answer comes back to the session's strand; an event stream
// writes a run's events to one client. All socket work is asynchronous, so a slow client holds up
// nobody but itself; an event stream that falls behind by more than max_queued_frames is closed.

#include <pgflow/dashboard/events.hpp>
#include <pgflow/dashboard/http.hpp>
#include <pgflow/dashboard/options.hpp>
#include <pgflow/dashboard/pool.hpp>
#include <pgflow/dashboard/router.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace pgflow::dashboard::detail {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;

/// What every connection of one server shares.
struct server_state {
    const options& settings;
    connection_pool& pool;
    run_event_hub& hub;
    asio::thread_pool& database_threads;
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> streams{0};
    std::atomic<std::size_t> queued_requests{0};
};

inline constexpr std::chrono::seconds idle_timeout{60};
inline constexpr std::chrono::seconds keepalive_interval{15};
inline constexpr std::size_t max_queued_frames = 64;
inline constexpr std::size_t max_queued_requests = 256;

class event_stream : public std::enable_shared_from_this<event_stream> {
public:
    event_stream(beast::tcp_stream stream, server_state& state, std::string run)
        : stream_(std::move(stream)), state_(state), run_(std::move(run)), keepalive_(stream_.get_executor()) {}
    ~event_stream() { state_.streams.fetch_sub(1); }

    void start() {
        push(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\n");
        auto deliver = [weak = weak_from_this(), executor = stream_.get_executor()](std::string frame) {
            asio::post(executor, [weak, frame = std::move(frame)]() mutable {
                if (auto self = weak.lock()) self->push(std::move(frame));
            });
        };
        subscription_ = state_.hub.subscribe(run_, std::move(deliver));
        schedule_keepalive();
        watch_for_close();
    }

private:
    void push(std::string frame) {
        if (closed_) return;
        if (queue_.size() >= max_queued_frames) return close();  // too slow a reader
        queue_.push_back(std::move(frame));
        if (!writing_) write_next();
    }

    void write_next() {
        if (closed_ || queue_.empty()) {
            writing_ = false;
            return;
        }
        writing_ = true;
        stream_.expires_after(std::chrono::seconds{30});
        asio::async_write(stream_, asio::buffer(queue_.front()),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->stream_.expires_never();
                              if (ec) return self->close();
                              self->queue_.pop_front();
                              self->write_next();
                          });
    }

    void schedule_keepalive() {
        keepalive_.expires_after(keepalive_interval);
        keepalive_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (ec || self->closed_) return;
            self->push(": keepalive\n\n");
            self->schedule_keepalive();
        });
    }

    // The client sends nothing more; a read that ends means it went away.
    void watch_for_close() {
        stream_.socket().async_read_some(asio::buffer(discard_),
                                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                             if (ec) return self->close();
                                             self->watch_for_close();
                                         });
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        subscription_.reset();
        keepalive_.cancel();
        beast::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    server_state& state_;
    std::string run_;
    asio::steady_timer keepalive_;
    std::unique_ptr<run_event_hub::subscription> subscription_;
    std::deque<std::string> queue_;
    bool writing_ = false, closed_ = false;
    char discard_[256] = {};
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(asio::ip::tcp::socket socket, server_state& state) : stream_(std::move(socket)), state_(state) {}
    ~http_session() { state_.connections.fetch_sub(1); }

    void start() { read_request(); }

private:
    void read_request() {
        parser_.emplace();
        parser_->header_limit(request_limits::header_bytes);
        parser_->body_limit(request_limits::body_bytes);
        stream_.expires_after(idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&http_session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::body_limit) return send(error_response(413, "the request body is too large"), false);
        if (ec == http::error::header_limit)
            return send(error_response(431, "the request headers are too large"), false);
        if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message)
            return send(error_response(400, "malformed HTTP request: " + ec.message()), false);
        if (ec) return close();
        request_ = parser_->release();
        try {
            handle();
        } catch (const http_error& e) {
            send(error_response(e.status(), e.what()), request_.keep_alive());
        }
    }

    void handle() {
        const target t = parse_target(std::string_view(request_.target().data(), request_.target().size()));
        const route r = match_route(t.path);
        auto header = [this](http::field f) {
            const auto v = request_[f];
            return std::string_view(v.data(), v.size());
        };
        const request_facts facts{std::string_view(request_.method_string().data(), request_.method_string().size()),
                                  header(http::field::host), header(http::field::origin),
                                  header(http::field::authorization), header(http::field::cookie)};
        if (auto answer = check_request(state_.settings, facts, t, r))
            return send(std::move(*answer), request_.keep_alive());
        if (r.kind == route_kind::run_events && state_.streams.load() >= state_.settings.max_event_streams)
            throw http_error(503, "too many live event streams; try again later");
        if (state_.queued_requests.fetch_add(1) >= max_queued_requests) {
            state_.queued_requests.fetch_sub(1);
            throw http_error(503, "the dashboard is busy; try again later");
        }
        asio::post(state_.database_threads, [self = shared_from_this(), r, t] {
            auto answer = call_route(self->state_.pool, r, t, self->state_.settings.allow_actions);
            self->state_.queued_requests.fetch_sub(1);
            asio::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
                self->send(std::move(answer), self->request_.keep_alive());
            });
        });
    }

    void send(response answer, bool keep_alive) {
        if (answer.stream_run) {
            state_.streams.fetch_add(1);
            stream_.expires_never();
            std::make_shared<event_stream>(std::move(stream_), state_, *answer.stream_run)->start();
            return;
        }
        auto message = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(answer.status), request_.version() ? request_.version() : 11);
        message->set(http::field::server, "pgflow-dashboard");
        message->set(http::field::content_type, answer.content_type);
        message->set("X-Content-Type-Options", "nosniff");
        message->set("X-Frame-Options", "DENY");
        for (const auto& [name, value] : answer.headers) message->set(name, value);
        message->body() = std::move(answer.body);
        message->keep_alive(keep_alive);
        message->prepare_payload();
        stream_.expires_after(std::chrono::seconds{30});
        http::async_write(stream_, *message,
                          [self = shared_from_this(), message, keep_alive](beast::error_code ec, std::size_t) {
                              if (ec || !keep_alive) return self->close();
                              self->read_request();
                          });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    server_state& state_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
};

}  // namespace pgflow::dashboard::detail
