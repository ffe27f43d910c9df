// --overlay: graph layer directories mounted with overlayfs, aufs whiteouts translated by
// generated lower directories (see overlay.hpp); `rt-unpack umount` undoes it.
#include "image/overlay.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "fd.hpp"
#include "rt/error.hpp"
#include "rt/image.hpp"
#include "util.hpp"

namespace rt::image {

using nlohmann::json;

namespace {

constexpr const char* kDir = ".rt-overlay";
constexpr size_t kMaxLowers = 500;  // overlayfs's OVL_MAX_STACK

UniqueFd open_dir(int at, const std::string& name, const std::string& shown) {
    UniqueFd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_errno("open " + shown);
    return fd;
}

// A subdirectory of a generated layer, made on first use (parents first).
int sub(int top, std::map<std::string, UniqueFd>& made, const std::string& rel) {
    if (auto it = made.find(rel); it != made.end()) return it->second.get();
    auto slash = rel.rfind('/');
    if (slash != std::string::npos) sub(top, made, rel.substr(0, slash));
    if (::mkdirat(top, rel.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("mkdir " + rel);
    return made.emplace(rel, open_dir(top, rel, rel)).first->second.get();
}

void whiteout_at(int dir, const std::string& name, const std::string& shown) {
    if (::mknodat(dir, name.c_str(), S_IFCHR | 0000, ::makedev(0, 0)) < 0 && errno != EEXIST)
        throw_errno("make the overlay whiteout " + shown);
}

// What one graph layer needs from the generated layers.
struct Translation {
    bool any = false;          // L has aufs markers: generate wh-<n>-above/below
    bool opaque_root = false;  // .wh..wh..opq at L's root: nothing below L is visible
};

class Translator {
public:
    Translator(const std::string& layer, int above, int below, const volatile sig_atomic_t* cancel)
        : layer_(layer), above_(above), below_(below), cancel_(cancel) {}

    Translation run() {
        UniqueFd root = open_dir(AT_FDCWD, layer_, layer_);
        walk(root.get(), "");
        // Directory times last: making whiteouts in them changed them.
        for (const auto& [rel, st] : dirs_) {
            struct timespec ts[2] = {st.st_atim, st.st_mtim};
            if (::utimensat(above_, rel.empty() ? "." : rel.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0)
                throw_errno("set the times of " + rel);
        }
        return t_;
    }

private:
    // rel: "" for L's root, else "a/b" (no leading or trailing slash).
    void walk(int dir, const std::string& rel) {
        if (cancel_ && *cancel_) throw Error("interrupted");
        UniqueFd dup(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
        if (!dup) throw_errno("dup");
        DIR* d = ::fdopendir(dup.get());
        if (!d) throw_errno("read " + layer_ + "/" + rel);
        dup.release();
        std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
        std::vector<std::string> subdirs;
        errno = 0;
        while (struct dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            const std::string path = rel.empty() ? name : rel + "/" + name;
            if (name.starts_with(".wh.")) {
                marker(dir, rel, name, path);
            } else {
                unsigned char type = e->d_type;
                if (type == DT_UNKNOWN) {
                    struct stat st {};
                    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
                        throw_errno("stat " + layer_ + "/" + path);
                    type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
                }
                if (type == DT_DIR) subdirs.push_back(name);
            }
            errno = 0;
        }
        if (errno) throw_errno("read " + layer_ + "/" + rel);
        for (const auto& name : subdirs) {
            const std::string path = rel.empty() ? name : rel + "/" + name;
            UniqueFd fd = open_dir(dir, name, layer_ + "/" + path);
            walk(fd.get(), path);
        }
    }

    // The generated directory rel in the above layer, with the owner and mode of L's (it is the
    // topmost copy of that directory in the merged view).
    int above_dir(int l_dir, const std::string& rel) {
        if (rel.empty()) {
            if (!above_root_done_) {
                copy_attrs(l_dir, above_, "");
                above_root_done_ = true;
            }
            return above_;
        }
        if (auto it = above_made_.find(rel); it != above_made_.end()) return it->second.get();
        // Parents first, each with L's attributes.
        auto slash = rel.rfind('/');
        UniqueFd lp = open_dir(l_dir, "..", layer_ + "/" + rel + "/..");
        above_dir(lp.get(), slash == std::string::npos ? std::string() : rel.substr(0, slash));
        int fd = sub(above_, above_made_, rel);
        copy_attrs(l_dir, fd, rel);
        return fd;
    }

    void copy_attrs(int from, int to, const std::string& rel) {
        struct stat st {};
        if (::fstat(from, &st) < 0) throw_errno("stat " + layer_ + "/" + rel);
        if (::fchown(to, st.st_uid, st.st_gid) < 0) throw_errno("chown " + rel);
        if (::fchmod(to, st.st_mode & 07777) < 0) throw_errno("chmod " + rel);
        dirs_.emplace_back(rel, st);
    }

    void marker(int dir, const std::string& rel, const std::string& name, const std::string& path) {
        if (name == ".wh.") throw Error(layer_ + ": entry \"" + path + "\": a whiteout without a name");
        t_.any = true;
        // Hide the marker itself (and aufs's .wh..wh.plnk/.wh..wh.aufs) from the merged view.
        whiteout_at(above_dir(dir, rel), name, path);
        if (name == ".wh..wh..opq") {
            if (rel.empty()) {
                t_.opaque_root = true;
                return;
            }
            int fd = sub(below_, below_made_, rel);
            if (::fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                throw_errno("mark " + rel + " opaque (trusted.overlay.opaque)");
            return;
        }
        if (name.starts_with(".wh..wh.")) return;  // other aufs metadata: only hidden
        const std::string target = name.substr(4);
        int parent = rel.empty() ? below_ : sub(below_, below_made_, rel);
        whiteout_at(parent, target, path);
    }

    std::string layer_;
    int above_, below_;
    const volatile sig_atomic_t* cancel_;
    bool above_root_done_ = false;
    Translation t_;
    std::map<std::string, UniqueFd> above_made_, below_made_;
    std::vector<std::pair<std::string, struct stat>> dirs_;
};

// The message the kernel logged for a failed fsconfig, if any.
std::string fs_log(int fs) {
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fs, buf, sizeof buf - 1)) > 0) {
        buf[n] = '\0';
        msg += (msg.empty() ? "" : "; ") + std::string(buf, static_cast<size_t>(n));
    }
    return msg.empty() ? msg : " (" + msg + ")";
}

// Mount with the new mount API, layers passed as fds (Linux 6.13+: no option-length limit).
// Returns an empty fd when this kernel cannot (then mount(2) is used).
UniqueFd mount_with_fds(const std::vector<UniqueFd>& lowers, int upper, int work) {
    UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!fs) {
        if (errno == ENOSYS) return {};
        throw_errno("fsopen overlay (is overlayfs available?)");
    }
    auto set = [&](unsigned cmd, const char* key, const char* value, int aux) {
        if (::fsconfig(fs.get(), cmd, key, value, aux) < 0) {
            int err = errno;
            throw Error(std::string("overlayfs ") + (key ? key : "create") + ": " + std::strerror(err) +
                        fs_log(fs.get()));
        }
    };
    if (::fsconfig(fs.get(), FSCONFIG_SET_FD, "lowerdir+", nullptr, lowers.front().get()) < 0) {
        if (errno == EINVAL) return {};  // older overlayfs: no lowerdir+ by fd
        throw_errno("overlayfs lowerdir+" + fs_log(fs.get()));
    }
    for (size_t i = 1; i < lowers.size(); ++i) set(FSCONFIG_SET_FD, "lowerdir+", nullptr, lowers[i].get());
    set(FSCONFIG_SET_FD, "upperdir", nullptr, upper);
    set(FSCONFIG_SET_FD, "workdir", nullptr, work);
    set(FSCONFIG_SET_STRING, "source", "rt-unpack", 0);
    set(FSCONFIG_SET_STRING, "index", "off", 0);
    set(FSCONFIG_CMD_CREATE, nullptr, nullptr, 0);
    UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
    if (!mnt) throw_errno("fsmount overlay" + fs_log(fs.get()));
    return mnt;
}

// mount(2) for older kernels: layers named /proc/self/fd/N (short, no ':' or ',').
void mount_legacy(const std::vector<UniqueFd>& lowers, int upper, int work, const std::string& target) {
    auto p = [](int fd) { return "/proc/self/fd/" + std::to_string(fd); };
    std::string opts = "lowerdir=";
    for (size_t i = 0; i < lowers.size(); ++i) opts += (i ? ":" : "") + p(lowers[i].get());
    opts += ",upperdir=" + p(upper) + ",workdir=" + p(work) + ",index=off";
    if (opts.size() >= static_cast<size_t>(::sysconf(_SC_PAGESIZE)))
        throw Error("overlayfs: " + std::to_string(lowers.size()) +
                    " lower directories make mount options longer than a page (this kernel lacks "
                    "lowerdir+ by fd, Linux 6.13)");
    if (::mount("rt-unpack", target.c_str(), "overlay", 0, opts.c_str()) < 0)
        throw_errno("mount overlay at " + target);
}

// A process of another mount namespace that still has the overlay (device "MAJ:MIN") mounted, or 0:
// a container of the bundle still running. Its mount would outlive our umount, and removing
// upper/ under it would pull the rootfs from under the container.
pid_t user_elsewhere(const std::string& want) {
    struct stat self {};
    if (::stat("/proc/self/ns/mnt", &self) < 0) return 0;
    std::vector<ino_t> seen = {self.st_ino};
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) return 0;
    while (struct dirent* e = ::readdir(proc.get())) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        const std::string base = std::string("/proc/") + e->d_name;
        struct stat ns {};
        if (::stat((base + "/ns/mnt").c_str(), &ns) < 0) continue;  // gone, or a kernel thread
        if (std::find(seen.begin(), seen.end(), ns.st_ino) != seen.end()) continue;
        seen.push_back(ns.st_ino);
        auto info = read_file_if_exists(base + "/mountinfo");
        if (!info) continue;
        for (const auto& line : split(*info, '\n')) {
            // "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
            auto f = split(line, ' ');
            if (f.size() < 3 || f[2] != want) continue;
            auto dash = line.find(" - overlay rt-unpack ");
            if (dash != std::string::npos) return static_cast<pid_t>(std::stoi(e->d_name));
        }
    }
    return 0;
}

}  // namespace

OverlayMount::~OverlayMount() {
    if (root_ >= 0) ::close(root_);
    if (!target_.empty()) ::umount2(target_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
}

OverlayMount::OverlayMount(OverlayMount&& o) noexcept
    : target_(std::exchange(o.target_, {})), root_(std::exchange(o.root_, -1)), state_(std::move(o.state_)) {}

void OverlayMount::release() {
    target_.clear();
    if (root_ >= 0) ::close(root_);
    root_ = -1;
}

OverlayMount mount_overlay(const std::vector<std::string>& layers, const std::string& bundle,
                           const volatile sig_atomic_t* cancel) {
    const std::string dir = bundle + "/" + kDir;
    if (::mkdir(dir.c_str(), 0700) < 0) throw_errno("mkdir " + dir);
    UniqueFd top = open_dir(AT_FDCWD, dir, dir);

    // lowerdir order is topmost first; build it base first and reverse.
    std::vector<std::string> lowers;  // paths (for state.json)
    std::vector<UniqueFd> fds;
    for (size_t i = 0; i < layers.size(); ++i) {
        const std::string n = std::to_string(i + 1);
        const std::string below = "wh-" + n + "-below", above = "wh-" + n + "-above";
        for (const auto& g : {below, above})
            if (::mkdirat(top.get(), g.c_str(), 0755) < 0) throw_errno("mkdir " + dir + "/" + g);
        UniqueFd bfd = open_dir(top.get(), below, dir + "/" + below);
        UniqueFd afd = open_dir(top.get(), above, dir + "/" + above);
        Translation t = with_context("layer " + n + "/" + std::to_string(layers.size()), [&] {
            return Translator(layers[i], afd.get(), bfd.get(), cancel).run();
        });
        if (!t.any) {
            remove_all(dir + "/" + below);
            remove_all(dir + "/" + above);
        }
        if (t.opaque_root) {  // nothing under L is visible: no layer below it, no "below" whiteouts
            lowers.clear();
            fds.clear();
            remove_all(dir + "/" + below);
        }
        if (t.any && !t.opaque_root) {
            lowers.push_back(std::string(kDir) + "/" + below);
            fds.push_back(std::move(bfd));
        }
        lowers.push_back(layers[i]);
        fds.push_back(open_dir(AT_FDCWD, layers[i], layers[i]));
        if (t.any) {
            lowers.push_back(std::string(kDir) + "/" + above);
            fds.push_back(std::move(afd));
        }
    }
    if (fds.size() > kMaxLowers)
        throw Error("overlayfs: " + std::to_string(fds.size()) + " lower directories (" +
                    std::to_string(layers.size()) + " layers and their whiteout layers), at most " +
                    std::to_string(kMaxLowers));
    std::reverse(lowers.begin(), lowers.end());
    std::reverse(fds.begin(), fds.end());

    for (const char* d : {"upper", "work"})
        if (::mkdirat(top.get(), d, 0755) < 0) throw_errno("mkdir " + dir + "/" + d);
    UniqueFd upper = open_dir(top.get(), "upper", dir + "/upper");
    UniqueFd work = open_dir(top.get(), "work", dir + "/work");
    // The merged root takes the upper root's owner and mode: the image's top layer's.
    struct stat st {};
    if (::fstat(fds.front().get(), &st) < 0) throw_errno("stat " + lowers.front());
    if (::fchown(upper.get(), st.st_uid, st.st_gid) < 0 || ::fchmod(upper.get(), st.st_mode & 07777) < 0)
        throw_errno("set the owner and mode of " + dir + "/upper");

    const std::string target = bundle + "/rootfs";
    OverlayMount m;
    UniqueFd mnt = mount_with_fds(fds, upper.get(), work.get());
    if (mnt) {
        if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
            throw_errno("attach the overlay at " + target);
        m.target_ = target;
    } else {
        mount_legacy(fds, upper.get(), work.get(), target);
        m.target_ = target;
    }
    m.root_ = ::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m.root_ < 0) throw_errno("open " + target);
    struct stat rst {};
    if (::fstat(m.root_, &rst) < 0) throw_errno("stat " + target);
    m.state_ = {{"version", 1},
                {"device", std::to_string(major(rst.st_dev)) + ":" + std::to_string(minor(rst.st_dev))},
                {"rootfs", "rootfs"},
                {"lowerdirs", lowers},
                {"upperdir", std::string(kDir) + "/upper"},
                {"workdir", std::string(kDir) + "/work"},
                {"layers", layers.size()}};
    return m;
}

bool is_overlay_bundle(const std::string& bundle) {
    return ::access((bundle + "/" + kDir + "/state.json").c_str(), F_OK) == 0;
}

void umount_overlay(const std::string& bundle_in) {
    std::string bundle = bundle_in;
    while (bundle.size() > 1 && bundle.back() == '/') bundle.pop_back();
    const std::string dir = bundle + "/" + kDir;
    auto text = read_file_if_exists(dir + "/state.json");
    if (!text) {
        struct stat st {};
        if (::stat(bundle.c_str(), &st) < 0) throw_errno("bundle " + bundle);
        throw Error("bundle " + bundle + " was not made with `rt-unpack unpack --overlay` (no " + kDir +
                    "/state.json)");
    }
    json state;
    try {
        state = json::parse(*text);
    } catch (const json::exception& e) {
        throw Error(dir + "/state.json: " + e.what());
    }
    if (!state.is_object() || state.value("rootfs", std::string()) != "rootfs")
        throw Error(dir + "/state.json: not an rt-unpack overlay record");
    const std::string target = bundle + "/rootfs";
    // The overlay's device as recorded (to find it elsewhere after it is gone from here).
    std::string device = state.value("device", std::string());
    // Mounted (an overlay at the rootfs's own mount root)? After a reboot it is not: only clean up.
    UniqueFd fd(::open(target.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno != ENOENT) throw_errno("open " + target);
    if (fd) {
        struct statx sx {};
        struct statfs sf {};
        if (::statx(fd.get(), "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) < 0) throw_errno("statx " + target);
        if (::fstatfs(fd.get(), &sf) < 0) throw_errno("statfs " + target);
        const bool mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
                                (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        fd.reset();
        if (mount_root) {
            if (sf.f_type != OVERLAYFS_SUPER_MAGIC)
                throw Error(target + " is a mount point but not an overlay: not unmounted");
            device = std::to_string(sx.stx_dev_major) + ":" + std::to_string(sx.stx_dev_minor);
            if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) < 0) {
                if (errno == EBUSY)
                    throw Error("unmount " + target +
                                ": busy (is a container of this bundle still running?)");
                throw_errno("unmount " + target);
            }
        }
    }
    // Unmounting here also unmounted its propagated copies; a copy that remains is a container's
    // own (a container of this bundle still running): its upper dir must stay.
    if (pid_t pid = device.empty() ? 0 : user_elsewhere(device))
        throw Error("bundle " + bundle + ": the overlay is still mounted in the mount namespace of pid " +
                    std::to_string(pid) + " (a container of this bundle still running? rt delete it, then " +
                    "rt-unpack umount again); " + kDir + " kept");
    remove_all(dir);
}

}  // namespace rt::image
