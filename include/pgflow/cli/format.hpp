#pragma once
// How the command line prints: aligned tables, shortened values, clock times.

#include <pgflow/pq/result.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgflow::detail::cli {

/// Columns aligned on their widest cell (UTF-8 aware), two spaces apart.
class table {
public:
    explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

    void print(std::ostream& out, std::string_view indent = "  ") const {
        std::vector<std::size_t> widths(headers_.size(), 0);
        auto measure = [&](const std::vector<std::string>& row) {
            for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
                widths[i] = std::max(widths[i], width(row[i]));
        };
        measure(headers_);
        for (const auto& row : rows_) measure(row);
        auto line = [&](const std::vector<std::string>& row) {
            std::string text(indent);
            for (std::size_t i = 0; i < row.size(); ++i) {
                text += row[i];
                if (i + 1 < row.size()) text += std::string(widths[i] - width(row[i]) + 2, ' ');
            }
            text.erase(text.find_last_not_of(' ') + 1);
            out << text << '\n';
        };
        line(headers_);
        for (const auto& row : rows_) line(row);
    }

private:
    static std::size_t width(std::string_view s) {
        return static_cast<std::size_t>(
            std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    }
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

/// `text` cut to `limit` characters with a note of the full size, unless `full`.
inline std::string abbreviated(std::string text, bool full, std::size_t limit = 300) {
    if (full || text.size() <= limit) return text;
    const std::size_t size = text.size();
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    text.resize(cut);
    return text + "… (" + std::to_string(size) + " bytes; --full shows all)";
}

inline std::string cell(const pq::result& r, int row, int col) {
    return r.is_null(row, col) ? std::string("-") : std::string(r.text(row, col));
}

inline std::string local_clock_time() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::localtime_r(&seconds, &tm);
    char buffer[16];
    std::strftime(buffer, sizeof buffer, "%H:%M:%S", &tm);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    char with_ms[24];
    std::snprintf(with_ms, sizeof with_ms, "%s.%03lld", buffer, static_cast<long long>(ms));
    return with_ms;
}

inline std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

/// The table, or "(none)" in its place.
inline void print_or_none(std::ostream& out, const table& t) {
    if (t.empty())
        out << "  (none)\n";
    else
        t.print(out);
}

}  // namespace pgflow::detail::cli
