// Layer application: entries of one layer (a tar stream or an unpacked directory) written into a
// rootfs, base layer first, by rt's own code. The rules:
//
//  - Names resolve as under chroot: "..", absolute names and symlinked parents never leave the
//    rootfs (openat2 RESOLVE_IN_ROOT; a component-by-component walk where openat2 is missing).
//    The last component is never followed: an existing path is replaced, a directory over a
//    directory merges. A non-directory root entry is refused.
//  - Hard links resolve inside the rootfs and must name an existing entry.
//  - Symlinks are stored as they are; owner, mode and times are set without following them.
//  - `.wh.NAME` removes NAME of lower layers, `.wh..wh..opq` empties its directory of lower-layer
//    entries; a whiteout never removes what its own layer created; whiteouts never appear in the
//    rootfs; `.wh.` alone is an error; other `.wh..wh.` names (aufs metadata) are ignored.
//  - Device nodes are made as root (or skipped); numeric uid/gid, shifted by the id maps;
//    setuid/setgid/sticky kept; xattrs kept except security.selinux (dropped) and trusted.*
//    (refused); directory times set after their contents.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "fd.hpp"
#include "rt/image.hpp"

namespace rt::image {

// One entry of a layer, whatever its source.
struct Entry {
    enum class Type { File, Dir, Symlink, Hardlink, CharDev, BlockDev, Fifo };
    std::string name;  // as stored in the layer (for messages and resolution)
    Type type = Type::File;
    mode_t mode = 0644;  // permission bits with setuid/setgid/sticky
    uid_t uid = 0;
    gid_t gid = 0;
    struct timespec atime {
    }, mtime{};
    std::string link;  // symlink target, or the name a hard link points at
    dev_t rdev = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

struct LayerStats {
    uint64_t entries = 0, bytes = 0, whiteouts = 0, skipped_devices = 0;
};

class LayerWriter {
public:
    LayerWriter(int root_fd, const LayerOptions& opts);
    LayerWriter(const LayerWriter&) = delete;
    LayerWriter& operator=(const LayerWriter&) = delete;

    // Apply one entry. For a regular file write_data(fd) writes its contents into the new file.
    void apply(const Entry& e, const std::function<void(int fd)>& write_data);
    // End of the layer: set directory times (after their contents).
    void finish();
    const LayerStats& stats() const { return stats_; }

private:
    int parent(const std::vector<std::string>& comps, size_t n, bool create, const std::string& entry);
    UniqueFd resolve(const std::string& rel);  // openat2(RESOLVE_IN_ROOT) or the walk fallback
    UniqueFd walk(const std::string& rel);
    void whiteout(const Entry& e, const std::vector<std::string>& comps);
    void prune(int dirfd, const std::string& name, const std::string& path);
    void remove_at(int dirfd, const std::string& name, const std::string& path);
    void mark_created(const std::string& path);
    void set_meta(const Entry& e, int dirfd, const std::string& name, const std::string& path, int fd,
                  bool merged);
    uid_t map_uid(const Entry& e) const;
    gid_t map_gid(const Entry& e) const;

    int root_;
    LayerOptions opts_;
    mode_t umask_;
    LayerStats stats_;
    // Resolved parent directories. A removed directory or symlink makes them stale: the cache is
    // dropped at the next lookup (never while a caller still holds one of its fds).
    std::unordered_map<std::string, UniqueFd> parents_;
    bool stale_ = false;
    std::unordered_set<std::string> created_, touched_;  // this layer's paths and their ancestors
    struct DirTimes {
        std::string path;
        struct timespec t[2];
        bool live;  // false once the directory was removed or replaced
    };
    std::vector<DirTimes> dir_times_;
    std::unordered_map<std::string, size_t> dir_index_;
};

// The block source a tar layer is read from: returns the next block (0 at the end).
using BlockReader = std::function<size_t(const void** block)>;

// Apply a tar stream (any tar dialect libarchive reads: ustar, pax with xattrs, GNU) to root_fd.
LayerStats apply_tar(int root_fd, const BlockReader& read, const LayerOptions& opts);
// Apply an unpacked layer directory (Docker 0.x graph `layer/` or `aufs/diff/<id>`) to root_fd.
LayerStats apply_directory(int root_fd, const std::string& dir, const LayerOptions& opts);

// Path name cleaned as under chroot: components without "", "." and ".." (".." at the top stays).
std::vector<std::string> clean_components(const std::string& name);
std::string join(const std::vector<std::string>& comps, size_t n);

}  // namespace rt::image
