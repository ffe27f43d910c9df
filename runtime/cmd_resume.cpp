// rt resume ID: thaw a paused container.
#include "cli.hpp"

namespace rt::cli {

int cmd_resume(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt resume", "Resume every process of a paused container");
    o.custom_help("<container-id>");
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    make_runtime(g).resume(container_id(pos, "resume"));
    return 0;
}

}  // namespace rt::cli
