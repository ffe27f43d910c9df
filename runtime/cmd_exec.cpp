// rt exec [--process FILE] [--tty] [--detach] [--pid-file F] [--console-socket S] [--cwd DIR]
//         [--env K=V]... [--user UID[:GID]] [--additional-gids G]... [--cap CAP]...
//         [--no-new-privs] [--apparmor P] [--process-label L] [--preserve-fds N]
//         [--cgroup [CTL:]PATH] ID [CMD ARGS...]
// Options end at the container id: what follows is the command, dashes and all (as runc).
// In the foreground rt's exit code is the process's (128+N when killed by signal N).
#include <string_view>

#include "cli.hpp"

namespace rt::cli {

namespace {

// Index in args of the container id: the first argument that is neither an option nor the value
// of one (args[0] is the command name).
size_t find_id(const Args& args) {
    static constexpr std::string_view with_value[] = {"-p",
                                                      "--process",
                                                      "--pid-file",
                                                      "--console-socket",
                                                      "--cwd",
                                                      "-e",
                                                      "--env",
                                                      "-u",
                                                      "--user",
                                                      "-g",
                                                      "--additional-gids",
                                                      "-c",
                                                      "--cap",
                                                      "--apparmor",
                                                      "--process-label",
                                                      "--preserve-fds",
                                                      "--cgroup"};
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") return i + 1;
        if (a.empty() || a[0] != '-' || a == "-") return i;
        for (auto w : with_value)
            if (a == w) ++i;
    }
    return args.size();
}

}  // namespace

int cmd_exec(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt exec", "Run a process in a running container");
    o.custom_help("[options] <container-id> <command> [args...]");
    rt::ExecOptions e;
    o.add_options()("p,process",
                    "process.json describing the process (runc's format; the flags below that "
                    "describe the process are then ignored)",
                    cxxopts::value(e.process_file))("t,tty", "Allocate a pseudo-terminal",
                                                    cxxopts::value(e.tty))(
        "d,detach", "Return once the process has started", cxxopts::value(e.detach))(
        "pid-file", "File to write the process's pid to", cxxopts::value(e.pid_file))(
        "console-socket", "AF_UNIX socket that receives the pty master (--tty)",
        cxxopts::value(e.console_socket))("cwd", "Working directory in the container", cxxopts::value(e.cwd))(
        "e,env", "Set an environment variable K=V (repeatable)", cxxopts::value(e.env))(
        "u,user", "UID[:GID] to run as", cxxopts::value(e.user))(
        "g,additional-gids", "Additional group id (repeatable)", cxxopts::value(e.additional_gids))(
        "c,cap", "Add a capability (repeatable)", cxxopts::value(e.caps))("no-new-privs", "Set no_new_privs",
                                                                          cxxopts::value(e.no_new_privs))(
        "apparmor", "AppArmor profile for the process", cxxopts::value(e.apparmor))(
        "process-label", "SELinux label for the process", cxxopts::value(e.process_label))(
        "preserve-fds", "Pass N extra fds (3 .. 3+N-1) into the container", cxxopts::value(e.preserve_fds))(
        "cgroup", "Run in an existing sub-cgroup [CONTROLLER:]PATH of the container's",
        cxxopts::value(e.cgroup));
    size_t at = find_id(args);
    Args options(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(std::min(at, args.size())));
    std::vector<std::string> pos;
    if (!parse(o, options, pos)) return 0;
    if (at >= args.size()) throw Error("exec: container id cannot be empty");
    std::string id = args[at];
    e.args.assign(args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end());
    return make_runtime(g).exec(id, e);
}

}  // namespace rt::cli
