#include "process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

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

void execute(const spec::Process& p, const std::string& exe, int preserve_fds, const sigset_t& sigmask) {
    std::vector<char*> argv, envp;
    for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    // Only 0, 1, 2 and the preserved fds cross into the container (CVE-2024-21626).
    ::syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
    ::sigprocmask(SIG_SETMASK, &sigmask, nullptr);
    ::execve(exe.c_str(), argv.data(), envp.data());
    throw_errno("exec \"" + p.args[0] + "\"");
}

}  // namespace rt::process
