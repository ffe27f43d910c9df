// Runtime::exec: a new process in a running container's namespaces and cgroup (`rt exec`).
//
// How the process comes to life (one child of rt, no re-exec of rt, no intermediate process):
//
//  rt (parent)                                   exec child
//  --------------------------------------------  ------------------------------------------------
//  state.json: pid + start time; pidfd of the
//  init, checked to be that very process
//  which of the init's namespaces differ from
//  rt's (inode of /proc/<pid>/ns/*)
//  setns(init pidfd, CLONE_NEWPID): rt's
//  pid_for_children only (rt stays where it is)
//  clone3(CLONE_PIDFD [| CLONE_INTO_CGROUP v2]) ► born in the container's pid namespace (and v2
//  pid_for_children restored                     cgroup); non-dumpable; closes every fd but
//                                                stdio, preserved fds, the sync socket, the pidfd
//                                                joins the v1 cgroups (tasks), then
//                                                setns(init pidfd, user|mnt|net|ipc|uts|cgroup|
//                                                time): all at once, as the init's
//                                                session keyring; tty: pty from the container's
//  ◄──────────────────────── PTY_MASTER {fd}     /dev/ptmx, made the controlling terminal
//  forward it to --console-socket, or keep it    user, groups, rlimits, capabilities, umask,
//  to relay in the foreground                    no_new_privs (security::apply), chdir cwd,
//  ◄── SECCOMP_LISTENER {path, metadata} {fd}    seccomp (last, see security.hpp); with notify
//  fd + state to listenerPath; LISTEN_DONE ──►   rules the listener fd goes out first; execve
//  ◄──────────────────────── ERROR {message}     at any step; the child then _exit(1)s
//  EOF (the socket is CLOEXEC): the process runs
//  pid file; detached: return 0; foreground:
//  supervise (signals, terminal), exit code
//
// The child is rt's own child (the container's pid namespace was entered for children only), so
// a foreground rt reaps it directly: no subreaper, no zombie, and its pidfd is from clone3.
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <optional>

#include "cgroups.hpp"
#include "fd.hpp"
#include "init.hpp"
#include "process.hpp"
#include "rt/container.hpp"
#include "rt/spec.hpp"
#include "seccomp.hpp"
#include "security.hpp"
#include "state.hpp"
#include "sync.hpp"
#include "terminal.hpp"
#include "util.hpp"

namespace rt {

namespace {

using spec::NamespaceType;

// The namespaces a process can be in, in the order /proc/<pid>/ns names them.
constexpr std::pair<const char*, NamespaceType> kNamespaces[] = {
    {"user", NamespaceType::User},     {"mnt", NamespaceType::Mount}, {"pid", NamespaceType::Pid},
    {"net", NamespaceType::Network},   {"ipc", NamespaceType::Ipc},   {"uts", NamespaceType::Uts},
    {"cgroup", NamespaceType::Cgroup}, {"time", NamespaceType::Time},
};

// CLONE_NEW* flags of the namespaces of pid that are not rt's own (same inode and device: the same
// namespace; joining one's own user namespace is even an error). A namespace type the kernel lacks
// is skipped.
int differing_namespaces(pid_t pid) {
    int flags = 0;
    std::string base = "/proc/" + std::to_string(pid) + "/ns/";
    for (const auto& [name, type] : kNamespaces) {
        struct stat theirs {};
        struct stat ours {};
        if (::stat((base + name).c_str(), &theirs) < 0) {
            if (errno == ENOENT) continue;
            throw_errno("stat " + base + name);
        }
        if (::stat((std::string("/proc/self/ns/") + name).c_str(), &ours) < 0)
            throw_errno(std::string("stat /proc/self/ns/") + name);
        if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) flags |= init::clone_flag(type);
    }
    return flags;
}

uint32_t parse_id(const std::string& s, const std::string& what) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        throw Error(what + ": \"" + s + "\" is not a number below 2^32");
    return v;
}

// K=V replaces an existing K, else is appended (the last value wins, as in runc).
void set_env(std::vector<std::string>& env, const std::string& kv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
        throw Error("--env \"" + kv + "\": must have the form NAME=VALUE");
    std::string key = kv.substr(0, eq + 1);
    for (auto& e : env)
        if (e.rfind(key, 0) == 0) {
            e = kv;
            return;
        }
    env.push_back(kv);
}

// The process to start: --process's process.json as is, or the container's process with the
// flags applied over it (runc's exec).
spec::Process make_process(const state::Record& r, const ExecOptions& o) {
    if (!o.process_file.empty()) {
        std::string text = read_file(o.process_file);
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
            std::string msg = e.what();
            if (auto pos = msg.find("] "); pos != std::string::npos) msg.erase(0, pos + 2);
            throw Error(o.process_file + ": " + msg);
        }
        return spec::parse_process(doc, o.process_file);
    }
    spec::Process p;
    if (r.exec_defaults.is_object() && r.exec_defaults.contains("process"))
        p = spec::parse_process(r.exec_defaults["process"], "state.json: exec_defaults.process");
    else
        p = *spec::load_bundle(r.state.bundle).process;  // a container created before exec_defaults
    if (o.args.empty()) throw Error("exec args cannot be empty");
    p.args = o.args;
    p.terminal = o.tty;
    p.consoleSize.reset();
    if (!o.cwd.empty()) {
        if (o.cwd.front() != '/') throw Error("--cwd \"" + o.cwd + "\": must be an absolute path");
        p.cwd = o.cwd;
    }
    for (const auto& kv : o.env) set_env(p.env, kv);
    if (!o.user.empty()) {
        auto colon = o.user.find(':');
        p.user.uid = parse_id(o.user.substr(0, colon), "--user");
        p.user.gid = colon == std::string::npos ? 0 : parse_id(o.user.substr(colon + 1), "--user");
    }
    for (const auto& g : o.additional_gids) p.user.additionalGids.push_back(parse_id(g, "--additional-gids"));
    if (!o.caps.empty()) {
        auto& c = p.capabilities ? *p.capabilities : p.capabilities.emplace();
        for (const auto& cap : o.caps) {
            if (security::capability_number(cap) < 0)
                throw Error("--cap \"" + cap + "\": unknown capability");
            // Not the inheritable set (runc since CVE-2022-29162).
            for (auto* set : {&c.bounding, &c.effective, &c.permitted, &c.ambient}) set->push_back(cap);
        }
    }
    if (o.no_new_privs) p.noNewPrivileges = true;
    if (!o.apparmor.empty()) p.apparmorProfile = o.apparmor;
    if (!o.process_label.empty()) p.selinuxLabel = o.process_label;
    return p;
}

// LSM labels asked for by this exec (flags or --process) need that LSM on the host; applying
// them is the security module's (privilege-reduction issue). Those inherited from the
// container's own process were accepted at create and are passed through.
void check_lsm(const spec::Process& p, const ExecOptions& o) {
    bool asked_aa = !o.apparmor.empty() || (!o.process_file.empty() && !p.apparmorProfile.empty());
    bool asked_se = !o.process_label.empty() || (!o.process_file.empty() && !p.selinuxLabel.empty());
    if (asked_aa) {
        auto enabled = read_file_if_exists("/sys/module/apparmor/parameters/enabled");
        if (!enabled || enabled->empty() || (*enabled)[0] != 'Y')
            throw Error("apparmor profile \"" + p.apparmorProfile +
                        "\" requested but AppArmor is not enabled on this host");
    }
    if (asked_se && ::access("/sys/fs/selinux/enforce", F_OK) != 0)
        throw Error("SELinux label \"" + p.selinuxLabel +
                    "\" requested but SELinux is not enabled on this host");
}

// The container's cgroup directories, or with --cgroup [CONTROLLER:]PATH the existing sub-cgroup
// PATH below them (only in CONTROLLER's hierarchy when one is named; "" names the v2 one).
std::unique_ptr<cgroups::Manager> exec_cgroup(const nlohmann::json& saved, const std::string& sub) {
    if (sub.empty()) return cgroups::load(saved);
    auto colon = sub.find(':');
    std::optional<std::string> ctl;
    std::string path = sub;
    if (colon != std::string::npos) {
        ctl = sub.substr(0, colon);
        path = sub.substr(colon + 1);
    }
    if (path.empty() || path.front() == '/')
        throw Error("--cgroup \"" + sub + "\": PATH must be relative to the container's cgroup");
    for (const auto& part : split(path, '/'))
        if (part == "..") throw Error("--cgroup \"" + sub + "\": PATH must not contain \"..\"");
    std::vector<std::string> dirs = saved.value("dirs", std::vector<std::string>{});
    bool matched = false;
    for (auto& d : dirs) {
        if (ctl) {
            // /sys/fs/cgroup/<hierarchy>/...: "cpu,cpuacct", "systemd" (name=systemd), "unified"
            auto parts = split(d, '/');
            std::string h = parts.size() > 4 ? parts[4] : "";
            bool is = h == "unified" ? ctl->empty() : false;
            for (const auto& c : split(h, ','))
                if (c == *ctl || "name=" + c == *ctl) is = true;
            if (dirs.size() == 1 && ctl->empty()) is = true;  // a unified host
            if (!is) continue;
        }
        d += "/" + path;
        struct stat st {};
        if (::stat(d.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
            throw Error("--cgroup \"" + sub + "\": no cgroup " + d);
        matched = true;
    }
    if (!matched)
        throw Error("--cgroup \"" + sub + "\": the container has no cgroup of controller \"" +
                    ctl.value_or("") + "\"");
    return cgroups::load({{"dirs", dirs}});
}

struct ChildConfig {
    const spec::Process* process = nullptr;
    int sync_fd = -1;
    int init_pidfd = -1;
    int ns_flags = 0;  // joined with setns(init_pidfd) (CLONE_NEWPID already, for children)
    int preserve_fds = 0;
    cgroups::Manager* cgroup = nullptr;
    bool cgroup_v2_joined = false;
    sigset_t sigmask{};
    const security::Plan* security = nullptr;  // the container's seccomp, this process's labels
    struct stat runtime_exe {};                // rt's own binary: never executed in the container
};

void child_steps(const ChildConfig& c) {
    const spec::Process& p = *c.process;
    // Until execve nothing else may open /proc/<pid>/exe of this process or ptrace it.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_DUMPABLE)");
    process::close_inherited_fds(c.preserve_fds, {c.sync_fd, c.init_pidfd});
    // Cgroups first: the v1 hierarchies are written through rt's /sys/fs/cgroup, as root of the
    // host's user namespace.
    with_context("join cgroup", [&] { c.cgroup->join_self(c.cgroup_v2_joined); });
    if (c.ns_flags && ::setns(c.init_pidfd, c.ns_flags) < 0) {
        if (errno == ESRCH) throw Error("cannot exec in a stopped container");
        throw_errno("join the container's namespaces");
    }
    ::close(c.init_pidfd);
    // A session keyring of its own, as the container init has (runc's exec does the same).
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) < 0 && errno != ENOSYS)
        throw_errno("join session keyring");

    if (p.terminal) {
        terminal::Pty pty = terminal::open_pty(p.consoleSize);
        terminal::make_controlling(pty.slave.get());
        sync::send(c.sync_fd, sync::Msg::PtyMaster, {}, pty.master.get());
    } else if (::setsid() < 0) {  // a session of its own, as runc
        throw_errno("setsid");
    }

    struct stat st {};
    if (::stat(p.cwd.c_str(), &st) < 0) throw_errno("process.cwd " + p.cwd);
    process::Executable exe = process::open_executable(p, c.runtime_exe);
    // Labels, the user, capabilities, no_new_privs and the container's seccomp filter (last, or
    // before the user switch without no_new_privs; see security.hpp).
    security::apply(p, *c.security, security::listener_over(c.sync_fd));
    if (::chdir(p.cwd.c_str()) < 0) throw_errno("chdir to process.cwd " + p.cwd);
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
        throw Error("process.cwd " + p.cwd + ": outside the container's root filesystem");
    process::execute(p, exe, c.preserve_fds, c.sigmask);
}

[[noreturn]] void child_main(const ChildConfig& c) {
    sync::run_child(c.sync_fd, [&] { child_steps(c); });
}

// Kills and reaps the exec child unless dismissed: nothing is left behind on an error.
struct ChildGuard {
    ~ChildGuard() {
        if (!pidfd) return;
        pidfd_send_signal(pidfd.get(), SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    UniqueFd pidfd;
    pid_t pid = 0;
};

}  // namespace

int Runtime::exec(const std::string& id, const ExecOptions& opts) {
    return with_context("exec in container \"" + id + "\"", [&]() -> int {
        if (opts.preserve_fds < 0) throw Error("--preserve-fds: must not be negative");
        std::optional<state::StateDir> dir;
        dir.emplace(state::StateDir::open(root_, id, false));
        state::Record r = dir->read();
        state::refresh(r, *dir);
        if (r.state.status == Status::Stopped) throw Error("cannot exec in a stopped container");
        if (r.state.status == Status::Paused) throw Error("cannot exec in a paused container");
        // The pidfd is taken first, then the start time checked: the process it names is the init.
        UniqueFd init_pidfd(pidfd_open(r.state.pid));
        if (!init_pidfd || !process_alive(r.state.pid, r.state.init_start_time))
            throw Error("cannot exec in a stopped container");

        spec::Process proc = make_process(r, opts);
        check_lsm(proc, opts);
        if (proc.terminal && opts.detach && opts.console_socket.empty())
            throw Error("cannot allocate tty if rt will detach without setting console socket");
        if (!proc.terminal && !opts.console_socket.empty())
            throw Error("cannot use console socket if the process will not have a terminal (--tty)");

        std::unique_ptr<cgroups::Manager> cg = exec_cgroup(r.cgroup, opts.cgroup);
        int ns_flags = differing_namespaces(r.state.pid);

        int socks[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) throw_errno("socketpair");
        UniqueFd parent_sock(socks[0]), child_sock(socks[1]);

        std::optional<terminal::ForwardedSignals> signals;
        if (!opts.detach) signals.emplace();

        ChildConfig cfg;
        cfg.process = &proc;
        cfg.sync_fd = child_sock.get();
        cfg.init_pidfd = init_pidfd.get();
        cfg.ns_flags = ns_flags & ~CLONE_NEWPID;
        cfg.preserve_fds = opts.preserve_fds;
        cfg.cgroup = cg.get();
        // The container's seccomp profile (saved at create) applies to every process in it.
        spec::Linux lx;
        if (r.exec_defaults.is_object()) lx.seccomp = r.exec_defaults.value("seccomp", nlohmann::json());
        security::Plan plan = security::prepare(proc, &lx, root_ + "/seccomp");
        cfg.security = &plan;
        if (::stat("/proc/self/exe", &cfg.runtime_exe) < 0) throw_errno("stat /proc/self/exe");
        if (signals)
            cfg.sigmask = signals->original();
        else
            ::sigprocmask(SIG_SETMASK, nullptr, &cfg.sigmask);

        ChildGuard guard;
        {
            // The pid namespace only takes effect for children: rt itself stays in its own.
            std::optional<process::ChildNsRestore> pid_restore;
            if (ns_flags & CLONE_NEWPID) {
                pid_restore.emplace("pid_for_children", CLONE_NEWPID);
                if (::setns(init_pidfd.get(), CLONE_NEWPID) < 0) {
                    // ESRCH: the init exited since it was checked.
                    if (errno == ESRCH) throw Error("cannot exec in a stopped container");
                    throw_errno("join the container's pid namespace");
                }
            }
            int cgroup_fd = cg->clone_into_fd();
            cfg.cgroup_v2_joined = cgroup_fd >= 0;
            int pidfd = -1;
            pid_t pid = process::clone_child(0, &pidfd, cgroup_fd);
            if (pid < 0 && cgroup_fd >= 0) {
                cfg.cgroup_v2_joined = false;  // the child joins the v2 cgroup itself
                pid = process::clone_child(0, &pidfd);
            }
            if (pid < 0) throw_errno("clone exec process");
            if (pid == 0) {
                parent_sock.reset();
                child_main(cfg);  // never returns
            }
            guard.pid = pid;
            guard.pidfd.reset(pidfd);
        }
        child_sock.reset();

        UniqueFd pty_master;
        for (;;) {
            sync::Message m;
            if (!sync::try_recv(parent_sock.get(), m)) break;  // EOF: exec'd (or died: the wait says)
            if (m.type == sync::Msg::Error) throw Error(m.payload);
            if (m.type == sync::Msg::SeccompListener && m.fd) {
                seccomp::forward_listener(m.payload, m.fd.get(), guard.pid, r.state.to_json());
                sync::send(parent_sock.get(), sync::Msg::ListenerDone);
                continue;
            }
            if (m.type != sync::Msg::PtyMaster)
                throw Error(std::string("sync: unexpected message ") + sync::msg_name(m.type));
            if (!opts.console_socket.empty())
                terminal::send_to_console_socket(opts.console_socket, m.fd.get());
            else
                pty_master = std::move(m.fd);
        }
        parent_sock.reset();
        if (!opts.pid_file.empty())
            with_context("write pid file",
                         [&] { write_file_atomic(opts.pid_file, std::to_string(guard.pid)); });
        UniqueFd child_pidfd = std::move(guard.pidfd);
        if (opts.detach) return 0;

        dir.reset();  // unlock: others may delete or look while it runs
        int status = terminal::supervise(child_pidfd.get(), guard.pid, signals->fd(),
                                         pty_master ? pty_master.get() : -1);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
    });
}

}  // namespace rt
