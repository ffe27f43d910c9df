// rt ps [--format table|json] ID [ps options]: the container's processes. json: the pids as a
// JSON array. table (default): runs the host's `ps` with the given options (default -ef), as
// runc does, and prints its header and the lines whose PID column is one of the container's.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli.hpp"

namespace rt::cli {

namespace {

// Run ps with args, its stdout captured; its stderr is rt's.
std::string run_ps(const std::vector<std::string>& ps_args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw Error("ps: pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error("ps: fork failed");
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>("ps"));
        for (const auto& a : ps_args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp("ps", argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error("ps: `ps" +
                    [&] {
                        std::string s;
                        for (const auto& a : ps_args) s += " " + a;
                        return s;
                    }() +
                    "` failed" + (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (ps not found)" : ""));
    return out;
}

std::vector<std::string> fields(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> f;
    std::string w;
    while (in >> w) f.push_back(w);
    return f;
}

}  // namespace

int cmd_ps(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt ps", "List the processes running in a container");
    o.custom_help("[--format table|json] <container-id> [ps options]");
    std::string format = "table";
    o.add_options()("f,format", "table or json", cxxopts::value(format)->default_value("table"));
    // Options end at the container id: what follows is ps's (`rt ps ID -o pid,comm`).
    Args own;
    size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (i > 0 && (a.empty() || a[0] != '-')) break;
        if (a == "--") {
            ++i;
            break;
        }
        own.push_back(a);
        if ((a == "-f" || a == "--format") && i + 1 < args.size()) own.push_back(args[++i]);
    }
    std::vector<std::string> pos;
    if (!parse(o, own, pos)) return 0;
    if (i >= args.size()) throw Error("ps: container id cannot be empty");
    std::string id = args[i];
    std::vector<std::string> ps_args(args.begin() + static_cast<long>(i) + 1, args.end());
    if (format != "table" && format != "json")
        throw Error("ps: invalid format \"" + format + "\" (table or json)");

    std::vector<int> pids = make_runtime(g).pids(id);
    if (format == "json") {
        std::cout << nlohmann::json(pids).dump() << std::endl;
        return 0;
    }
    if (ps_args.empty()) ps_args = {"-ef"};
    auto text = run_ps(ps_args);
    std::istringstream in(text);
    std::string header;
    std::getline(in, header);
    auto cols = fields(header);
    auto it = std::find(cols.begin(), cols.end(), "PID");
    if (it == cols.end())
        throw Error("ps: no PID column in the output of ps (give ps options that print one)");
    size_t pid_col = static_cast<size_t>(it - cols.begin());
    std::cout << header << "\n";
    for (std::string line; std::getline(in, line);) {
        auto f = fields(line);
        if (f.size() <= pid_col) continue;
        try {
            int p = std::stoi(f[pid_col]);
            if (std::find(pids.begin(), pids.end(), p) != pids.end()) std::cout << line << "\n";
        } catch (...) {
        }
    }
    std::cout << std::flush;
    return 0;
}

}  // namespace rt::cli
