// The config.json `rt spec` writes: what the LXC config Docker 0.6 generated for every container
// protected (the notes in design.md; test/fixtures/docker-0.6.lxc is a copy), plus
// runc's masked and read-only paths. With rootless, runc's ToRootless conversion.
//
// From the template, kept as it was:
//   lxc.cgroup.devices.deny = a, then allow null, zero, the consoles (5:1, 5:0, 4:0, 4:1),
//       random/urandom, the pts (136:*, 5:2) and tuntap (10:200)  -> linux.resources.devices
//   lxc.cap.drop = audit_control ... sys_tty_config               -> process.capabilities
//   proc, sysfs, devpts, shm mount entries with their options     -> mounts
//   lxc.pts = 1024                                                -> devpts max=1024
//   lxc.console = none                                            -> process.terminal false
//   lxc.utsname, lxc.network.type = veth                          -> hostname, network namespace
//   the environment lxc-start gave the container (-e TERM, HOME, PATH)
// Differences, each for a reason:
//   /sys is mounted read-only: container root is host root, and many sysfs attributes check
//   nothing but uid 0. /dev is a tmpfs rt populates (the template relied on the image's /dev);
//   of the allowed nodes rt makes /dev/net/tun, and not tty0/tty1 (4:0 is the host's foreground
//   virtual console). No network is set up (no rt.network.bridge): `rt spec --network bridge`
//   asks for one. Capabilities added after Linux 3.8 (the notes' kernel) are not granted.
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

json device_rule(bool allow, const char* type, int major, int minor, const char* access = "rwm") {
    json r = {{"allow", allow}, {"type", type}};
    if (major >= 0) r["major"] = major;
    if (minor >= 0) r["minor"] = minor;
    r["access"] = access;
    return r;
}

json example() {
    // Linux 3.8's capabilities (CAP_CHOWN .. CAP_BLOCK_SUSPEND) without the template's lxc.cap.drop.
    const json caps = {"CAP_CHOWN",           "CAP_DAC_OVERRIDE",
                       "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
                       "CAP_FSETID",          "CAP_KILL",
                       "CAP_SETGID",          "CAP_SETUID",
                       "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
                       "CAP_NET_BROADCAST",   "CAP_NET_ADMIN",
                       "CAP_NET_RAW",         "CAP_IPC_LOCK",
                       "CAP_IPC_OWNER",       "CAP_SYS_CHROOT",
                       "CAP_SYS_PTRACE",      "CAP_LEASE",
                       "CAP_SYSLOG",          "CAP_WAKE_ALARM",
                       "CAP_BLOCK_SUSPEND"};
    constexpr int any = -1;
    json spec = {
        {"ociVersion", kOciVersion},
        {"process",
         {
             {"terminal", false},
             {"user", {{"uid", 0}, {"gid", 0}}},
             {"args", {"sh"}},
             {"env",
              {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "HOME=/"}},
             {"cwd", "/"},
             {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
             {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
             {"noNewPrivileges", true},
         }},
        {"root", {{"path", "rootfs"}}},
        {"hostname", "rt"},
        {"mounts",
         {
             {{"destination", "/proc"},
              {"type", "proc"},
              {"source", "proc"},
              {"options", {"nosuid", "nodev", "noexec"}}},
             {{"destination", "/dev"},
              {"type", "tmpfs"},
              {"source", "tmpfs"},
              {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
             {{"destination", "/dev/pts"},
              {"type", "devpts"},
              {"source", "devpts"},
              {"options", {"newinstance", "ptmxmode=0666", "nosuid", "noexec", "max=1024"}}},
             {{"destination", "/dev/shm"},
              {"type", "tmpfs"},
              {"source", "shm"},
              {"options", {"size=65536k", "nosuid", "nodev", "noexec"}}},
             {{"destination", "/sys"},
              {"type", "sysfs"},
              {"source", "sysfs"},
              {"options", {"nosuid", "nodev", "noexec", "ro"}}},
         }},
        {"linux",
         {
             {"devices",
              {{{"type", "c"}, {"path", "/dev/net/tun"}, {"major", 10}, {"minor", 200}, {"fileMode", 0666}}}},
             {"resources",
              {{"devices",
                {
                    device_rule(false, "a", any, any), device_rule(true, "c", 1, 3),  // /dev/null
                    device_rule(true, "c", 1, 5),                                     // /dev/zero
                    device_rule(true, "c", 5, 1),                                     // /dev/console
                    device_rule(true, "c", 5, 0),                                     // /dev/tty
                    device_rule(true, "c", 4, 0),                                     // /dev/tty0
                    device_rule(true, "c", 4, 1),                                     // /dev/tty1
                    device_rule(true, "c", 1, 9),                                     // /dev/urandom
                    device_rule(true, "c", 1, 8),                                     // /dev/random
                    device_rule(true, "c", 136, any),                                 // /dev/pts/*
                    device_rule(true, "c", 5, 2),                                     // /dev/ptmx
                    device_rule(true, "c", 10, 200),                                  // /dev/net/tun
                }}}},
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

    // An unprivileged user cannot set up cgroups, nor make device nodes (the tun node would be a
    // bind of the host's, which need not exist, for a network namespace the container lacks).
    linux.erase("resources");
    linux.erase("devices");
}

}  // namespace

json default_spec(bool rootless) {
    json spec = example();
    if (rootless) to_rootless(spec);
    return spec;
}

}  // namespace rt::spec
