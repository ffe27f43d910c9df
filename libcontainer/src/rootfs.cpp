#include "rootfs.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "rt/error.hpp"
#include "util.hpp"

namespace rt::rootfs {

namespace {

// openat2(2): the only lookup that can confine ".." and absolute symlinks to a root.
int sys_openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how {};
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

// mount_setattr(2): recursive mount attributes (rro, rnosuid, ...) in one call.
int sys_mount_setattr(int dirfd, const char* path, unsigned flags, struct mount_attr* attr) {
    return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr));
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string strip_slashes(const std::string& p) {
    size_t i = 0;
    while (i < p.size() && p[i] == '/') ++i;
    return p.substr(i);
}

// What one mount's options mean to mount(2).
struct MountOpts {
    unsigned long flags = 0;
    std::vector<unsigned long> propagation;
    uint64_t attr_set = 0, attr_clr = 0;  // recursive attributes (mount_setattr, AT_RECURSIVE)
    std::string data;
    bool bind = false;
};

MountOpts parse_options(const std::vector<std::string>& options) {
    struct Flag {
        const char* name;
        bool clear;
        unsigned long flag;
    };
    static const Flag kFlags[] = {
        {"ro", false, MS_RDONLY},
        {"rw", true, MS_RDONLY},
        {"nosuid", false, MS_NOSUID},
        {"suid", true, MS_NOSUID},
        {"nodev", false, MS_NODEV},
        {"dev", true, MS_NODEV},
        {"noexec", false, MS_NOEXEC},
        {"exec", true, MS_NOEXEC},
        {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS},
        {"dirsync", false, MS_DIRSYNC},
        {"remount", false, MS_REMOUNT},
        {"mand", false, MS_MANDLOCK},
        {"nomand", true, MS_MANDLOCK},
        {"atime", true, MS_NOATIME},
        {"noatime", false, MS_NOATIME},
        {"diratime", true, MS_NODIRATIME},
        {"nodiratime", false, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME},
        {"norelatime", true, MS_RELATIME},
        {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
        {"silent", false, MS_SILENT},
        {"loud", true, MS_SILENT},
    };
    static const std::pair<const char*, unsigned long> kPropagation[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    struct Attr {
        const char* name;
        bool clear;
        uint64_t attr;
    };
    static const Attr kAttrs[] = {
        {"rro", false, MOUNT_ATTR_RDONLY},
        {"rrw", true, MOUNT_ATTR_RDONLY},
        {"rnosuid", false, MOUNT_ATTR_NOSUID},
        {"rsuid", true, MOUNT_ATTR_NOSUID},
        {"rnodev", false, MOUNT_ATTR_NODEV},
        {"rdev", true, MOUNT_ATTR_NODEV},
        {"rnoexec", false, MOUNT_ATTR_NOEXEC},
        {"rexec", true, MOUNT_ATTR_NOEXEC},
        {"rnoatime", false, MOUNT_ATTR_NOATIME},
        {"rrelatime", false, MOUNT_ATTR_RELATIME},
        {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
        {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    };
    MountOpts o;
    for (const auto& opt : options) {
        if (opt == "bind") {
            o.bind = true;
            o.flags |= MS_BIND;
            continue;
        }
        if (opt == "rbind") {
            o.bind = true;
            o.flags |= MS_BIND | MS_REC;
            continue;
        }
        if (opt == "tmpcopyup") continue;  // runc extension for tmpfs over existing content; not supported
        bool found = false;
        for (const auto& f : kFlags) {
            if (opt == f.name) {
                if (f.clear)
                    o.flags &= ~f.flag;
                else
                    o.flags |= f.flag;
                found = true;
                break;
            }
        }
        for (const auto& [name, flag] : kPropagation) {
            if (!found && opt == name) {
                o.propagation.push_back(flag);
                found = true;
            }
        }
        for (const auto& a : kAttrs) {
            if (!found && opt == a.name) {
                if (a.clear)
                    o.attr_clr |= a.attr;
                else
                    o.attr_set |= a.attr;
                found = true;
            }
        }
        if (opt == "idmap" || opt == "ridmap") throw Error("mount option \"" + opt + "\" is not supported");
        if (!found) o.data += (o.data.empty() ? "" : ",") + opt;
    }
    return o;
}

// Mount flags the kernel will not let a bind remount drop (they are locked in a user namespace).
unsigned long locked_flags(const std::string& path) {
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) < 0) return 0;
    unsigned long f = 0;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
    return f;
}

// Create `path` inside root as a directory (is_dir) or an empty file; parents as directories.
// Symlinks on the way, dangling ones included, are followed as they would be after chroot
// (securejoin's rule, as runc): rootfs/evil -> /tmp/x creates rootfs/tmp/x, never /tmp/x.
UniqueFd ensure_in_root(int root_fd, const std::string& path, bool is_dir, int depth = 0) {
    UniqueFd fd = open_in_root(root_fd, path, O_PATH, false);
    if (fd) return fd;
    if (depth > 40) throw_errno("resolve " + path, ELOOP);
    std::string rel = strip_slashes(path);
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    auto slash = rel.rfind('/');
    std::string parent_path = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    UniqueFd parent = parent_path.empty() ? UniqueFd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0))
                                          : ensure_in_root(root_fd, parent_path, true, depth + 1);
    if (name.empty() || name == "." || name == "..") return parent;
    int rc = is_dir ? ::mkdirat(parent.get(), name.c_str(), 0755)
                    : UniqueFd(::openat(parent.get(), name.c_str(),
                                        O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644))
                          .get();
    if (rc < 0 && errno == EEXIST) {
        char target[PATH_MAX];
        ssize_t n = ::readlinkat(parent.get(), name.c_str(), target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            std::string next = target[0] == '/' ? std::string(target) : "/" + parent_path + "/" + target;
            return ensure_in_root(root_fd, next, is_dir, depth + 1);
        }
    } else if (rc < 0) {
        throw_errno((is_dir ? "mkdir " : "create ") + path);
    }
    fd = open_in_root(root_fd, path, O_PATH, false);
    if (!fd) throw_errno("open " + path);
    return fd;
}

void set_propagation_and_attrs(const std::string& target, int target_fd, const MountOpts& o,
                               const std::string& what) {
    for (unsigned long p : o.propagation)
        if (::mount(nullptr, target.c_str(), nullptr, p, nullptr) < 0)
            throw_errno("set propagation of " + what);
    if (o.attr_set || o.attr_clr) {
        struct mount_attr attr {};
        attr.attr_set = o.attr_set;
        attr.attr_clr = o.attr_clr;
        if (sys_mount_setattr(target_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
            throw_errno("set recursive attributes of " + what);
    }
}

void mount_cgroup(const Context& ctx, const spec::Mount& m, int root_fd, int target_fd, const MountOpts& o) {
    std::string target = fd_path(target_fd);
    unsigned long flags = o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (ctx.cgroup_dirs.size() == 1 && ctx.cgroup_dirs[0].rfind("/sys/fs/cgroup/", 0) == 0 &&
        ctx.cgroup_dirs[0].find("/unified") == std::string::npos) {
        // Unified host: the container's own cgroup2 view (a cgroup namespace shows it as the root).
        // The cgroup2 superblock is shared with the host's rw mount: MS_RDONLY on the new mount
        // would be EBUSY, so read-only is a mount attribute set afterwards.
        if (::mount("cgroup2", target.c_str(), "cgroup2", flags & ~MS_RDONLY, nullptr) < 0)
            throw_errno("mount cgroup2 on " + m.destination);
        if (flags & MS_RDONLY) {
            UniqueFd mnt = open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY);
            struct mount_attr attr {};
            attr.attr_set = MOUNT_ATTR_RDONLY;
            if (sys_mount_setattr(mnt.get(), "", AT_EMPTY_PATH, &attr) < 0)
                throw_errno("make " + m.destination + " read-only");
        }
        return;
    }
    // v1/hybrid: a tmpfs with each hierarchy's container cgroup bound under its controller name.
    if (::mount("tmpfs", target.c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
        throw_errno("mount tmpfs on " + m.destination);
    UniqueFd dir = open_in_root(root_fd, m.destination, O_PATH | O_DIRECTORY);  // the new tmpfs
    for (const auto& host_dir : ctx.cgroup_dirs) {
        auto rest = host_dir.substr(std::strlen("/sys/fs/cgroup/"));
        std::string name = rest.substr(0, rest.find('/'));
        if (::mkdirat(dir.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("mkdir cgroup " + name);
        UniqueFd sub(::openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        std::string sub_path = fd_path(sub.get());
        if (::mount(host_dir.c_str(), sub_path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
            throw_errno("bind cgroup " + host_dir + " on " + m.destination + "/" + name);
    }
    // The mount's flags on the tmpfs and every bind under it in one call, not a remount each.
    struct mount_attr attr{};
    if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
    if (attr.attr_set && sys_mount_setattr(dir.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
        throw_errno("set the flags of " + m.destination);
}

void do_mount(const Context& ctx, int root_fd, const spec::Mount& m) {
    MountOpts o = parse_options(m.options);
    bool bind = o.bind || m.type == "bind";
    std::string what = "mount " + (m.source.empty() ? m.type : m.source) + " on " + m.destination;
    with_context(what, [&] {
        std::string source = m.source;
        bool dir = true;
        if (bind) {
            if (!source.empty() && source.front() != '/') source = ctx.bundle + "/" + source;
            struct stat st {};
            if (::stat(source.c_str(), &st) < 0) throw_errno("source " + source);
            dir = S_ISDIR(st.st_mode);
        }
        UniqueFd target_fd = ensure_in_root(root_fd, m.destination, dir);
        std::string target = fd_path(target_fd.get());
        if (m.type == "cgroup") {
            mount_cgroup(ctx, m, root_fd, target_fd.get(), o);
        } else if (bind) {
            if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | (o.flags & MS_REC), nullptr) < 0)
                throw_errno("bind");
            unsigned long extra = o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
            if (extra) {
                // The new mount sits on top of target_fd's path: reopen to reach it.
                target_fd = open_in_root(root_fd, m.destination, O_PATH);
                target = fd_path(target_fd.get());
                unsigned long f = MS_BIND | MS_REMOUNT | extra | locked_flags(target);
                if (!(o.flags & MS_RDONLY)) f &= ~MS_RDONLY;
                if (::mount(nullptr, target.c_str(), nullptr, f, nullptr) < 0) throw_errno("remount");
            }
        } else {
            unsigned long f = o.flags & ~(MS_BIND | MS_REC);
            // linux.mountLabel labels the filesystems rt makes for the container (as runc);
            // security::prepare refuses it on hosts without SELinux.
            const std::string& label = ctx.spec->linux ? ctx.spec->linux->mountLabel : std::string();
            if (!label.empty() && (m.type == "tmpfs" || m.type == "devpts" || m.type == "mqueue"))
                o.data += (o.data.empty() ? "" : ",") + std::string("context=\"") + label + "\"";
            const char* data = o.data.empty() ? nullptr : o.data.c_str();
            if (::mount(source.empty() ? m.type.c_str() : source.c_str(), target.c_str(), m.type.c_str(), f,
                        data) < 0)
                throw_errno(m.type.empty() ? "mount" : "mount type " + m.type);
        }
        if (!o.propagation.empty() || o.attr_set || o.attr_clr) {
            target_fd = open_in_root(root_fd, m.destination, O_PATH);
            set_propagation_and_attrs(fd_path(target_fd.get()), target_fd.get(), o, m.destination);
        }
    });
}

struct DefaultDevice {
    const char* path;
    unsigned major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

void make_device(const Context& ctx, int root_fd, const spec::Device& d) {
    with_context("device " + d.path, [&] {
        std::string rel = strip_slashes(d.path);
        auto slash = rel.rfind('/');
        UniqueFd parent = slash == std::string::npos
                              ? UniqueFd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0))
                              : open_in_root(root_fd, rel.substr(0, slash), O_PATH | O_DIRECTORY, true);
        std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
        ::unlinkat(parent.get(), name.c_str(), 0);
        if (ctx.in_user_ns) {
            // mknod is not allowed in a user namespace: bind the host's node onto an empty file.
            UniqueFd f(
                ::openat(parent.get(), name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
            if (!f) throw_errno("create");
            UniqueFd t(::openat(parent.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
            if (::mount(d.path.c_str(), fd_path(t.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
                throw_errno("bind from host");
            return;
        }
        mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
        mode_t mode = d.fileMode ? *d.fileMode & 07777 : 0666;
        if (::mknodat(parent.get(), name.c_str(), type | mode,
                      makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor))) < 0)
            throw_errno("mknod");
        if (::fchmodat(parent.get(), name.c_str(), mode, 0) < 0) throw_errno("chmod");
        if (d.uid || d.gid) {
            if (::fchownat(parent.get(), name.c_str(), d.uid ? *d.uid : 0, d.gid ? *d.gid : 0,
                           AT_SYMLINK_NOFOLLOW) < 0)
                throw_errno("chown");
        }
    });
}

void setup_dev(const Context& ctx, int root_fd) {
    const spec::Spec& s = *ctx.spec;
    // Only a /dev rt may populate: the rootfs's own or a tmpfs; never a bind of the host's /dev.
    for (const auto& m : s.mounts)
        if (m.destination == "/dev" && (m.type == "bind" || parse_options(m.options).bind)) return;
    UniqueFd dev = ensure_in_root(root_fd, "/dev", true);
    mode_t old = ::umask(0);
    try {
        for (const auto& dd : kDefaultDevices) {
            bool overridden = false;
            for (const auto& d : s.linux->devices) overridden = overridden || d.path == dd.path;
            if (!overridden) {
                spec::Device d;
                d.path = dd.path;
                d.major = dd.major;
                d.minor = dd.minor;
                make_device(ctx, root_fd, d);
            }
        }
        for (const auto& d : s.linux->devices) make_device(ctx, root_fd, d);
    } catch (...) {
        ::umask(old);
        throw;
    }
    ::umask(old);
    UniqueFd devdir = open_in_root(root_fd, "/dev", O_PATH | O_DIRECTORY);
    const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
    };
    for (const auto& [to, name] : links) {
        if (std::strcmp(name, "ptmx") == 0) ::unlinkat(devdir.get(), name, 0);
        if (::symlinkat(to, devdir.get(), name) < 0 && errno != EEXIST)
            throw_errno(std::string("symlink /dev/") + name);
    }
    if (::access("/proc/kcore", F_OK) == 0) ::symlinkat("/proc/kcore", devdir.get(), "core");
}

unsigned long propagation_flag(const std::string& p) {
    if (p.empty() || p == "rslave") return MS_SLAVE | MS_REC;
    if (p == "slave") return MS_SLAVE;
    if (p == "private") return MS_PRIVATE;
    if (p == "rprivate") return MS_PRIVATE | MS_REC;
    if (p == "shared") return MS_SHARED;
    if (p == "rshared") return MS_SHARED | MS_REC;
    if (p == "unbindable") return MS_UNBINDABLE;
    return MS_UNBINDABLE | MS_REC;
}

}  // namespace

UniqueFd open_in_root(int root_fd, const std::string& path, int flags, bool create_dirs) {
    std::string rel = strip_slashes(path);
    if (rel.empty()) rel = ".";
    int fd = sys_openat2(root_fd, rel.c_str(), static_cast<uint64_t>(flags | O_CLOEXEC), 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == ENOENT && create_dirs) return ensure_in_root(root_fd, path, true);
    if (errno == ENOENT || errno == ENOTDIR) return UniqueFd();
    throw_errno("open " + path + " in the rootfs");
}

void prepare(const Context& ctx) {
    const spec::Spec& s = *ctx.spec;
    const std::string& root = s.root.path;
    std::string prop = s.linux ? s.linux->rootfsPropagation : "";
    // Shared propagation is set on the new root after pivot_root; until then keep host events out.
    bool late = prop == "shared" || prop == "rshared" || prop == "unbindable" || prop == "runbindable";
    if (::mount(nullptr, "/", nullptr, late ? MS_SLAVE | MS_REC : propagation_flag(prop), nullptr) < 0)
        throw_errno("set propagation of /");
    // pivot_root needs the new root to be a mount point whose mount and parent are not shared.
    if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throw_errno("bind rootfs " + root);
    if (!prop.empty() && prop != "rslave" && prop != "rprivate" && prop != "runbindable") {
        // A non-recursive mode left the rootfs's own mount (e.g. a shared /tmp) as it was: make
        // the bind a slave (private for private) and bind it once more, so the mount pivot_root
        // takes has a non-shared parent without reading mountinfo.
        unsigned long inner = prop == "private" ? MS_PRIVATE : MS_SLAVE;
        if (::mount(nullptr, root.c_str(), nullptr, inner, nullptr) < 0)
            throw_errno("set propagation of rootfs");
        if (::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
            throw_errno("bind rootfs " + root);
    }
    UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd) throw_errno("open rootfs " + root);
    for (const auto& m : s.mounts) do_mount(ctx, root_fd.get(), m);
    if (s.linux) setup_dev(ctx, root_fd.get());
}

void enter(const Context& ctx, bool no_pivot) {
    const std::string& root = ctx.spec->root.path;
    UniqueFd new_root(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!new_root) throw_errno("open rootfs " + root);
    if (::fchdir(new_root.get()) < 0) throw_errno("chdir to rootfs");
    if (no_pivot) {
        if (::mount(root.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) throw_errno("move rootfs to /");
        if (::chroot(".") < 0) throw_errno("chroot");
    } else {
        UniqueFd old_root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!old_root) throw_errno("open /");
        // pivot_root(".", "."): the old root ends up stacked on "."; detach it from there.
        if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root");
        if (::fchdir(old_root.get()) < 0) throw_errno("chdir to old root");
        if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
            throw_errno("make old root rslave");
        if (::umount2(".", MNT_DETACH) < 0) throw_errno("detach old root");
    }
    if (::chdir("/") < 0) throw_errno("chdir /");
    std::string prop = ctx.spec->linux ? ctx.spec->linux->rootfsPropagation : "";
    if (prop == "shared" || prop == "rshared" || prop == "unbindable" || prop == "runbindable")
        if (::mount(nullptr, "/", nullptr, propagation_flag(prop), nullptr) < 0)
            throw_errno("set propagation of /");
}

void finalize(const Context& ctx) {
    const spec::Spec& s = *ctx.spec;
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (s.linux) {
        for (const auto& [key, value] : s.linux->sysctl) {
            std::string path = "/proc/sys/" + key;
            for (size_t i = 10; i < path.size(); ++i)
                if (path[i] == '.') path[i] = '/';
            with_context("sysctl " + key, [&] { write_file(path, value); });
        }
        for (const auto& p : s.linux->readonlyPaths) {
            UniqueFd fd = open_in_root(root.get(), p, O_PATH | O_NOFOLLOW);
            if (!fd) continue;
            std::string t = fd_path(fd.get());
            if (::mount(t.c_str(), t.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
                throw_errno("read-only path " + p);
            fd = open_in_root(root.get(), p, O_PATH | O_NOFOLLOW);
            t = fd_path(fd.get());
            if (::mount(nullptr, t.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(t),
                        nullptr) < 0)
                throw_errno("read-only path " + p);
        }
        for (const auto& p : s.linux->maskedPaths) {
            UniqueFd fd = open_in_root(root.get(), p, O_PATH | O_NOFOLLOW);
            if (!fd) continue;
            struct stat st {};
            if (::fstat(fd.get(), &st) < 0) throw_errno("masked path " + p);
            std::string t = fd_path(fd.get());
            int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", t.c_str(), "tmpfs", MS_RDONLY, "size=0k")
                                         : ::mount("/dev/null", t.c_str(), nullptr, MS_BIND, nullptr);
            if (rc < 0) throw_errno("masked path " + p);
        }
    }
    if (s.root.readonly) {
        if (::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), nullptr) < 0)
            throw_errno("remount / read-only");
    }
}

void bind_console(const std::string& pty_path) {
    UniqueFd f(::open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f && errno != EEXIST) throw_errno("create /dev/console");
    if (::mount(pty_path.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0)
        throw_errno("bind " + pty_path + " on /dev/console");
}

}  // namespace rt::rootfs
