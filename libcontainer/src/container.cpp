// Runtime: the container lifecycle (create, start, state, kill, delete, run, list).
#include "rt/container.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "cgroups.hpp"
#include "fd.hpp"
#include "hooks.hpp"
#include "init.hpp"
#include "network.hpp"
#include "process.hpp"
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

std::string mapping_text(const std::vector<spec::IdMapping>& maps) {
    std::string s;
    for (const auto& m : maps)
        s += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) +
             "\n";
    return s;
}

// What a successful launch hands to create() or run().
struct Launched {
    state::StateDir dir;
    state::Record record;
    pid_t pid = 0;
    UniqueFd pidfd;
    UniqueFd sync;
    UniqueFd pty_master;
};

// socket(2)+bind(2)+listen(2) on <state dir>/exec.sock, named through the directory fd so the
// path length of --root does not matter.
UniqueFd listen_exec_socket(const state::StateDir& dir) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("exec socket");
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::string path = "/proc/self/fd/" + std::to_string(dir.fd()) + "/exec.sock";
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0)
        throw_errno("bind exec socket");
    if (::listen(sock.get(), 1) < 0) throw_errno("listen on exec socket");
    return sock;
}

// Kills and reaps the child, removes the cgroup: everything create made, undone on error.
class LaunchGuard {
public:
    ~LaunchGuard() {
        if (pidfd) {
            pidfd_send_signal(pidfd.get(), SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (cgroup) {
            try {
                cgroup->destroy();
            } catch (...) {
            }
        }
    }
    // Success: hand the pidfd over, keep everything.
    UniqueFd dismiss() {
        cgroup = nullptr;
        return std::move(pidfd);
    }
    UniqueFd pidfd;  // owned here, so it is still open when the destructor needs it
    pid_t pid = 0;
    cgroups::Manager* cgroup = nullptr;
};

std::string hook_state(const ContainerState& s, Status status) {
    ContainerState c = s;
    c.status = status;
    nlohmann::json j = {{"ociVersion", c.ociVersion},
                        {"id", c.id},
                        {"status", status_name(status)},
                        {"pid", c.pid},
                        {"bundle", c.bundle}};
    if (!c.annotations.empty()) j["annotations"] = c.annotations;
    return j.dump();
}

// linux.sysctl may only set what belongs to the container's own namespaces (as runc): IPC
// sysctls need an IPC namespace, net.* a network namespace other than the host's,
// kernel.hostname/domainname a UTS namespace. Anything else would change the host.
void validate_sysctl(const spec::Linux& lx) {
    static const std::set<std::string> kIpc = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                               "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                               "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (const auto& [raw, value] : lx.sysctl) {
        std::string key = raw;
        std::replace(key.begin(), key.end(), '/', '.');
        auto fail = [&](const std::string& why) {
            throw Error("config.json: linux.sysctl: \"" + raw + "\": " + why);
        };
        auto need = [&](NamespaceType t, const char* what) {
            const auto* ns = lx.find_namespace(t);
            if (!ns) fail(std::string("needs a private ") + what + " namespace (linux.namespaces has none)");
            return ns;
        };
        if (kIpc.count(key) || key.rfind("fs.mqueue.", 0) == 0) {
            need(NamespaceType::Ipc, "IPC");
        } else if (key.rfind("net.", 0) == 0) {
            const auto* ns = need(NamespaceType::Network, "network");
            struct stat a {
            }, b{};
            if (!ns->path.empty() && ::stat(ns->path.c_str(), &a) == 0 &&
                ::stat("/proc/self/ns/net", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                fail("the network namespace " + ns->path + " is the host's");
        } else if (key == "kernel.hostname" || key == "kernel.domainname") {
            need(NamespaceType::Uts, "UTS");
        } else {
            fail("not namespaced: setting it would change the host");
        }
    }
}

void validate_for_host(const spec::Spec& s, const CreateOptions& opts, bool foreground,
                       std::vector<std::string>& warnings) {
    if (!s.process) throw Error("config.json: process: required to create a container");
    if (!s.linux) throw Error("config.json: linux: required on Linux");
    if (!s.linux->has_namespace(NamespaceType::Mount))
        throw Error("config.json: linux.namespaces: a mount namespace is required");
    if ((!s.hostname.empty() || !s.domainname.empty()) && !s.linux->has_namespace(NamespaceType::Uts))
        throw Error("config.json: hostname: unable to set hostname without a private UTS namespace");
    if (s.process->terminal && opts.console_socket.empty() && !foreground)
        throw Error("cannot allocate tty if rt will detach without setting console socket");
    if (!s.process->terminal && !opts.console_socket.empty())
        throw Error(
            "cannot use console socket if the container will not have a terminal (process.terminal is "
            "false)");
    const auto* user = s.linux->find_namespace(NamespaceType::User);
    const auto* pid = s.linux->find_namespace(NamespaceType::Pid);
    if (user && !user->path.empty() && pid && pid->path.empty())
        throw Error(
            "config.json: linux.namespaces: a new pid namespace inside a joined user namespace is not "
            "supported");
    if (s.process->capabilities) {
        const auto& c = *s.process->capabilities;
        for (const auto* set : {&c.bounding, &c.effective, &c.inheritable, &c.permitted, &c.ambient})
            for (const auto& name : *set)
                if (security::capability_number(name) < 0)
                    warnings.push_back("config.json: process.capabilities: unknown capability " + name +
                                       ", ignored");
    }
    validate_sysctl(*s.linux);
    struct stat st {};
    if (::stat(s.root.path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        throw Error("config.json: root.path: " + s.root.path + " is not a directory");
}

// Where create puts the cgroup, noted on the state directory before the cgroup exists, so that
// `delete --force` of what an rt killed mid-create leaves (a directory without state.json) can
// remove it. An xattr needs no new inode on the create path; a file where xattrs are refused.
constexpr const char* kCgroupXattr = "user.rt.cgroup";

void remember_cgroup(const state::StateDir& dir, const nlohmann::json& saved) {
    std::string v = saved.dump();
    if (::fsetxattr(dir.fd(), kCgroupXattr, v.data(), v.size(), 0) == 0) return;
    write_file_atomic(dir.path() + "/cgroup.json", v, 0600);
}

std::optional<nlohmann::json> recall_cgroup(int dirfd) {
    std::string v(4096, '\0');
    ssize_t n = ::fgetxattr(dirfd, kCgroupXattr, v.data(), v.size());
    if (n >= 0) {
        v.resize(static_cast<size_t>(n));
    } else {
        UniqueFd f(::openat(dirfd, "cgroup.json", O_RDONLY | O_CLOEXEC));
        if (!f) return std::nullopt;
        auto text = read_file("/proc/self/fd/" + std::to_string(f.get()));
        v = text;
    }
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

Launched launch(const Runtime& rt, const std::string& id, const CreateOptions& opts, bool foreground,
                const sigset_t* orig_mask) {
    std::vector<std::string> warnings;
    spec::Spec s = spec::load_bundle(opts.bundle, &warnings);
    validate_for_host(s, opts, foreground, warnings);
    for (const auto& w : warnings) rt.log(LogLevel::Warning, w);
    security::Plan plan =
        security::prepare(*s.process, s.linux ? &*s.linux : nullptr, rt.root() + "/seccomp");
    if (plan.seccomp)
        rt.log(LogLevel::Debug, plan.seccomp->from_cache ? "seccomp: filter loaded from the cache"
                                                         : "seccomp: filter compiled and cached");
    const auto* netns = s.linux->find_namespace(NamespaceType::Network);
    auto net_plan = network::parse(s.annotations, netns && netns->path.empty());

    state::StateDir dir = state::StateDir::create(rt.root(), id);
    state::Record rec;
    ContainerState& st = rec.state;
    st.ociVersion = s.ociVersion;
    st.id = id;
    st.bundle = opts.bundle;
    {
        char buf[PATH_MAX];
        if (::realpath(opts.bundle.c_str(), buf)) st.bundle = buf;
    }
    st.rootfs = s.root.path;
    st.annotations = s.annotations;
    st.created = rfc3339_now();
    st.owner = user_name(::getuid());
    const spec::Linux& lx = *s.linux;
    rec.own_pid_namespace = lx.has_namespace(NamespaceType::Pid);
    rec.exec_defaults = {{"process", spec::process_to_json(*s.process)}};
    if (!lx.seccomp.is_null()) rec.exec_defaults["seccomp"] = lx.seccomp;
    if (!s.hooks.poststart.empty() || !s.hooks.poststop.empty()) {
        nlohmann::json h = spec::to_json(s).value("hooks", nlohmann::json::object());
        rec.hooks = {{"poststart", h.value("poststart", nlohmann::json::array())},
                     {"poststop", h.value("poststop", nlohmann::json::array())}};
    }

    // The exec socket: the init accepts one connection on it after READY; `rt start` connects.
    UniqueFd exec_sock = listen_exec_socket(dir);

    cgroups::Resources resources = cgroups::parse_resources(lx.resources, "config.json: linux.resources");
    cgroups::add_default_devices(resources, lx.devices);
    std::unique_ptr<cgroups::Manager> cg = cgroups::make(lx.cgroupsPath, id);
    LaunchGuard guard;  // after cg: destroyed before it
    remember_cgroup(dir, cg->save());
    cg->create();
    guard.cgroup = cg.get();
    rec.cgroup = cg->save();

    // Bridge and address lease now; the veth once the child's network namespace exists. The
    // /etc files join the mount list the child builds the rootfs from.
    std::optional<network::Attachment> net;
    if (net_plan) {
        net.emplace(*net_plan, rt.root(), id);
        for (auto& m : network::write_etc_files(*net_plan, *net, s, dir.path()))
            s.mounts.push_back(std::move(m));
    }

    int socks[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0) throw_errno("socketpair");
    UniqueFd parent_sock(socks[0]), child_sock(socks[1]);

    // Namespaces: new ones are made by clone (user ns first, so it owns the rest), joined ones
    // by setns in the child. pid and time namespaces only take effect for children, so rt
    // switches its own pid_for_children / time_for_children around the clone.
    init::Config cfg;
    cfg.spec = &s;
    cfg.bundle = st.bundle;
    cfg.sync_fd = child_sock.get();
    cfg.exec_fd = exec_sock.get();
    cfg.no_pivot = opts.no_pivot;
    cfg.no_new_keyring = opts.no_new_keyring;
    cfg.preserve_fds = opts.listen_fds + opts.preserve_fds;
    if (opts.listen_fds > 0) {
        s.process->env.push_back("LISTEN_FDS=" + std::to_string(opts.listen_fds));
        s.process->env.push_back("LISTEN_PID=1");
    }
    cfg.security = &plan;
    if (::stat("/proc/self/exe", &cfg.runtime_exe) < 0) throw_errno("stat /proc/self/exe");
    cfg.cgroup_dirs = rec.cgroup.value("dirs", std::vector<std::string>{});
    cfg.hooks_round_trip = !s.hooks.prestart.empty() || !s.hooks.createRuntime.empty() ||
                           !s.hooks.createContainer.empty() || !s.hooks.startContainer.empty();
    if (orig_mask)
        cfg.sigmask = *orig_mask;
    else
        ::sigprocmask(SIG_SETMASK, nullptr, &cfg.sigmask);

    std::vector<UniqueFd> ns_fds;
    const auto* user_ns = lx.find_namespace(NamespaceType::User);
    bool user_joined = user_ns && !user_ns->path.empty();
    unsigned long clone_flags = 0;
    std::optional<process::ChildNsRestore> pid_restore, time_restore;
    auto open_ns = [&](const spec::Namespace& n) {
        UniqueFd fd(::open(n.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            throw_errno(std::string("open ") + spec::namespace_type_name(n.type) + " namespace " + n.path);
        int raw = fd.get();
        ns_fds.push_back(std::move(fd));
        return raw;
    };
    if (user_joined) cfg.join.emplace_back(NamespaceType::User, open_ns(*user_ns));
    for (const auto& n : lx.namespaces) {
        if (n.type == NamespaceType::User) {
            if (n.path.empty()) {
                clone_flags |= CLONE_NEWUSER;
                cfg.in_user_ns = true;
            } else {
                cfg.in_user_ns = true;
            }
            continue;
        }
        if (n.type == NamespaceType::Pid || n.type == NamespaceType::Time) {
            const char* child_name = n.type == NamespaceType::Pid ? "pid_for_children" : "time_for_children";
            int type = init::clone_flag(n.type);
            auto& restore = n.type == NamespaceType::Pid ? pid_restore : time_restore;
            if (n.path.empty() && n.type == NamespaceType::Pid) {
                clone_flags |= CLONE_NEWPID;
                continue;
            }
            restore.emplace(child_name, type);
            if (n.path.empty()) {
                if (::unshare(CLONE_NEWTIME) < 0) throw_errno("create time namespace");
                std::string offsets;
                for (const auto& [clock, off] : lx.timeOffsets)
                    offsets +=
                        clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
                if (!offsets.empty()) write_file("/proc/self/timens_offsets", offsets);
            } else if (::setns(open_ns(n), type) < 0) {
                throw_errno(std::string("join ") + spec::namespace_type_name(n.type) + " namespace " +
                            n.path);
            }
            continue;
        }
        if (!n.path.empty()) {
            cfg.join.emplace_back(n.type, open_ns(n));
        } else if (n.type == NamespaceType::Cgroup) {
            cfg.unshare_flags |= CLONE_NEWCGROUP;  // after the child is in its cgroup
        } else if (user_joined) {
            cfg.unshare_flags |= init::clone_flag(n.type);  // owned by the joined user namespace
        } else {
            clone_flags |= static_cast<unsigned long>(init::clone_flag(n.type));
        }
    }

    cfg.cgroup = cg.get();
    int cgroup_fd = cg->clone_into_fd();
    cfg.cgroup_v2_joined = cgroup_fd >= 0;
    int pidfd = -1;
    pid_t pid = process::clone_child(clone_flags, &pidfd, cgroup_fd);
    if (pid < 0 && cgroup_fd >= 0) {
        cfg.cgroup_v2_joined = false;  // the init joins the v2 cgroup itself
        pid = process::clone_child(clone_flags, &pidfd);
    }
    if (pid < 0) throw_errno("clone container init");
    if (pid == 0) {
        parent_sock.reset();
        init::run(cfg);  // never returns
    }
    guard.pid = pid;
    guard.pidfd.reset(pidfd);
    pid_restore.reset();
    time_restore.reset();
    child_sock.reset();
    exec_sock.reset();
    ns_fds.clear();
    st.pid = pid;

    try {
        if (clone_flags & CLONE_NEWUSER) {
            std::string proc = "/proc/" + std::to_string(pid);
            with_context("write uid mappings",
                         [&] { write_file(proc + "/uid_map", mapping_text(lx.uidMappings)); });
            with_context("write gid mappings",
                         [&] { write_file(proc + "/gid_map", mapping_text(lx.gidMappings)); });
        }
        cg->apply(resources, true);  // the init joins the cgroup itself (cgroups.hpp: join_self)
        if (net) {
            with_context("network", [&] { net->attach(pid); });
            rec.network = net->record();
        }
        sync::send(parent_sock.get(), sync::Msg::Go);
    } catch (const Error&) {
        // The child has not been told to go: it has nothing to say; the guard kills it.
        throw;
    }

    Launched out{std::move(dir), std::move(rec), pid, {}, {}, {}};
    for (;;) {
        sync::Message m;
        if (!sync::try_recv(parent_sock.get(), m)) {
            int status = 0;
            ::waitpid(pid, &status, 0);
            guard.pidfd.reset();
            throw Error("container init exited before it was ready (" +
                        (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                             : "status " + std::to_string(WEXITSTATUS(status))) +
                        ")");
        }
        if (m.type == sync::Msg::Error) throw Error(m.payload);
        if (m.type == sync::Msg::Ready) break;
        if (m.type == sync::Msg::PtyMaster) {
            if (!foreground || !opts.console_socket.empty())
                terminal::send_to_console_socket(opts.console_socket, m.fd.get());
            else
                out.pty_master = std::move(m.fd);
        } else if (m.type == sync::Msg::Hooks) {
            std::string state_json = hook_state(out.record.state, Status::Creating);
            hooks::run_all(s.hooks.prestart, "prestart", state_json);
            hooks::run_all(s.hooks.createRuntime, "createRuntime", state_json);
            sync::send(parent_sock.get(), sync::Msg::HooksDone, state_json);
        } else {
            throw Error(std::string("sync: unexpected message ") + sync::msg_name(m.type));
        }
    }

    auto start_time = process_start_time(pid);
    if (!start_time) throw Error("container init exited before it was ready");
    out.record.state.init_start_time = *start_time;
    out.record.state.status = Status::Created;
    out.dir.write(out.record);
    if (!opts.pid_file.empty())
        with_context("write pid file", [&] { write_file_atomic(opts.pid_file, std::to_string(pid)); });
    out.pidfd = guard.dismiss();
    if (net) net->commit();
    out.dir.keep();
    out.sync = std::move(parent_sock);
    return out;
}

// Release a created container's init: connect to its exec socket and say go. The init runs the
// startContainer hooks and execs; the connection is CLOEXEC there, so EOF means the process is
// running, and bytes before it are the init's error. The socket is removed ("running").
void release_init(const state::StateDir& dir, const state::Record& rec) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket");
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::string path = "/proc/self/fd/" + std::to_string(dir.fd()) + "/exec.sock";
    if (path.size() >= sizeof addr.sun_path) throw Error("exec socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
        if (errno == ECONNREFUSED || errno == ENOENT)
            throw Error("cannot start container \"" + dir.id() + "\": its init process is gone");
        throw_errno("connect to exec socket");
    }
    sync::send(sock.get(), sync::Msg::Go);
    std::string err;
    sync::Message m;
    while (sync::try_recv(sock.get(), m)) {
        if (m.type == sync::Msg::Error) {
            err += m.payload;
        } else if (m.type == sync::Msg::SeccompListener && m.fd) {
            seccomp::forward_listener(m.payload, m.fd.get(), rec.state.pid,
                                      nlohmann::json::parse(hook_state(rec.state, Status::Created)));
            sync::send(sock.get(), sync::Msg::ListenerDone);
        } else {
            throw Error(std::string("exec socket: unexpected message ") + sync::msg_name(m.type));
        }
    }
    ::unlinkat(dir.fd(), "exec.sock", 0);
    if (!err.empty()) throw Error(err);
}

// Run the poststart or poststop hooks saved in state.json; failures are warnings (runtime-spec).
void run_saved_hooks(const Runtime& rt, const state::Record& r, const char* kind, Status status) {
    if (!r.hooks.is_object()) return;
    auto saved = r.hooks.value(kind, nlohmann::json::array());
    if (saved.empty()) return;
    spec::Spec tmp = spec::parse({{"ociVersion", r.state.ociVersion}, {"hooks", {{kind, saved}}}});
    const auto& list = std::string(kind) == "poststart" ? tmp.hooks.poststart : tmp.hooks.poststop;
    for (const auto& w : hooks::run_all_warn(list, kind, hook_state(r.state, status)))
        rt.log(LogLevel::Warning, w);
}

void run_poststart(const Runtime& rt, const state::Record& r) {
    run_saved_hooks(rt, r, "poststart", Status::Running);
}

// Wait until a process that is not our child has exited (its pidfd turns readable).
void wait_exit(int pidfd) {
    struct pollfd p {
        pidfd, POLLIN, 0
    };
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

// Kill what is left of a container and wait until each process has exited: its init (checked by
// start time), and, when the container has no pid namespace of its own or with force, every
// process in its cgroup. With more than one process the cgroup is frozen first, so nothing forks
// between reading the pid list and the kill (a fork bomb cannot outrun it); a paused container is
// thawed after the kill so that the signal is delivered. Waits on pidfds, no polling.
void kill_remaining(cgroups::Manager& cg, const state::Record& r, bool force) {
    std::vector<UniqueFd> dying;
    if (r.state.status != Status::Stopped) {
        UniqueFd pidfd(pidfd_open(r.state.pid));
        if (pidfd && process_alive(r.state.pid, r.state.init_start_time)) {
            pidfd_send_signal(pidfd.get(), SIGKILL);
            dying.push_back(std::move(pidfd));
        }
    }
    bool thaw = r.state.status == Status::Paused;
    if (!r.own_pid_namespace || force) {
        std::vector<pid_t> pids = cg.pids();
        if (pids.size() > 1 && !thaw) {
            try {
                cg.freeze(true);
                thaw = true;
                pids = cg.pids();
            } catch (const Error&) {
                // no freezer: kill what is there
            }
        }
        for (pid_t p : pids) {
            UniqueFd fd(pidfd_open(p));
            if (!fd) continue;
            pidfd_send_signal(fd.get(), SIGKILL);
            dying.push_back(std::move(fd));
        }
    }
    if (thaw) cg.freeze(false);
    for (const auto& fd : dying) wait_exit(fd.get());
}

}  // namespace

Runtime::Runtime(std::string root, LogSink log) : root_(std::move(root)), log_(std::move(log)) {}

ContainerState Runtime::create(const std::string& id, const CreateOptions& opts) {
    return with_context("create container \"" + id + "\"", [&] {
        Launched l = launch(*this, id, opts, false, nullptr);
        return l.record.state;
    });
}

void Runtime::start(const std::string& id) {
    with_context("start container \"" + id + "\"", [&] {
        state::StateDir dir = state::StateDir::open(root_, id, true);
        state::Record r = dir.read();
        state::refresh(r, dir);
        if (r.state.status == Status::Stopped) throw Error("cannot start a container that has stopped");
        if (r.state.status != Status::Created) throw Error("cannot start an already running container");
        release_init(dir, r);
        run_poststart(*this, r);
    });
}

ContainerState Runtime::state(const std::string& id) {
    state::StateDir dir = state::StateDir::open(root_, id, false);
    state::Record r = dir.read();
    state::refresh(r, dir);
    return r.state;
}

std::vector<ContainerState> Runtime::list() {
    std::vector<ContainerState> out;
    DIR* d = ::opendir(root_.c_str());
    if (!d) {
        if (errno == ENOENT) return out;
        throw_errno("list " + root_);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    std::vector<std::string> ids;
    while (struct dirent* e = ::readdir(d))
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) ids.emplace_back(e->d_name);
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) {
        try {
            out.push_back(state(id));
        } catch (const Error&) {
            // being created or deleted right now
        }
    }
    return out;
}

void Runtime::kill(const std::string& id, int sig, bool all) {
    with_context("kill container \"" + id + "\"", [&] {
        state::StateDir dir = state::StateDir::open(root_, id, false);
        state::Record r = dir.read();
        state::refresh(r, dir);
        if (all) {
            auto cg = cgroups::load(r.cgroup);
            auto pids = cg->pids();
            if (pids.empty() && r.state.status == Status::Stopped) throw Error("container not running");
            for (pid_t p : pids) ::kill(p, sig);
            return;
        }
        if (r.state.status == Status::Stopped) throw Error("container not running");
        UniqueFd pidfd(pidfd_open(r.state.pid));
        // The pidfd is taken first, then the start time checked: the process it names is the init.
        if (!pidfd || !process_alive(r.state.pid, r.state.init_start_time))
            throw Error("container not running");
        if (pidfd_send_signal(pidfd.get(), sig) < 0) throw_errno("send signal " + std::to_string(sig));
    });
}

void Runtime::remove(const std::string& id, bool force) {
    with_context("delete container \"" + id + "\"", [&] {
        std::optional<state::StateDir> dir;
        try {
            dir.emplace(state::StateDir::open(root_, id, true));
        } catch (const Error& e) {
            // A directory without state.json is what an rt killed mid-create leaves: force removes it.
            std::string path = root_ + "/" + id;
            UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (force && fd && ::faccessat(fd.get(), "state.json", F_OK, 0) != 0) {
                // Locked: a create is still running (it rolls itself back on failure).
                if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) throw Error("container is being created");
                for (const auto& w : network::release_by_id(root_, id)) log(LogLevel::Warning, w);
                if (auto saved = recall_cgroup(fd.get())) {
                    auto cg = cgroups::load(*saved);
                    for (pid_t p : cg->pids()) ::kill(p, SIGKILL);  // the init dies with rt anyway
                    cg->destroy();
                }
                remove_all(path);
                return;
            }
            throw;
        }
        state::Record r = dir->read();
        state::refresh(r, *dir);
        auto cg = cgroups::load(r.cgroup);
        if (r.state.status == Status::Running || r.state.status == Status::Paused) {
            if (!force)
                throw Error(std::string("cannot delete container that is not stopped: ") +
                            status_name(r.state.status));
        }
        kill_remaining(*cg, r, force);
        run_saved_hooks(*this, r, "poststop", Status::Stopped);
        for (const auto& w : network::release(root_, id, r.network)) log(LogLevel::Warning, w);
        cg->destroy();
        dir->remove();
    });
}

int Runtime::run(const std::string& id, const RunOptions& opts) {
    return with_context("run container \"" + id + "\"", [&]() -> int {
        // A container whose start fails is removed again (unless --keep), as runc does.
        auto start_or_remove = [&](Launched& l) {
            try {
                release_init(l.dir, l.record);
            } catch (const Error&) {
                { state::StateDir released = std::move(l.dir); }
                ::waitpid(l.pid, nullptr, 0);
                if (!opts.keep) remove(id, true);
                throw;
            }
        };
        if (opts.detach) {
            Launched l = launch(*this, id, opts, false, nullptr);
            start_or_remove(l);
            run_poststart(*this, l.record);
            return 0;
        }
        // Signals rt forwards are blocked before the clone (so none is lost) and read from a
        // signalfd; the container init restores the original mask before execve.
        terminal::ForwardedSignals signals;
        int status = 0;
        {
            Launched l = launch(*this, id, opts, true, &signals.original());
            start_or_remove(l);
            l.sync.reset();
            state::Record rec = l.record;
            { state::StateDir released = std::move(l.dir); }  // unlock: others may look while it runs
            run_poststart(*this, rec);
            status = terminal::supervise(l.pidfd.get(), l.pid, signals.fd(),
                                         l.pty_master ? l.pty_master.get() : -1);
        }
        if (!opts.keep) remove(id, true);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
    });
}

int parse_signal(const std::string& in) {
    if (in.empty()) throw Error("invalid signal \"\"");
    if (std::all_of(in.begin(), in.end(), ::isdigit)) {
        int n = std::stoi(in);
        if (n <= 0 || n >= NSIG) throw Error("invalid signal \"" + in + "\"");
        return n;
    }
    std::string name;
    for (char c : in) name += static_cast<char>(::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name = name.substr(3);
    for (int n = 1; n < NSIG; ++n) {
        const char* abbrev = ::sigabbrev_np(n);
        if (abbrev && name == abbrev) return n;
    }
    if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
        int base = name[2] == 'M' && name[3] == 'I' ? SIGRTMIN : SIGRTMAX;
        std::string rest = name.substr(5);
        if (rest.empty()) return base;
        try {
            int off = std::stoi(rest);
            int n = base + off;
            if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
        } catch (...) {
        }
    }
    throw Error("invalid signal \"" + in + "\"");
}

}  // namespace rt
