// The container's filesystem view, built by the container init in its new mount namespace.
//
// Every destination is resolved inside the rootfs with openat2(RESOLVE_IN_ROOT): a symlink such
// as rootfs/proc -> /etc or a destination with ".." resolves as it would after chroot, so rt never
// mounts, creates or masks anything outside the rootfs. Mounts target /proc/self/fd/<n> of the
// resolved O_PATH fd, so the path is not looked up a second time.
#pragma once

#include <string>
#include <vector>

#include "fd.hpp"
#include "rt/spec.hpp"

namespace rt::rootfs {

struct Context {
    const spec::Spec* spec = nullptr;
    std::string bundle;                    // relative bind sources resolve against it
    bool in_user_ns = false;               // devices are bind-mounted instead of mknod'ed
    std::vector<std::string> cgroup_dirs;  // host dirs of the container's cgroup, for type "cgroup"
};

// Before pivot_root: root propagation, the rootfs bind, every mount in order, /dev devices and
// symlinks.
void prepare(const Context& ctx);

// pivot_root into the rootfs (or MS_MOVE + chroot when no_pivot) and drop the old root.
void enter(const Context& ctx, bool no_pivot);

// After pivot_root: masked and read-only paths, sysctls, the read-only root.
void finalize(const Context& ctx);

// Bind the pty slave at /dev/console (inside the container, after pivot_root).
void bind_console(const std::string& pty_path);

// Open path (absolute or relative to root) inside root without leaving it. flags as openat2's.
UniqueFd open_in_root(int root_fd, const std::string& path, int flags, bool create_dirs = false);

}  // namespace rt::rootfs
