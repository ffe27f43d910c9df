// rt start ID: run the process of a created container.
#include "cli.hpp"

namespace rt::cli {

int cmd_start(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt start", "Start the process of a created container");
    o.custom_help("<container-id>");
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    make_runtime(g).start(container_id(pos, "start"));
    return 0;
}

}  // namespace rt::cli
