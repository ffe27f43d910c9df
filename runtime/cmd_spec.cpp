// rt spec [-b DIR] [--rootless] [--from-lxc FILE] [edit options] [-- ARGS...]: write a config.json
// (rt's default, or an LXC config converted), or edit an existing one with the options.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "rt/error.hpp"
#include "rt/spec_edit.hpp"

namespace rt::cli {

int cmd_spec(const GlobalOptions& /*g*/, const Args& args) {
    cxxopts::Options opts(
        "rt spec",
        "Write config.json into the bundle directory: rt's default, or an LXC config converted; "
        "with edit options, edit an existing config.json");
    opts.custom_help("[options] [-- ARGS...]");
    opts.add_options()                                                                            //
        ("b,bundle", "bundle directory", cxxopts::value<std::string>()->default_value("."))       //
        ("rootless", "the default for a rootless container")                                      //
        ("from-lxc", "convert this LXC config", cxxopts::value<std::string>())                    //
        ("rootfs", "root.path", cxxopts::value<std::string>())                                    //
        ("args", "the command: every argument after --args (as after --)")                        //
        ("env", "set NAME=VALUE in the environment (repeatable)", cxxopts::value<std::string>())  //
        ("cwd", "working directory (absolute)", cxxopts::value<std::string>())                    //
        ("user", "UID[:GID] (GID defaults to UID)", cxxopts::value<std::string>())                //
        ("hostname", "hostname (and a uts namespace)", cxxopts::value<std::string>())             //
        ("bind", "bind-mount SRC:DST[:ro] (repeatable)", cxxopts::value<std::string>())           //
        ("tmpfs", "mount a tmpfs at DST[:SIZE] (repeatable)", cxxopts::value<std::string>())      //
        ("readonly", "make the root filesystem read-only")                                        //
        ("memory", "memory limit in bytes (k, m, g suffixes)", cxxopts::value<std::string>())     //
        ("pids", "maximum number of processes", cxxopts::value<std::string>())                    //
        ("cpus", "CPU quota in CPUs (e.g. 1.5)", cxxopts::value<std::string>())                   //
        ("network", "none, host, bridge or bridge=NAME", cxxopts::value<std::string>())           //
        ("terminal", "process.terminal true")                                                     //
        ("no-terminal", "process.terminal false")                                                 //
        ("seccomp", "add a seccomp profile: \"default\" is rt's (contrib/seccomp.md)",
         cxxopts::value<std::string>())  //
        ("h,help", "show this help");

    // Everything after "--" or "--args" is the container's command, not rt's options.
    auto tail = std::find_if(args.begin() + 1, args.end(),
                             [](const std::string& a) { return a == "--" || a == "--args"; });
    std::vector<const char*> argv;
    for (auto it = args.begin(); it != tail; ++it) argv.push_back(it->c_str());
    auto r = opts.parse(static_cast<int>(argv.size()), argv.data());
    if (r.count("help")) {
        std::cout << opts.help();
        return 0;
    }
    if (!r.unmatched().empty()) throw Error("spec: unexpected argument \"" + r.unmatched()[0] + "\"");

    rt::spec::GenerateOptions o;
    o.bundle = r["bundle"].as<std::string>();
    o.rootless = r.count("rootless") > 0;
    if (r.count("from-lxc")) o.from_lxc = r["from-lxc"].as<std::string>();
    rt::spec::Edits& e = o.edits;
    auto opt = [&](const char* name, std::optional<std::string>& out) {
        if (r.count(name)) out = r[name].as<std::string>();
    };
    opt("rootfs", e.rootfs);
    opt("cwd", e.cwd);
    opt("user", e.user);
    opt("hostname", e.hostname);
    opt("memory", e.memory);
    opt("pids", e.pids);
    opt("cpus", e.cpus);
    opt("network", e.network);
    opt("seccomp", e.seccomp);
    // Repeatable options, in command-line order (cxxopts keeps each occurrence in arguments()).
    for (const auto& kv : r.arguments()) {
        if (kv.key() == "env") e.env.push_back(kv.value());
        if (kv.key() == "bind") e.binds.push_back(kv.value());
        if (kv.key() == "tmpfs") e.tmpfs.push_back(kv.value());
    }
    e.readonly = r.count("readonly") > 0;
    if (r.count("terminal") && r.count("no-terminal"))
        throw Error("spec: --terminal and --no-terminal conflict");
    if (r.count("terminal")) e.terminal = true;
    if (r.count("no-terminal")) e.terminal = false;
    if (tail != args.end()) e.args = std::vector<std::string>(tail + 1, args.end());

    for (const auto& w : rt::spec::generate(o)) log_message(LogLevel::Warning, w);
    return 0;
}

}  // namespace rt::cli
