#include "init.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "hooks.hpp"
#include "process.hpp"
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

// Close every fd this process inherited from rt except stdio, the preserved fds and the ones the
// init itself needs (process.hpp).
void close_inherited_fds(const Config& cfg) {
    std::vector<int> keep = {cfg.sync_fd, cfg.exec_fd};
    for (const auto& j : cfg.join) keep.push_back(j.second);
    process::close_inherited_fds(cfg.preserve_fds, std::move(keep));
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
    process::Executable exe = process::open_executable(proc, cfg.runtime_exe);

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
        security::apply(proc, *cfg.security, security::listener_over(conn));
        if (::chdir(proc.cwd.c_str()) < 0) throw_errno("chdir to process.cwd " + proc.cwd);
        // A cwd reached through a leaked fd lies outside the root: getcwd(3) fails then.
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
            throw Error("process.cwd " + proc.cwd + ": outside the container's root filesystem");
        process::execute(proc, exe, cfg.preserve_fds, cfg.sigmask);
    } catch (const std::exception& e) {
        try {
            sync::send(conn, sync::Msg::Error, e.what());
        } catch (...) {
        }
        throw;
    }
}

}  // namespace

void run(const Config& cfg) {
    sync::run_child(cfg.sync_fd, [&] { run_steps(cfg); });
}

}  // namespace rt::init
