// rt events [--stats] [--interval D] ID: runc's event stream, one JSON object per line:
//   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,"blkio":...,"hugetlb":...}}
//   {"type":"oom","id":ID}
// Runs until the container's init exits (or stdout goes away); --stats prints one stats event.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <string>

#include "cli.hpp"

namespace rt::cli {

namespace {

bool write_all_stdout(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// A Go-style duration as runc takes it: "5s", "100ms", "1m", "1.5s", "2m30s"; bare numbers are seconds.
int parse_interval_ms(const std::string& s) {
    auto bad = [&]() -> int { throw Error("--interval: invalid duration \"" + s + "\" (e.g. 5s, 500ms)"); };
    if (s.empty()) return bad();
    double total = 0;
    size_t i = 0;
    while (i < s.size()) {
        size_t used = 0;
        double v;
        try {
            v = std::stod(s.substr(i), &used);
        } catch (...) {
            return bad();
        }
        if (v < 0) return bad();
        i += used;
        std::string unit;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) unit += s[i++];
        double ms = unit == "ms"                  ? 1
                    : unit == "s" || unit.empty() ? 1000
                    : unit == "m"                 ? 60000
                    : unit == "h"                 ? 3600000
                                                  : -1;
        if (ms < 0 || (unit.empty() && i != s.size())) return bad();
        total += v * ms;
    }
    if (total < 1 || total > 24.0 * 3600000) return bad();
    return static_cast<int>(total);
}

}  // namespace

int cmd_events(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt events", "Stream a container's statistics and OOM events as JSON lines");
    o.custom_help("[--stats] [--interval D] <container-id>");
    bool stats = false;
    std::string interval = "5s";
    o.add_options()("stats", "Print one stats event and exit", cxxopts::value(stats))(
        "interval", "Time between stats events (5s, 500ms, ...)",
        cxxopts::value(interval)->default_value("5s"));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "events");
    int ms = parse_interval_ms(interval);
    make_runtime(g).events(id, ms, stats, [](const nlohmann::json& e) {
        std::string line = e.dump() + "\n";
        // Unbuffered: a reader sees each event when it happens. A closed stdout ends the stream.
        return write_all_stdout(line);
    });
    return 0;
}

}  // namespace rt::cli
