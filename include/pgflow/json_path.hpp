#pragma once
// pgflow::json_path — where a value sits in a JSON document, for the messages of
// json_decode_error (<pgflow/json.hpp> decodes with it; a json_codec of your own receives one).

#include <pgflow/detail/text.hpp>
#include <pgflow/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace pgflow {

/// Where a value sits in a JSON document, printed as `$.items[3].price`. Paths are built on the
/// stack while decoding (a child refers to its parent) and only turned into text for an error.
class json_path {
public:
    /// The document root, `$`.
    constexpr json_path() noexcept = default;

    /// The member `key` of the object at this path. The result refers to *this.
    [[nodiscard]] constexpr json_path member(std::string_view key) const noexcept {
        return json_path(this, key, 0, kind::member);
    }
    /// The element `i` of the array at this path. The result refers to *this.
    [[nodiscard]] constexpr json_path index(std::size_t i) const noexcept {
        return json_path(this, {}, i, kind::index);
    }

    [[nodiscard]] std::string str() const {
        std::string out = parent_ != nullptr ? parent_->str() : std::string("$");
        if (kind_ == kind::index) {
            out += '[' + std::to_string(index_) + ']';
        } else if (kind_ == kind::member) {
            if (is_identifier(key_)) {
                out += '.';
                out += key_;
            } else {
                out += "[\"";
                for (const char c : key_) {
                    if (c == '"' || c == '\\') out += '\\';
                    out += c;
                }
                out += "\"]";
            }
        }
        return out;
    }

    /// Throws json_decode_error("at <path>: <problem>") carrying this path.
    [[noreturn]] void fail(std::string_view problem) const {
        std::string path = str();
        std::string message = detail::concat({"at ", path, ": ", problem});
        throw json_decode_error(std::move(message), std::move(path));
    }

private:
    enum class kind : unsigned char { root, member, index };
    constexpr json_path(const json_path* parent, std::string_view key, std::size_t index, kind k) noexcept
        : parent_(parent), key_(key), index_(index), kind_(k) {}

    static constexpr bool is_identifier(std::string_view s) noexcept {
        if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
        for (const char c : s)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
        return true;
    }

    const json_path* parent_ = nullptr;
    std::string_view key_;
    std::size_t index_ = 0;
    kind kind_ = kind::root;
};

}  // namespace pgflow
