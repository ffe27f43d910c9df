// rt state ID: the container's state as JSON (OCI state plus runc's created and owner).
#include <iostream>

#include "cli.hpp"

namespace rt::cli {

int cmd_state(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt state", "Print the state of a container as JSON");
    o.custom_help("<container-id>");
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    auto st = make_runtime(g).state(container_id(pos, "state"));
    std::cout << st.to_json().dump(2) << std::endl;
    return 0;
}

}  // namespace rt::cli
