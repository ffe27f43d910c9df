// What limits the container's process. The parent (rt create, rt exec) prepares a Plan from
// config.json - validating everything and compiling seccomp - so that errors come before any
// process exists; the container process applies it after start and before execve, in this order:
// rlimits, oomScoreAdj, scheduler, ioPriority, personality, LSM exec label, [seccomp when
// noNewPrivileges is false: loading it then needs CAP_SYS_ADMIN, which the next steps drop],
// groups, gid, uid (keeping capabilities across the switch), capabilities, umask,
// no_new_privs, [seccomp when noNewPrivileges is true: the very last thing before execve].
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "rt/spec.hpp"
#include "seccomp.hpp"

namespace rt::security {

// The kernel's number for "CAP_KILL" (case-insensitive), -1 when libcap-ng does not know it.
int capability_number(const std::string& name);

enum class Lsm { AppArmor, SELinux };
// Is the LSM active on this host (/sys/module/apparmor/parameters/enabled, /sys/fs/selinux)?
bool lsm_enabled(Lsm lsm);

// sched_setattr(2)'s struct (SCHED_ATTR_SIZE_VER0); <linux/sched/types.h> clashes with glibc.
struct SchedAttr {
    uint32_t size = sizeof(SchedAttr);
    uint32_t policy = 0;
    uint64_t flags = 0;
    int32_t nice = 0;
    uint32_t priority = 0;
    uint64_t runtime = 0, deadline = 0, period = 0;
};

struct Plan {
    std::optional<unsigned long> personality;  // linux.personality
    std::optional<SchedAttr> scheduler;        // process.scheduler
    std::optional<int> ioprio;                 // process.ioPriority, as ioprio_set(2) wants it
    std::string apparmor_profile;              // process.apparmorProfile
    std::string selinux_label;                 // process.selinuxLabel
    std::optional<seccomp::Program> seccomp;   // linux.seccomp (compiled)
};

// Validate and prepare; seccomp_cache is the directory for compiled filters ("" = none).
// Throws rt::Error naming the config.json path.
Plan prepare(const spec::Process& p, const spec::Linux* linux, const std::string& seccomp_cache);

// Called with the seccomp notify listener fd right after the filter is loaded (the fd is closed
// by apply() afterwards). It must hand the fd on before the process execs.
using ListenerSink = std::function<void(int fd, const seccomp::Program& program)>;

// The sink of a process whose parent (`rt start`, `rt exec`) passes the fd on: sends it as
// SECCOMP_LISTENER over sock (sync.hpp) and waits for LISTENER_DONE.
ListenerSink listener_over(int sock);

// Apply process.user, the Plan and the rest above to the calling process. Throws rt::Error.
void apply(const spec::Process& p, const Plan& plan, const ListenerSink& listener = {});

}  // namespace rt::security
