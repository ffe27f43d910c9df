#include "init.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "hooks.hpp"
#include "rootfs.hpp"
#include "rt/error.hpp"
#include "security.hpp"
#include "sync.hpp"
#include "terminal.hpp"
#include "util.hpp"

namespace rt::init {

int clone_flag(spec::NamespaceType t) {
    switch (t) {
        case spec::NamespaceType::Pid:
            return CLONE_NEWPID;
        case spec::NamespaceType::Network:
            return CLONE_NEWNET;
        case spec::NamespaceType::Mount:
            return CLONE_NEWNS;
        case spec::NamespaceType::Ipc:
            return CLONE_NEWIPC;
        case spec::NamespaceType::Uts:
            return CLONE_NEWUTS;
        case spec::NamespaceType::User:
            return CLONE_NEWUSER;
        case spec::NamespaceType::Cgroup:
            return CLONE_NEWCGROUP;
        case spec::NamespaceType::Time:
            return CLONE_NEWTIME;
    }
    return 0;
}

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The executable as execve will see it: args[0] itself when it has a '/', else the first match
// in the container's PATH (process.env, as runc does), checked after pivot_root.
std::string find_executable_path(const spec::Process& p) {
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

// Close every fd this process inherited from rt except stdio, the preserved fds and the ones the
// init itself needs: the state directory's lock must not outlive `rt create`, and nothing of rt's
// may reach the container (CVE-2024-21626).
void close_inherited_fds(const Config& cfg) {
    std::vector<int> keep = {cfg.sync_fd, cfg.exec_fd};
    for (const auto& j : cfg.join) keep.push_back(j.second);
    std::sort(keep.begin(), keep.end());
    unsigned lo = 3 + static_cast<unsigned>(cfg.preserve_fds);
    for (int k : keep) {
        if (k < 0 || static_cast<unsigned>(k) < lo) continue;
        if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, static_cast<unsigned>(k) - 1, 0);
        lo = static_cast<unsigned>(k) + 1;
    }
    ::syscall(SYS_close_range, lo, ~0U, 0);
}

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

void run_steps(const Config& cfg) {
    const spec::Spec& s = *cfg.spec;
    const spec::Process& proc = *s.process;
    int sock = cfg.sync_fd;

    // Until execve nothing else may open /proc/<pid>/exe of this process or ptrace it.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_DUMPABLE)");
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_PDEATHSIG)");

    close_inherited_fds(cfg);
    if (cfg.cgroup) with_context("join cgroup", [&] { cfg.cgroup->join_self(cfg.cgroup_v2_joined); });

    sync::Message m = sync::recv(sock);
    if (m.type != sync::Msg::Go) throw Error("sync: expected GO");

    for (const auto& [type, fd] : cfg.join)
        if (::setns(fd, clone_flag(type)) < 0)
            throw_errno(std::string("join ") + spec::namespace_type_name(type) + " namespace");
    if (cfg.in_user_ns) {
        // Become the namespace's root: files made from here on belong to the mapped ids.
        if (::setresgid(0, 0, 0) < 0) throw_errno("setgid 0 in the user namespace");
        if (::setresuid(0, 0, 0) < 0) throw_errno("setuid 0 in the user namespace");
    }
    if (cfg.unshare_flags && ::unshare(cfg.unshare_flags) < 0) throw_errno("unshare namespaces");

    if (!s.hostname.empty() && ::sethostname(s.hostname.data(), s.hostname.size()) < 0)
        throw_errno("set hostname " + s.hostname);
    if (!s.domainname.empty() && ::setdomainname(s.domainname.data(), s.domainname.size()) < 0)
        throw_errno("set domainname " + s.domainname);
    if (!cfg.no_new_keyring) {
        // A fresh session keyring, so the container cannot read the host session's keys.
        if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0 && errno != ENOSYS)
            throw_errno("join session keyring");
    }

    rootfs::Context ctx{&s, cfg.bundle, cfg.in_user_ns, cfg.cgroup_dirs};
    rootfs::prepare(ctx);

    std::string state_json;
    if (cfg.hooks_round_trip) {
        sync::send(sock, sync::Msg::Hooks);
        m = sync::recv(sock);
        if (m.type != sync::Msg::HooksDone) throw Error("sync: expected HOOKS_DONE");
        // Hooks in the container namespace see the pid as the container sees it (runtime-spec).
        auto st = nlohmann::json::parse(m.payload);
        st["pid"] = ::getpid();
        hooks::run_all(s.hooks.createContainer, "createContainer", st.dump());
        st["status"] = "created";
        state_json = st.dump();
    }

    rootfs::enter(ctx, cfg.no_pivot);
    rootfs::finalize(ctx);

    if (!proc.terminal && ::setsid() < 0) throw_errno("setsid");  // a session of its own, as runc
    if (proc.terminal) {
        terminal::Pty pty = terminal::open_pty(proc.consoleSize);
        char name[64] = {};
        if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) throw_errno("ptsname");
        rootfs::bind_console(name);
        terminal::make_controlling(pty.slave.get());
        sync::send(sock, sync::Msg::PtyMaster, name, pty.master.get());
    }

    struct stat st {};
    if (::stat(proc.cwd.c_str(), &st) < 0) throw_errno("process.cwd " + proc.cwd);
    Executable exe = open_executable(proc, cfg.runtime_exe);

    // From here the container outlives `rt create`.
    if (::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_PDEATHSIG)");
    sync::send(sock, sync::Msg::Ready);

    // Wait for `rt start`; from here errors go to it over the accepted connection.
    int conn;
    do conn = ::accept4(cfg.exec_fd, nullptr, nullptr, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0) throw_errno("accept on exec socket");
    ::close(cfg.exec_fd);
    sync::Message go;
    bool started = sync::try_recv(conn, go) && go.type == sync::Msg::Go;
    try {
        if (!started) throw Error("exec socket: no start request");
        hooks::run_all(s.hooks.startContainer, "startContainer", state_json);
        security::apply(proc, *cfg.security, [&](int listener) {
            // `rt start` passes the fd on to listenerPath, outside the container's mount namespace.
            const auto& sc = *cfg.security->seccomp;
            nlohmann::json j = {{"listenerPath", sc.listener_path},
                                {"listenerMetadata", sc.listener_metadata}};
            sync::send(conn, sync::Msg::SeccompListener, j.dump(), listener);
            sync::Message m;
            if (!sync::try_recv(conn, m) || m.type != sync::Msg::ListenerDone)
                throw Error("seccomp: the listener fd did not reach " + sc.listener_path);
        });
        if (::chdir(proc.cwd.c_str()) < 0) throw_errno("chdir to process.cwd " + proc.cwd);
        // A cwd reached through a leaked fd lies outside the root: getcwd(3) fails then.
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
            throw Error("process.cwd " + proc.cwd + ": outside the container's root filesystem");
        exec(proc, exe, cfg.preserve_fds, cfg.sigmask);
    } catch (const std::exception& e) {
        try {
            sync::send(conn, sync::Msg::Error, e.what());
        } catch (...) {
        }
        throw;
    }
}

}  // namespace

Executable open_executable(const spec::Process& p, const struct stat& runtime_exe) {
    Executable e;
    e.path = find_executable_path(p);
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

void exec(const spec::Process& p, const Executable& exe, int preserve_fds, const sigset_t& sigmask) {
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

void run(const Config& cfg) {
    try {
        run_steps(cfg);
    } catch (const std::exception& e) {
        try {
            sync::send(cfg.sync_fd, sync::Msg::Error, e.what());
        } catch (...) {
        }
    }
    ::_exit(1);
}

}  // namespace rt::init
