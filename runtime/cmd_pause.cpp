// rt pause ID: freeze every process of a running container (v1 freezer, v2 cgroup.freeze).
#include "cli.hpp"

namespace rt::cli {

int cmd_pause(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt pause", "Suspend every process in the container");
    o.custom_help("<container-id>");
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    make_runtime(g).pause(container_id(pos, "pause"));
    return 0;
}

}  // namespace rt::cli
