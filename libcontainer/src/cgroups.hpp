// cgroups: one interface, an implementation per host mode.
//
// The manager is made in the parent before clone(); the child is placed in the cgroup before it
// runs any code of its own (it waits for GO). linux.resources are applied by apply(); the full
// resource set, device rules, pause/resume and stats belong to the cgroups issue and plug in here.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::cgroups {

enum class Mode { Legacy, Hybrid, Unified };  // v1 only, v1 + cgroup2 at /sys/fs/cgroup/unified, v2

// statfs(2) of /sys/fs/cgroup (and /sys/fs/cgroup/unified): no mountinfo parsing.
Mode detect_mode();

class Manager {
public:
    virtual ~Manager() = default;
    // Make the cgroup directories. Directories this call made are removed again by destroy().
    virtual void create() = 0;
    // Move a process into the cgroup, in every hierarchy (cgroup.procs; for processes other than
    // the container init, e.g. exec).
    virtual void add_process(pid_t pid) = 0;
    // A cgroup2 directory fd for clone3(CLONE_INTO_CGROUP), or -1 without a v2 hierarchy. Joining
    // at clone takes only the read side of the kernel's threadgroup rwsem.
    virtual int clone_into_fd() = 0;
    // Called by the (single-threaded) container init itself before it runs anything else: on v1
    // hierarchies it writes "0" to `tasks`. Moving just the calling thread skips the write side
    // of the threadgroup rwsem, whose RCU grace period (~10 ms here) every cgroup.procs write
    // pays. The v2 hierarchy is joined through cgroup.procs only when clone could not do it.
    virtual void join_self(bool v2_joined_at_clone) = 0;
    // Apply linux.resources (null: nothing to apply).
    virtual void apply(const nlohmann::json& resources) = 0;
    // Pids in the cgroup (cgroup.procs).
    virtual std::vector<pid_t> pids() const = 0;
    // rmdir the cgroup in every hierarchy; the cgroup must be empty. Missing dirs are fine.
    virtual void destroy() = 0;
    // What state.json keeps, for load().
    virtual nlohmann::json save() const = 0;
};

// A manager for the container: path is linux.cgroupsPath ("" = runc's default: <id> under rt's
// own cgroup; relative paths are under rt's own cgroup too).
std::unique_ptr<Manager> make(const std::string& cgroups_path, const std::string& id);
// The manager of an existing container from its saved state.
std::unique_ptr<Manager> load(const nlohmann::json& saved);

}  // namespace rt::cgroups
