#include "cli.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "util.hpp"  // libcontainer's rfc3339_now, shared with state.json

namespace rt::cli {

namespace {
struct LogConfig {
    std::string file;
    bool json = false;
    bool debug = false;
};
LogConfig g_log;  // the front end's one piece of process state: where this invocation logs

const char* level_name(LogLevel l) {
    switch (l) {
        case LogLevel::Debug:
            return "debug";
        case LogLevel::Info:
            return "info";
        case LogLevel::Warning:
            return "warning";
        case LogLevel::Error:
            return "error";
    }
    return "info";
}

}  // namespace

void configure_logging(const GlobalOptions& g) {
    g_log.file = g.log_file;
    g_log.json = g.log_format == "json";
    g_log.debug = g.debug;
}

void log_message(LogLevel level, const std::string& msg) {
    if (level == LogLevel::Debug && !g_log.debug) return;
    if (!g_log.file.empty()) {
        std::string line;
        if (g_log.json) {
            line = nlohmann::json{{"level", level_name(level)}, {"msg", msg}, {"time", rt::rfc3339_now()}}
                       .dump();
        } else {
            line = "time=\"" + rt::rfc3339_now() + "\" level=" + level_name(level) +
                   " msg=" + nlohmann::json(msg).dump();
        }
        line += '\n';
        int fd = ::open(g_log.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            [[maybe_unused]] ssize_t n = ::write(fd, line.data(), line.size());
            ::close(fd);
        }
    }
    if (level == LogLevel::Warning || level == LogLevel::Error || g_log.debug) {
        std::string line = std::string("rt: ") +
                           (level == LogLevel::Error ? "" : std::string(level_name(level)) + ": ") + msg +
                           "\n";
        [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    }
}

rt::Runtime make_runtime(const GlobalOptions& g) { return rt::Runtime(g.root, log_message); }

bool parse(cxxopts::Options& o, const Args& args, std::vector<std::string>& positional) {
    o.add_options()("h,help", "Show help for this command")("positional", "",
                                                            cxxopts::value<std::vector<std::string>>());
    o.parse_positional({"positional"});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    auto r = o.parse(static_cast<int>(argv.size()), argv.data());
    if (r.count("help")) {
        std::cout << o.help({""}) << std::flush;
        return false;
    }
    if (r.count("positional")) positional = r["positional"].as<std::vector<std::string>>();
    return true;
}

std::string container_id(const std::vector<std::string>& positional, const char* command, size_t max) {
    if (positional.empty()) throw Error(std::string(command) + ": container id cannot be empty");
    if (positional.size() > max)
        throw Error(std::string(command) + ": unexpected argument \"" + positional[max] + "\"");
    return positional[0];
}

}  // namespace rt::cli
