// Where entries land: rt's own code, every lookup confined to the rootfs, the last component never
// followed. See layer.hpp for the rules.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "image/layer.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::image {

namespace {

// openat2(2) with RESOLVE_IN_ROOT: ".." and absolute symlinks stop at dirfd, as under chroot.
int openat2_in_root(int dirfd, const char* path, int flags) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

const char* kWhiteout = ".wh.";
const char* kOpaque = ".wh..wh..opq";

std::string dq(const std::string& s) { return "\"" + s + "\""; }

// Components of a symlink target as they are (".." kept: it means the parent of where the walk is).
std::vector<std::string> split_raw(const std::string& p) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        if (j > i) out.push_back(p.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

[[noreturn]] void entry_error(const Entry& e, const std::string& why) {
    throw Error("entry " + dq(e.name) + ": " + why);
}

[[noreturn]] void entry_errno(const Entry& e, const std::string& what) {
    throw_errno("entry " + dq(e.name) + ": " + what);
}

uint32_t map_id(uint32_t id, const std::vector<IdMapping>& map, const Entry& e, const char* kind) {
    if (map.empty()) return id;
    for (const IdMapping& m : map)
        if (id >= m.container_id && id - m.container_id < m.size) return m.host_id + (id - m.container_id);
    entry_error(e, std::string(kind) + " " + std::to_string(id) + " is outside the " + kind + " map");
}

mode_t type_bits(Entry::Type t) {
    switch (t) {
        case Entry::Type::CharDev:
            return S_IFCHR;
        case Entry::Type::BlockDev:
            return S_IFBLK;
        case Entry::Type::Fifo:
            return S_IFIFO;
        default:
            return 0;
    }
}

}  // namespace

std::vector<std::string> clean_components(const std::string& name) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i <= name.size()) {
        size_t j = name.find('/', i);
        if (j == std::string::npos) j = name.size();
        std::string c = name.substr(i, j - i);
        if (c == "..") {
            if (!out.empty()) out.pop_back();
        } else if (!c.empty() && c != ".") {
            out.push_back(std::move(c));
        }
        i = j + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& comps, size_t n) {
    std::string s;
    for (size_t i = 0; i < n && i < comps.size(); ++i) {
        if (i) s += '/';
        s += comps[i];
    }
    return s;
}

LayerWriter::LayerWriter(int root_fd, const LayerOptions& opts) : root_(root_fd), opts_(opts) {
    umask_ = ::umask(022);
    ::umask(umask_);
}

uid_t LayerWriter::map_uid(const Entry& e) const { return map_id(e.uid, opts_.uid_map, e, "uid"); }
gid_t LayerWriter::map_gid(const Entry& e) const { return map_id(e.gid, opts_.gid_map, e, "gid"); }

// The component-by-component fallback of openat2(RESOLVE_IN_ROOT): each component opened with
// O_NOFOLLOW; a symlink's target is spliced into the remaining path, absolute ones from the root,
// ".." never above the root. At most 40 symlinks, as the kernel.
UniqueFd LayerWriter::walk(const std::string& rel) {
    std::vector<std::string> todo = clean_components(rel);  // a stack: back() is next
    std::reverse(todo.begin(), todo.end());
    std::vector<UniqueFd> stack;  // open directories below the root
    auto cur = [&] { return stack.empty() ? root_ : stack.back().get(); };
    int links = 0;
    while (!todo.empty()) {
        std::string c = std::move(todo.back());
        todo.pop_back();
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        UniqueFd fd(::openat(cur(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return UniqueFd();
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0) return UniqueFd();
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) {
                errno = ELOOP;
                return UniqueFd();
            }
            char buf[4096];
            ssize_t n = ::readlinkat(cur(), c.c_str(), buf, sizeof buf - 1);
            if (n < 0) return UniqueFd();
            std::string target(buf, static_cast<size_t>(n));
            if (!target.empty() && target[0] == '/') stack.clear();
            std::vector<std::string> parts = split_raw(target);
            for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return UniqueFd();
        }
        stack.push_back(std::move(fd));
    }
    return UniqueFd(::fcntl(cur(), F_DUPFD_CLOEXEC, 0));
}

UniqueFd LayerWriter::resolve(const std::string& rel) {
    if (!opts_.walk_resolution) {
        int fd = openat2_in_root(root_, rel.empty() ? "." : rel.c_str(), O_PATH | O_DIRECTORY);
        if (fd >= 0 || errno != ENOSYS) return UniqueFd(fd);
        opts_.walk_resolution = true;  // kernel < 5.6
    }
    return walk(rel);
}

// The directory that holds comps[n]: comps[0..n) resolved in the root (cached). With create,
// missing directories are made (0755, as tar does); otherwise nullopt-like -1 when missing.
int LayerWriter::parent(const std::vector<std::string>& comps, size_t n, bool create,
                        const std::string& entry) {
    if (n == 0) return root_;
    if (stale_) {
        parents_.clear();
        stale_ = false;
    }
    std::string key = join(comps, n);
    if (auto it = parents_.find(key); it != parents_.end()) return it->second.get();
    UniqueFd fd = resolve(key);
    if (!fd && errno == ENOENT && create) {
        int dir = parent(comps, n - 1, true, entry);
        if (::mkdirat(dir, comps[n - 1].c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("entry " + dq(entry) + ": create parent directory " + dq(key));
        mark_created(key);
        fd = resolve(key);
    }
    if (!fd) {
        if (!create && (errno == ENOENT || errno == ENOTDIR)) return -1;
        if (errno == ENOTDIR) throw Error("entry " + dq(entry) + ": " + dq(key) + " is not a directory");
        throw_errno("entry " + dq(entry) + ": resolve " + dq(key) + " in the rootfs");
    }
    int raw = fd.get();
    parents_.emplace(key, std::move(fd));
    return raw;
}

void LayerWriter::mark_created(const std::string& path) {
    created_.insert(path);
    for (size_t pos = path.rfind('/'); pos != std::string::npos && pos > 0; pos = path.rfind('/', pos - 1)) {
        if (!touched_.insert(path.substr(0, pos)).second) break;
    }
    touched_.insert("");
}

// rm -rf of dirfd/name (never follows symlinks). Any directory or symlink removed may have been
// a cached parent: the cache is dropped.
void LayerWriter::remove_at(int dirfd, const std::string& name, const std::string& path) {
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return;
        throw_errno("remove " + dq(path));
    }
    if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) stale_ = true;  // may have been a cached parent
    if (S_ISDIR(st.st_mode)) {
        UniqueFd d(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d) throw_errno("remove " + dq(path));
        for (const auto& n : dir_entries(d.get(), dq(path))) remove_at(d.get(), n, path + "/" + n);
        if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            throw_errno("remove " + dq(path));
    } else if (::unlinkat(dirfd, name.c_str(), 0) < 0 && errno != ENOENT) {
        throw_errno("remove " + dq(path));
    }
    if (auto it = dir_index_.find(path); it != dir_index_.end()) dir_times_[it->second].live = false;
}

// Remove what lower layers put at dirfd/name, keeping what this layer created (and the
// directories leading to it).
void LayerWriter::prune(int dirfd, const std::string& name, const std::string& path) {
    if (!created_.count(path) && !touched_.count(path)) {
        remove_at(dirfd, name, path);
        return;
    }
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) return;
    UniqueFd d(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) throw_errno("whiteout " + dq(path));
    for (const auto& n : dir_entries(d.get(), dq(path))) prune(d.get(), n, path.empty() ? n : path + "/" + n);
}

void LayerWriter::whiteout(const Entry& e, const std::vector<std::string>& comps) {
    const std::string& base = comps.back();
    size_t n = comps.size() - 1;
    std::string dir = join(comps, n);
    ++stats_.whiteouts;
    if (base == kOpaque) {
        int pfd = n == 0 ? root_ : parent(comps, n - 1, false, e.name);
        if (pfd < 0) return;
        if (n == 0) {
            // Opaque root: every lower entry goes.
            for (const auto& nm : dir_entries(root_, "the rootfs")) prune(root_, nm, nm);
            return;
        }
        // Keep the directory itself: mark it as this layer's so prune only empties it.
        bool had = touched_.count(dir) > 0;
        touched_.insert(dir);
        prune(pfd, comps[n - 1], dir);
        if (!had) touched_.erase(dir);
        return;
    }
    if (base.starts_with(".wh..wh.")) return;  // aufs metadata (.wh..wh.plnk, .wh..wh.aufs, ...)
    std::string target = base.substr(std::strlen(kWhiteout));
    if (target.empty()) entry_error(e, "whiteout without a name (\".wh.\" alone)");
    int pfd = parent(comps, n, false, e.name);
    if (pfd < 0) return;  // nothing below to hide
    prune(pfd, target, dir.empty() ? target : dir + "/" + target);
}

void LayerWriter::set_meta(const Entry& e, int dirfd, const std::string& name, const std::string& path,
                           int fd, bool merged) {
    uid_t uid = map_uid(e);
    gid_t gid = map_gid(e);
    mode_t perm = e.mode & 07777;
    // chown clears setuid/setgid: the mode is set after it, and whenever the umask or an
    // existing directory (merge) may differ from what the layer says.
    bool need_chmod = merged || (perm & 07000) || (perm & umask_);
    bool link = e.type == Entry::Type::Symlink;
    if (fd >= 0) {
        if (::fchown(fd, uid, gid) < 0) entry_errno(e, "chown");
        if (need_chmod && ::fchmod(fd, perm) < 0) entry_errno(e, "chmod");
    } else {
        if (::fchownat(dirfd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) entry_errno(e, "chown");
        // fchmodat follows symlinks: never called on one (a symlink's mode means nothing).
        if (!link && need_chmod && ::fchmodat(dirfd, name.c_str(), perm, 0) < 0) entry_errno(e, "chmod");
    }
    for (const auto& [key, value] : e.xattrs) {
        if (key == "security.selinux") continue;  // the host labels the rootfs, not the image
        if (key.starts_with("trusted.")) entry_error(e, "xattr " + dq(key) + " refused (trusted.*)");
        int rc;
        if (fd >= 0) {
            rc = ::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0);
        } else {
            std::string p = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
            rc = ::lsetxattr(p.c_str(), key.c_str(), value.data(), value.size(), 0);
        }
        if (rc < 0) entry_errno(e, "set xattr " + dq(key));
    }
    struct timespec t[2] = {e.atime, e.mtime};
    if (e.type == Entry::Type::Dir) {
        auto [it, fresh] = dir_index_.emplace(path, dir_times_.size());
        if (fresh)
            dir_times_.push_back({path, {t[0], t[1]}, true});
        else
            dir_times_[it->second] = {path, {t[0], t[1]}, true};
        return;
    }
    int rc = fd >= 0 ? ::futimens(fd, t) : ::utimensat(dirfd, name.c_str(), t, AT_SYMLINK_NOFOLLOW);
    if (rc < 0) entry_errno(e, "set times");
}

void LayerWriter::apply(const Entry& e, const std::function<void(int fd)>& write_data) {
    if (opts_.cancel && *opts_.cancel) throw Error("interrupted");
    ++stats_.entries;
    if (parents_.size() > 512) parents_.clear();  // no cached fd is in use between entries
    std::vector<std::string> comps = clean_components(e.name);
    if (comps.empty()) {
        if (e.type != Entry::Type::Dir) entry_error(e, "the root of a layer must be a directory");
        set_meta(e, root_, ".", "", -1, true);
        return;
    }
    for (size_t i = 0; i + 1 < comps.size(); ++i)
        if (comps[i].starts_with(kWhiteout)) entry_error(e, "a whiteout cannot be a directory");
    if (comps.back().starts_with(kWhiteout)) {
        whiteout(e, comps);
        return;
    }
    const size_t n = comps.size() - 1;
    const std::string& name = comps.back();
    const std::string path = join(comps, comps.size());
    int dir = parent(comps, n, true, e.name);

    // Make the new entry; on EEXIST look at what is there: a directory over a directory merges,
    // anything else is removed and the entry made again.
    UniqueFd file;
    bool merged = false;
    for (int attempt = 0;; ++attempt) {
        int rc = 0;
        switch (e.type) {
            case Entry::Type::Dir:
                rc = ::mkdirat(dir, name.c_str(), e.mode & 0777);
                break;
            case Entry::Type::File:
                file.reset(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                    e.mode & 0777));
                rc = file ? 0 : -1;
                break;
            case Entry::Type::Symlink:
                rc = ::symlinkat(e.link.c_str(), dir, name.c_str());
                break;
            case Entry::Type::Hardlink: {
                std::vector<std::string> tc = clean_components(e.link);
                if (tc.empty()) entry_error(e, "hard link to the root directory");
                if (join(tc, tc.size()) == path) return;  // a link to itself: already there
                int tdir = parent(tc, tc.size() - 1, false, e.name);
                if (tdir < 0)
                    entry_error(e, "hard link target " + dq(e.link) + " does not exist in the rootfs");
                rc = ::linkat(tdir, tc.back().c_str(), dir, name.c_str(), 0);
                if (rc < 0 && errno == ENOENT)
                    entry_error(e, "hard link target " + dq(e.link) + " does not exist in the rootfs");
                if (rc < 0 && errno == EPERM) {
                    struct stat st {};
                    if (::fstatat(tdir, tc.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISDIR(st.st_mode))
                        entry_error(e, "hard link target " + dq(e.link) + " is a directory");
                }
                break;
            }
            case Entry::Type::CharDev:
            case Entry::Type::BlockDev:
                if (opts_.skip_devices) {
                    ++stats_.skipped_devices;
                    return;
                }
                [[fallthrough]];
            case Entry::Type::Fifo:
                rc = ::mknodat(dir, name.c_str(), type_bits(e.type) | (e.mode & 0777), e.rdev);
                break;
        }
        if (rc == 0) break;
        if (errno != EEXIST || attempt > 0) {
            if (errno == EPERM && (e.type == Entry::Type::CharDev || e.type == Entry::Type::BlockDev))
                entry_errno(e, "create device node (needs root; --skip-devices skips them)");
            entry_errno(e, "create");
        }
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) entry_errno(e, "stat existing entry");
        if (e.type == Entry::Type::Dir && S_ISDIR(st.st_mode)) {
            merged = true;
            break;
        }
        remove_at(dir, name, path);
        dir = parent(comps, n, true, e.name);  // the cache may have been dropped
    }
    mark_created(path);
    if (e.type == Entry::Type::Hardlink) return;  // shares its target's inode and metadata
    if (e.type == Entry::Type::File) {
        write_data(file.get());
        set_meta(e, dir, name, path, file.get(), false);
        return;
    }
    set_meta(e, dir, name, path, -1, merged);
}

void LayerWriter::finish() {
    // Deepest first would not matter: times of a directory change only through its own entries.
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
        if (!it->live) continue;
        std::vector<std::string> comps = clean_components(it->path);
        int rc;
        if (comps.empty()) {
            rc = ::utimensat(root_, ".", it->t, 0);
        } else {
            int dir = parent(comps, comps.size() - 1, false, it->path);
            if (dir < 0) continue;
            rc = ::utimensat(dir, comps.back().c_str(), it->t, AT_SYMLINK_NOFOLLOW);
        }
        if (rc < 0 && errno != ENOENT) throw_errno("set times of directory " + dq(it->path));
    }
    dir_times_.clear();
    dir_index_.clear();
    parents_.clear();
    created_.clear();
    touched_.clear();
}

}  // namespace rt::image
