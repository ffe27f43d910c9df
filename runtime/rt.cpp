// rt: the command line front end. Parses the global options, then hands the rest of argv to the
// command's own file (cmd_<name>.cpp). Errors are reported here, once, as one line.
#include <seccomp.h>

#include <cstring>
#include <iostream>
#include <map>

#include "cli.hpp"
#include "rt_config.h"

namespace {

using rt::cli::Args;
using rt::cli::GlobalOptions;
using Command = int (*)(const GlobalOptions&, const Args&);

const std::map<std::string, std::pair<Command, const char*>>& commands() {
    static const std::map<std::string, std::pair<Command, const char*>> m = {
        {"create", {rt::cli::cmd_create, "create a container"}},
        {"delete", {rt::cli::cmd_delete, "delete a container and everything it holds"}},
        {"events", {rt::cli::cmd_events, "stream a container's statistics and OOM events"}},
        {"exec", {rt::cli::cmd_exec, "run a process in a running container"}},
        {"kill", {rt::cli::cmd_kill, "send a signal to a container's process(es)"}},
        {"list", {rt::cli::cmd_list, "list containers"}},
        {"pause", {rt::cli::cmd_pause, "suspend every process in a container"}},
        {"ps", {rt::cli::cmd_ps, "list the processes in a container"}},
        {"resume", {rt::cli::cmd_resume, "resume a paused container"}},
        {"run", {rt::cli::cmd_run, "create and start a container, wait for it"}},
        {"spec", {rt::cli::cmd_spec, "write a new config.json"}},
        {"start", {rt::cli::cmd_start, "start the process of a created container"}},
        {"state", {rt::cli::cmd_state, "print a container's state as JSON"}},
        {"update", {rt::cli::cmd_update, "change a container's resource limits"}},
    };
    return m;
}

std::string version_text() {
    std::string v = std::string("rt version ") + RT_VERSION + "\nspec: " + RT_OCI_VERSION + "\n";
#if RT_HAVE_SECCOMP
    const scmp_version* sv = seccomp_version();
    v += "libseccomp: " + std::to_string(sv->major) + "." + std::to_string(sv->minor) + "." +
         std::to_string(sv->micro) + "\n";
#endif
    return v;
}

std::string usage(const cxxopts::Options& o) {
    std::string s = o.help({""});
    s += "\nCommands:\n";
    for (const auto& [name, c] : commands()) {
        s += "  " + name + std::string(10 - name.size(), ' ') + c.second + "\n";
    }
    s += "\nRun 'rt COMMAND --help' for a command's options.\n";
    return s;
}

// Index of the command word in argv: the first argument that is not a global option or its value.
int find_command(int argc, char** argv) {
    static const char* with_value[] = {"--root", "--log", "--log-format", "--criu", "--rootless"};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.empty() || a[0] != '-') return i;
        if (a == "--") return i + 1 < argc ? i + 1 : argc;
        for (const char* w : with_value)
            if (a == w) ++i;
    }
    return argc;
}

}  // namespace

int main(int argc, char** argv) {
    GlobalOptions g;
    int cmd_at = find_command(argc, argv);
    try {
        cxxopts::Options o("rt", "rt: a daemonless OCI container runtime");
        o.custom_help("[global options] COMMAND [options] [arguments]");
        bool version = false, help = false, systemd = false;
        std::string criu, rootless;
        o.add_options()("root", "State directory", cxxopts::value(g.root)->default_value("/run/rt"))(
            "log", "Log file (default: stderr only)", cxxopts::value(g.log_file))(
            "log-format", "text or json", cxxopts::value(g.log_format)->default_value("text"))(
            "debug", "Log debug messages", cxxopts::value(g.debug))(
            "v,version", "Print the version", cxxopts::value(version))("h,help", "Show this help",
                                                                       cxxopts::value(help))(
            "systemd-cgroup", "Accepted for runc compatibility; rt manages cgroups itself",
            cxxopts::value(systemd))("criu", "Accepted for runc compatibility; ignored",
                                     cxxopts::value(criu))(
            "rootless", "Accepted for runc compatibility; ignored", cxxopts::value(rootless));
        auto r = o.parse(cmd_at, argv);
        if (g.log_format != "text" && g.log_format != "json")
            throw rt::Error("--log-format: invalid value \"" + g.log_format + "\" (text or json)");
        rt::cli::configure_logging(g);
        if (version) {
            std::cout << version_text();
            return 0;
        }
        if (help || cmd_at >= argc) {
            std::cout << usage(o);
            return help ? 0 : 1;
        }
        if (systemd) rt::cli::log_message(rt::LogLevel::Debug, "--systemd-cgroup: rt uses cgroupfs paths");
        std::string name = argv[cmd_at];
        auto it = commands().find(name);
        if (it == commands().end()) throw rt::Error("unknown command \"" + name + "\" (see rt --help)");
        Args args(argv + cmd_at, argv + argc);
        return it->second.first(g, args);
    } catch (const cxxopts::exceptions::exception& e) {
        rt::cli::log_message(rt::LogLevel::Error, e.what());
    } catch (const std::exception& e) {
        rt::cli::log_message(rt::LogLevel::Error, e.what());
    }
    return 1;
}
