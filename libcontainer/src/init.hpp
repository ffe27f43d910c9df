// The container init: the child of clone() that builds the container and execs its process.
// It runs rt's code in the new namespaces without re-executing rt (no /proc/self/exe), is
// non-dumpable until execve (CVE-2019-5736), and talks to the parent only over the sync socket
// (sync.hpp has the protocol).
#pragma once

#include <signal.h>
#include <sys/stat.h>

#include <string>
#include <utility>
#include <vector>

#include "cgroups.hpp"
#include "fd.hpp"
#include "rt/spec.hpp"
#include "security.hpp"

namespace rt::init {

struct Config {
    const spec::Spec* spec = nullptr;
    std::string bundle;
    int sync_fd = -1;  // child's end of the sync socketpair
    int exec_fd = -1;  // listening exec socket: `rt start` connects to it
    std::vector<std::pair<spec::NamespaceType, int>> join;  // setns() in this order (user first)
    int unshare_flags = 0;  // namespaces the child makes itself (cgroup always)
    bool in_user_ns = false;
    bool no_pivot = false;
    bool no_new_keyring = false;
    int preserve_fds = 0;
    bool hooks_round_trip = false;  // ask the parent to run createRuntime hooks and send state
    std::vector<std::string> cgroup_dirs;
    cgroups::Manager* cgroup = nullptr;        // joined by the init itself, first thing
    bool cgroup_v2_joined = false;             // clone3 placed it in the v2 cgroup already
    sigset_t sigmask{};                        // the mask to restore before execve
    const security::Plan* security = nullptr;  // prepared by the parent: seccomp, scheduler, ...
    struct stat runtime_exe {};                // rt's own binary: never executed in the container
};

// The CLONE_NEW* flag of a namespace type (for clone3, unshare and setns).
int clone_flag(spec::NamespaceType t);

// Never returns: execve()s the container process or _exit(1)s after sending ERROR.
[[noreturn]] void run(const Config& cfg);

}  // namespace rt::init
