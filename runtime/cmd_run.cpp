// rt run [--bundle DIR] [--detach] [--keep] [--pid-file F] [--console-socket S] [--no-pivot]
//        [--no-new-keyring] [--preserve-fds N] ID
// In the foreground rt's exit code is the container's (128+N when killed by signal N).
#include "cli.hpp"

namespace rt::cli {

void add_create_options(cxxopts::Options& o, rt::CreateOptions& c);
int listen_fds();

int cmd_run(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt run", "Create and start a container; wait for it unless --detach");
    o.custom_help("[options] <container-id>");
    rt::RunOptions r;
    add_create_options(o, r);
    o.add_options()("d,detach", "Return once the container has started", cxxopts::value(r.detach))(
        "keep", "Do not delete the container after it exits", cxxopts::value(r.keep));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "run");
    if (r.preserve_fds < 0) throw Error("--preserve-fds: must not be negative");
    r.listen_fds = listen_fds();
    return make_runtime(g).run(id, r);
}

}  // namespace rt::cli
