// rt kill [--all] ID [SIGNAL]: SIGNAL as SIGTERM, TERM or 15 (default SIGTERM).
#include <csignal>

#include "cli.hpp"

namespace rt::cli {

int cmd_kill(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt kill", "Send a signal to the container's init (or all its processes)");
    o.custom_help("[--all] <container-id> [signal]");
    bool all = false;
    o.add_options()("a,all", "Signal every process in the container's cgroup", cxxopts::value(all));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "kill", 2);
    int sig = pos.size() > 1 ? rt::parse_signal(pos[1]) : SIGTERM;
    make_runtime(g).kill(id, sig, all);
    return 0;
}

}  // namespace rt::cli
