#include "process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "rt/error.hpp"
#include "util.hpp"

namespace rt::process {

namespace {
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}  // namespace

pid_t clone_child(unsigned long flags, int* pidfd, int cgroup_fd) {
    struct clone_args args {};
    args.flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    args.cgroup = cgroup_fd >= 0 ? static_cast<uint64_t>(cgroup_fd) : 0;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && cgroup_fd >= 0) return -1;
    if (pid < 0 && errno == ENOSYS) {
        pid = ::syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
        if (pid > 0) *pidfd = pidfd_open(static_cast<pid_t>(pid));
    }
    return static_cast<pid_t>(pid);
}

ChildNsRestore::ChildNsRestore(const char* proc_name, int type) : type_(type) {
    fd_.reset(::open((std::string("/proc/self/ns/") + proc_name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) throw_errno(std::string("open /proc/self/ns/") + proc_name);
}

ChildNsRestore::~ChildNsRestore() { ::setns(fd_.get(), type_); }

void close_inherited_fds(int preserve_fds, std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned lo = 3 + static_cast<unsigned>(preserve_fds);
    for (int k : keep) {
        if (k < 0 || static_cast<unsigned>(k) < lo) continue;
        if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(k) - 1, 0);
        lo = static_cast<unsigned>(k) + 1;
    }
    ::syscall(SYS_close_range, lo, ~0U, 0);
}

std::string find_executable(const spec::Process& p) {
    const std::string& name = p.args.at(0);
    auto is_exec = [](const std::string& path) {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
    };
    if (name.find('/') != std::string::npos) {
        // A relative path with a '/' is relative to process.cwd, where execve will run.
        std::string full = name.front() == '/' ? name : p.cwd + "/" + name;
        struct stat st {};
        if (::stat(full.c_str(), &st) < 0) throw_errno("exec \"" + name + "\"");
        if (!is_exec(full)) throw_errno("exec \"" + name + "\"", EACCES);
        return full;
    }
    std::string path = kDefaultPath;
    for (const auto& e : p.env)
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    size_t start = 0;
    for (;;) {
        size_t end = path.find(':', start);
        std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
        std::string cand = (dir.empty() ? "." : dir) + "/" + name;
        if (is_exec(cand)) return cand;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    throw Error("exec \"" + name + "\": executable file not found in $PATH");
}

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

[[noreturn]] void refuse_runtime(const std::string& name) {
    throw Error("exec \"" + name +
                "\": refusing to run the runtime's own binary inside the container (CVE-2019-5736)");
}

// Follow a "#!" line to its interpreter, as binfmt_script would, up to the kernel's depth.
void check_interpreters(const std::string& name, int fd, const std::string& cwd, const struct stat& rt_exe,
                        int depth) {
    char head[256] = {};
    ssize_t n = ::pread(fd, head, sizeof head - 1, 0);
    if (n < 2 || head[0] != '#' || head[1] != '!') return;
    std::string_view line(head + 2, static_cast<size_t>(n) - 2);
    line = line.substr(0, line.find('\n'));
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos) return;
    line.remove_prefix(b);
    std::string interp(line.substr(0, line.find_first_of(" \t")));
    if (interp.front() != '/') interp = cwd + "/" + interp;
    UniqueFd ifd(::open(interp.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ifd) return;  // execve will report it
    struct stat st {};
    if (::fstat(ifd.get(), &st) == 0 && same_file(st, rt_exe)) refuse_runtime(name);
    if (depth < 4) check_interpreters(name, ifd.get(), cwd, rt_exe, depth + 1);
}

}  // namespace

Executable open_executable(const spec::Process& p, const struct stat& runtime_exe) {
    Executable e;
    e.path = find_executable(p);
    std::string at_cwd = e.path.front() == '/' ? e.path : p.cwd + "/" + e.path;
    // Readable, to look for "#!"; an execute-only file is opened O_PATH (it cannot be a script
    // an interpreter could read anyway).
    bool readable = true;
    e.fd.reset(::open(at_cwd.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!e.fd && errno == EACCES) {
        readable = false;
        e.fd.reset(::open(at_cwd.c_str(), O_PATH | O_CLOEXEC));
    }
    if (!e.fd) throw_errno("exec \"" + p.args[0] + "\"");
    struct stat st {};
    if (::fstat(e.fd.get(), &st) < 0) throw_errno("exec \"" + p.args[0] + "\"");
    if (same_file(st, runtime_exe)) refuse_runtime(p.args[0]);
    if (readable) {
        char magic[2] = {};
        e.script = ::pread(e.fd.get(), magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
        if (e.script) check_interpreters(p.args[0], e.fd.get(), p.cwd, runtime_exe, 1);
    }
    return e;
}

void execute(const spec::Process& p, const Executable& exe, int preserve_fds, const sigset_t& sigmask) {
    std::vector<char*> argv, envp;
    for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    // Only 0, 1, 2 and the preserved fds cross into the container (CVE-2024-21626).
    ::syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    ::sigprocmask(SIG_SETMASK, &sigmask, nullptr);
    // A binary runs from the fd that was checked. A script needs its path: the interpreter gets
    // it as an argument, and /dev/fd/N of a CLOEXEC fd would be gone by then.
    if (exe.script)
        ::execve(exe.path.c_str(), argv.data(), envp.data());
    else
        ::syscall(SYS_execveat, exe.fd.get(), "", argv.data(), envp.data(), AT_EMPTY_PATH);
    throw_errno("exec \"" + p.args[0] + "\"");
}

}  // namespace rt::process
