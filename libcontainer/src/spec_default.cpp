// The config.json `rt spec` writes: runc 1.1's `runc spec` (libcontainer/specconv Example) and,
// with rootless, its ToRootless conversion.
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "rt/spec.hpp"

namespace rt::spec {

namespace {

using nlohmann::json;

bool cgroup2_unified() {
    struct statfs st {};
    return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

json example() {
    const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    json spec = {
        {"ociVersion", kOciVersion},
        {"process",
         {
             {"terminal", true},
             {"user", {{"uid", 0}, {"gid", 0}}},
             {"args", {"sh"}},
             {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
             {"cwd", "/"},
             {"capabilities",
              {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
             {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
             {"noNewPrivileges", true},
         }},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "rt"},
        {"mounts",
         {
             {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
             {{"destination", "/dev"},
              {"type", "tmpfs"},
              {"source", "tmpfs"},
              {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
             {{"destination", "/dev/pts"},
              {"type", "devpts"},
              {"source", "devpts"},
              {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
             {{"destination", "/dev/shm"},
              {"type", "tmpfs"},
              {"source", "shm"},
              {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
             {{"destination", "/dev/mqueue"},
              {"type", "mqueue"},
              {"source", "mqueue"},
              {"options", {"nosuid", "noexec", "nodev"}}},
             {{"destination", "/sys"},
              {"type", "sysfs"},
              {"source", "sysfs"},
              {"options", {"nosuid", "noexec", "nodev", "ro"}}},
             {{"destination", "/sys/fs/cgroup"},
              {"type", "cgroup"},
              {"source", "cgroup"},
              {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
         }},
        {"linux",
         {
             {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
             {"namespaces",
              {{{"type", "pid"}},
               {{"type", "network"}},
               {{"type", "ipc"}},
               {{"type", "uts"}},
               {{"type", "mount"}}}},
             {"maskedPaths",
              {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
               "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
             {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
         }},
    };
    if (cgroup2_unified()) spec["linux"]["namespaces"].push_back({{"type", "cgroup"}});
    return spec;
}

void to_rootless(json& spec) {
    json& linux = spec["linux"];
    json namespaces = json::array();
    for (const auto& ns : linux["namespaces"])
        if (ns["type"] != "network" && ns["type"] != "user") namespaces.push_back(ns);
    namespaces.push_back({{"type", "user"}});
    linux["namespaces"] = std::move(namespaces);

    linux["uidMappings"] = {{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}};
    linux["gidMappings"] = {{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}};

    // sysfs cannot be mounted without owning the network namespace: bind the host's read-only.
    // uid=/gid= options name ids that do not exist in a single-id user namespace.
    for (json& m : spec["mounts"]) {
        if (m["destination"] == "/sys") {
            m = {{"destination", "/sys"},
                 {"type", "none"},
                 {"source", "/sys"},
                 {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
            continue;
        }
        if (!m.contains("options")) continue;
        json options = json::array();
        for (const auto& o : m["options"]) {
            const auto& s = o.get_ref<const std::string&>();
            if (!s.starts_with("gid=") && !s.starts_with("uid=")) options.push_back(o);
        }
        if (options.empty())
            m.erase("options");
        else
            m["options"] = std::move(options);
    }

    // An unprivileged user cannot set up cgroups.
    linux.erase("resources");
}

}  // namespace

json default_spec(bool rootless) {
    json spec = example();
    if (rootless) to_rootless(spec);
    return spec;
}

}  // namespace rt::spec
