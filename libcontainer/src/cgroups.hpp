// cgroups: one interface, an implementation per host mode.
//
// The manager is made in the parent before clone(); the child is placed in the cgroup before it
// runs any code of its own (it waits for GO). linux.resources are parsed once (parse_resources)
// and applied by apply() while the child waits; update, pause/resume, ps and events use the same
// manager loaded from state.json.
//
// Where the files are:
//   legacy (v1 only)  one directory per mounted controller set, /sys/fs/cgroup/<ctl>/<path>
//   hybrid            v1 as above, plus /sys/fs/cgroup/unified/<path> (cgroup2; controllers the
//                     v1 mounts lack, e.g. hugetlb, and eBPF device rules when there is no v1
//                     devices controller, are served from there)
//   unified (v2)      /sys/fs/cgroup/<path>; controllers are enabled in the ancestors'
//                     cgroup.subtree_control only when a resource needs them
// Resource files (cgroup_resources.cpp), device rules (cgroup_devices.cpp: v1 devices.allow/deny,
// v2 BPF_PROG_TYPE_CGROUP_DEVICE) and statistics (cgroup_stats.cpp) are separate modules.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fd.hpp"
#include "rt/spec.hpp"

namespace rt::cgroups {

enum class Mode { Legacy, Hybrid, Unified };  // v1 only, v1 + cgroup2 at /sys/fs/cgroup/unified, v2

// statfs(2) of /sys/fs/cgroup (and /sys/fs/cgroup/unified): no mountinfo parsing.
Mode detect_mode();

// ---- linux.resources, parsed ----------------------------------------------------------------

inline constexpr int64_t kWildcard = -1;

struct DeviceRule {
    bool allow = false;
    char type = 'a';  // 'a', 'c' or 'b'
    int64_t major = kWildcard;
    int64_t minor = kWildcard;
    std::string access = "rwm";
};

struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};

struct Resources {
    std::optional<std::vector<DeviceRule>> devices;
    struct Memory {
        std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
        std::optional<uint64_t> swappiness;
        std::optional<bool> disable_oom_killer, use_hierarchy;
        bool check_before_update = false;
    } memory;
    struct Cpu {
        std::optional<uint64_t> shares, period, burst, realtime_period;
        std::optional<int64_t> quota, realtime_runtime, idle;
        std::string cpus, mems;
    } cpu;
    std::optional<int64_t> pids_limit;
    struct BlockIO {
        std::optional<uint16_t> weight, leaf_weight;
        std::vector<WeightDevice> weight_device;
        std::vector<ThrottleDevice> read_bps, write_bps, read_iops, write_iops;
    } block_io;
    std::vector<std::pair<std::string, uint64_t>> hugepage_limits;  // pageSize ("2MB"), bytes
    std::optional<uint32_t> class_id;
    std::vector<std::pair<std::string, uint32_t>> priorities;  // interface, priority
    struct Rdma {
        std::optional<uint32_t> hca_handles, hca_objects;
    };
    std::map<std::string, Rdma> rdma;
    std::map<std::string, std::string> unified;
};

// Parse linux.resources (null: nothing set). Errors name the JSON path below `where`, e.g.
// "config.json: linux.resources.memory.limit: must be an integer".
Resources parse_resources(const nlohmann::json& j, const std::string& where);

// runc's device list for a container with device rules: the spec's rules, then the devices every
// container needs (null, zero, full, random, urandom, tty, ptmx, pts, tun; mknod of any c/b), then
// an allow rule for each linux.devices entry. Nothing is added when the spec has no rules.
void add_default_devices(Resources& r, const std::vector<spec::Device>& devices);

// ---- the manager --------------------------------------------------------------------------------

// Counts OOM kills in the cgroup: fd() turns readable when one may have happened.
class OomWatch {
public:
    virtual ~OomWatch() = default;
    virtual int fd() const = 0;
    // Drain fd(); the number of new OOM events (0: spurious wake-up or the cgroup went away).
    virtual unsigned consume() = 0;
};

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
    // Apply what r sets, and nothing else. creating: the cgroup is new (no current values to
    // respect when ordering writes, e.g. memory before memory+swap). Errors name file and value.
    virtual void apply(const Resources& r, bool creating) = 0;
    // Pids in the cgroup (cgroup.procs).
    virtual std::vector<pid_t> pids() const = 0;
    // Freeze or thaw every process of the cgroup (v1 freezer, v2 cgroup.freeze); returns once the
    // kernel reports the new state.
    virtual void freeze(bool frozen) = 0;
    // Is the cgroup frozen (or freezing)? false without a freezer.
    virtual bool frozen() const = 0;
    // runc's `events` statistics ("cpu", "memory", "pids", "blkio", "hugetlb").
    virtual nlohmann::json stats() const = 0;
    // OOM notifications; nullptr without a memory controller.
    virtual std::unique_ptr<OomWatch> oom_watch() const = 0;
    // rmdir the cgroup in every hierarchy; the cgroup must be empty. Missing dirs are fine.
    virtual void destroy() = 0;
    // Directories of the cgroup (for tests and the cgroup mount).
    virtual std::vector<std::string> dirs() const = 0;
    // What state.json keeps, for load().
    virtual nlohmann::json save() const = 0;
};

// A manager for the container: path is linux.cgroupsPath ("" = runc's default: <id> under rt's
// own cgroup; relative paths are under rt's own cgroup too).
std::unique_ptr<Manager> make(const std::string& cgroups_path, const std::string& id);
// The manager of an existing container from its saved state.
std::unique_ptr<Manager> load(const nlohmann::json& saved);

// ---- internals shared by the cgroup modules ----------------------------------------------------

// One hierarchy's directory of the container's cgroup.
struct Hierarchy {
    std::string dir;                       // /sys/fs/cgroup/memory/<path>
    std::string mount;                     // /sys/fs/cgroup/memory
    bool v2 = false;                       // a cgroup2 hierarchy
    std::vector<std::string> controllers;  // v1: from the mount name ("cpu,cpuacct")
};

// Where a controller's files are: set by the manager, used by the resource, device and stats code.
class Locator {
public:
    virtual ~Locator() = default;
    // The hierarchy serving ctl ("memory", "cpu", "hugetlb", ...), nullptr when the host lacks
    // it. On cgroup2, enable=true turns the controller on in the ancestors' subtree_control.
    virtual const Hierarchy* find(const std::string& ctl, bool enable) const = 0;
    // The cgroup2 hierarchy (nullptr on legacy hosts).
    virtual const Hierarchy* v2() const = 0;
};

// Write value to dir/file; the error names both: `write "x" to /sys/.../f: Invalid argument`.
void write_value(const std::string& dir, const char* file, const std::string& value);

// s without trailing newlines and spaces.
std::string trim_newline(std::string s);

void apply_resources(const Locator& where, const Resources& r, bool creating);
// Device rules in order: v1 devices.deny/devices.allow, or a v2 eBPF program attached to the
// cgroup2 directory (replacing programs attached before).
void apply_devices(const Locator& where, const std::vector<DeviceRule>& rules);
// The BPF_PROG_TYPE_CGROUP_DEVICE program for a rule list (exposed for unit tests).
struct BpfInsn {
    uint8_t code;
    uint8_t dst : 4, src : 4;
    int16_t off;
    int32_t imm;
};
std::vector<BpfInsn> device_program(const std::vector<DeviceRule>& rules);
nlohmann::json read_stats(const Locator& where);

}  // namespace rt::cgroups
