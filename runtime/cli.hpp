// Shared pieces of the rt front end: global options and the per-command entry points.
// Each command lives in its own cmd_<name>.cpp, parses its options with cxxopts and calls one
// libcontainer function. A command returns the process exit code; errors are thrown as
// rt::Error (or cxxopts exceptions) and reported once by main() in rt.cpp.
#pragma once

#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "rt/container.hpp"

namespace rt::cli {

struct GlobalOptions {
    std::string root = "/run/rt";
    std::string log_file;             // --log
    std::string log_format = "text";  // --log-format text|json
    bool debug = false;
};

// argv-style view of a command's own arguments: args[0] is the command name.
using Args = std::vector<std::string>;

// Where log_message() writes, from the global options (called once by main).
void configure_logging(const GlobalOptions& g);

// The Runtime for this invocation, logging through the front end's sink.
rt::Runtime make_runtime(const GlobalOptions& g);

// Write one log record to --log (text or json as runc) and, for warnings and errors, stderr.
void log_message(rt::LogLevel level, const std::string& msg);

// Parse a command's args with o (adds -h/--help and collects positionals into *positional).
// Returns false when --help was asked for and printed. Throws on unknown options.
bool parse(cxxopts::Options& o, const Args& args, std::vector<std::string>& positional);
// The container id: positional[0]; exactly `count` positionals are allowed (`max` at most).
std::string container_id(const std::vector<std::string>& positional, const char* command, size_t max = 1);

int cmd_create(const GlobalOptions& g, const Args& args);
int cmd_delete(const GlobalOptions& g, const Args& args);
int cmd_events(const GlobalOptions& g, const Args& args);
int cmd_exec(const GlobalOptions& g, const Args& args);
int cmd_kill(const GlobalOptions& g, const Args& args);
int cmd_list(const GlobalOptions& g, const Args& args);
int cmd_pause(const GlobalOptions& g, const Args& args);
int cmd_ps(const GlobalOptions& g, const Args& args);
int cmd_resume(const GlobalOptions& g, const Args& args);
int cmd_run(const GlobalOptions& g, const Args& args);
int cmd_spec(const GlobalOptions& g, const Args& args);
int cmd_start(const GlobalOptions& g, const Args& args);
int cmd_state(const GlobalOptions& g, const Args& args);
int cmd_update(const GlobalOptions& g, const Args& args);

}  // namespace rt::cli
