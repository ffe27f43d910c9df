// rt delete [--force] ID
#include "cli.hpp"

namespace rt::cli {

int cmd_delete(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt delete", "Delete a stopped container (--force: any container)");
    o.custom_help("[--force] <container-id>");
    bool force = false;
    o.add_options()("f,force", "Kill the container first if it is still running", cxxopts::value(force));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "delete");
    auto rt = make_runtime(g);
    if (force) {
        // As runc: deleting with --force what does not exist is not an error.
        try {
            rt.remove(id, true);
        } catch (const Error& e) {
            if (std::string(e.what()).find("does not exist") == std::string::npos) throw;
        }
        return 0;
    }
    rt.remove(id, false);
    return 0;
}

}  // namespace rt::cli
