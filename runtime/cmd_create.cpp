// rt create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--no-new-keyring]
//           [--preserve-fds N] ID
#include <unistd.h>

#include <cstdlib>

#include "cli.hpp"

namespace rt::cli {

void add_create_options(cxxopts::Options& o, rt::CreateOptions& c) {
    o.add_options()("b,bundle", "Path to the bundle directory", cxxopts::value(c.bundle)->default_value("."))(
        "pid-file", "File to write the container's init pid to", cxxopts::value(c.pid_file))(
        "console-socket", "AF_UNIX socket that receives the pty master (terminal: true)",
        cxxopts::value(c.console_socket))("no-pivot", "Use MS_MOVE + chroot instead of pivot_root",
                                          cxxopts::value(c.no_pivot))(
        "no-new-keyring", "Do not create a new session keyring", cxxopts::value(c.no_new_keyring))(
        "preserve-fds", "Pass N extra fds (3 .. 3+N-1) into the container", cxxopts::value(c.preserve_fds));
}

// Socket activation: LISTEN_FDS=N meant for this process (LISTEN_PID is rt's pid), as runc's
// activation.Files: 0 when not set, not for us, or not a positive number.
int listen_fds() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* n = std::getenv("LISTEN_FDS");
    if (!pid || !n || std::to_string(::getpid()) != pid) return 0;
    try {
        int v = std::stoi(n);
        return v > 0 ? v : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

int cmd_create(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt create", "Create a container from a bundle; `rt start` runs its process");
    o.custom_help("[options] <container-id>");
    rt::CreateOptions c;
    add_create_options(o, c);
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "create");
    if (c.preserve_fds < 0) throw Error("--preserve-fds: must not be negative");
    c.listen_fds = listen_fds();
    make_runtime(g).create(id, c);
    return 0;
}

}  // namespace rt::cli
