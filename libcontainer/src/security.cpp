#include "security.hpp"

#include <grp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include <cap-ng.h>

#include "fd.hpp"
#include "rt/error.hpp"
#include "sync.hpp"
#include "util.hpp"

namespace rt::security {

namespace {

constexpr std::pair<const char*, int> kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

void add_caps(const std::vector<std::string>& names, capng_type_t type) {
    for (const auto& n : names) {
        int cap = capability_number(n);
        if (cap >= 0) capng_update(CAPNG_ADD, type, static_cast<unsigned>(cap));
    }
}

[[noreturn]] void fail(const std::string& path, const std::string& why) {
    throw Error("config.json: " + path + ": " + why);
}

template <class Table>
auto lookup(const Table& table, const std::string& name, const std::string& path, const char* what) {
    for (const auto& [n, v] : table)
        if (name == n) return v;
    fail(path, "unknown " + std::string(what) + " \"" + name + "\"");
}

const nlohmann::json* member(const nlohmann::json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

int64_t integer(const nlohmann::json& obj, const char* key, const std::string& path, int64_t dflt) {
    const nlohmann::json* v = member(obj, key);
    if (!v) return dflt;
    if (!v->is_number_integer()) fail(path + "." + key, "must be an integer");
    return v->get<int64_t>();
}

std::string text(const nlohmann::json& obj, const char* key, const std::string& path) {
    const nlohmann::json* v = member(obj, key);
    if (!v) fail(path + "." + key, "required");
    if (!v->is_string()) fail(path + "." + key, "must be a string");
    return v->get<std::string>();
}

SchedAttr scheduler(const nlohmann::json& j) {
    const std::string path = "process.scheduler";
    if (!j.is_object()) fail(path, "must be an object");
    static constexpr std::pair<const char*, unsigned> kPolicies[] = {
        {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
        {"SCHED_BATCH", SCHED_BATCH}, {"SCHED_ISO", 4},           {"SCHED_IDLE", SCHED_IDLE},
        {"SCHED_DEADLINE", 6},
    };
    static constexpr std::pair<const char*, uint64_t> kFlags[] = {
        {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
        {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
        {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
        {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
    };
    SchedAttr a;
    a.policy = lookup(kPolicies, text(j, "policy", path), path + ".policy", "policy");
    int64_t nice = integer(j, "nice", path, 0);
    if (nice < -20 || nice > 19) fail(path + ".nice", "must be between -20 and 19");
    a.nice = static_cast<int32_t>(nice);
    int64_t prio = integer(j, "priority", path, 0);
    if (prio < 0 || prio > 99) fail(path + ".priority", "must be between 0 and 99");
    a.priority = static_cast<uint32_t>(prio);
    bool realtime = a.policy == SCHED_FIFO || a.policy == SCHED_RR;
    if (!realtime && prio != 0) fail(path + ".priority", "only SCHED_FIFO and SCHED_RR take a priority");
    if (realtime && prio == 0) fail(path + ".priority", "SCHED_FIFO and SCHED_RR need a priority of 1 to 99");
    if (const auto* f = member(j, "flags")) {
        if (!f->is_array()) fail(path + ".flags", "must be an array");
        for (size_t i = 0; i < f->size(); ++i) {
            std::string fp = path + ".flags[" + std::to_string(i) + "]";
            if (!(*f)[i].is_string()) fail(fp, "must be a string");
            a.flags |= lookup(kFlags, (*f)[i].get<std::string>(), fp, "flag");
        }
    }
    a.runtime = static_cast<uint64_t>(integer(j, "runtime", path, 0));
    a.deadline = static_cast<uint64_t>(integer(j, "deadline", path, 0));
    a.period = static_cast<uint64_t>(integer(j, "period", path, 0));
    return a;
}

int io_priority(const nlohmann::json& j) {
    const std::string path = "process.ioPriority";
    if (!j.is_object()) fail(path, "must be an object");
    static constexpr std::pair<const char*, int> kClasses[] = {
        {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
    int cls = lookup(kClasses, text(j, "class", path), path + ".class", "class");
    int64_t prio = integer(j, "priority", path, 0);
    if (prio < 0 || prio > 7) fail(path + ".priority", "must be between 0 and 7");
    return cls << 13 | static_cast<int>(prio);
}

unsigned long personality_of(const nlohmann::json& j) {
    const std::string path = "linux.personality";
    if (!j.is_object()) fail(path, "must be an object");
    static constexpr std::pair<const char*, unsigned long> kDomains[] = {{"LINUX", PER_LINUX},
                                                                         {"LINUX32", PER_LINUX32}};
    return lookup(kDomains, text(j, "domain", path), path + ".domain", "domain");
}

// The exec label for the next execve: AppArmor's "exec <profile>" or an SELinux context.
void set_exec_label(const char* lsm_dir, const std::string& value, const std::string& what) {
    std::string path = std::string("/proc/thread-self/attr/") + lsm_dir + "exec";
    if (::access(path.c_str(), F_OK) < 0) path = "/proc/thread-self/attr/exec";
    with_context("set " + what, [&] { write_file(path, value); });
}

}  // namespace

bool lsm_enabled(Lsm lsm) {
    if (lsm == Lsm::SELinux) return ::access("/sys/fs/selinux/enforce", F_OK) == 0;
    auto v = read_file_if_exists("/sys/module/apparmor/parameters/enabled");
    return v && !v->empty() && (*v)[0] == 'Y';
}

Plan prepare(const spec::Process& p, const spec::Linux* linux, const std::string& seccomp_cache) {
    Plan plan;
    if (!p.scheduler.is_null()) plan.scheduler = scheduler(p.scheduler);
    if (!p.ioPriority.is_null()) plan.ioprio = io_priority(p.ioPriority);
    if (!p.apparmorProfile.empty()) {
        if (!lsm_enabled(Lsm::AppArmor))
            fail("process.apparmorProfile",
                 "AppArmor is not enabled on this host; cannot apply profile \"" + p.apparmorProfile + "\"");
        plan.apparmor_profile = p.apparmorProfile;
    }
    if (!p.selinuxLabel.empty()) {
        if (!lsm_enabled(Lsm::SELinux))
            fail("process.selinuxLabel",
                 "SELinux is not enabled on this host; cannot apply label \"" + p.selinuxLabel + "\"");
        plan.selinux_label = p.selinuxLabel;
    }
    if (linux) {
        if (!linux->personality.is_null()) plan.personality = personality_of(linux->personality);
        if (!linux->mountLabel.empty() && !lsm_enabled(Lsm::SELinux))
            fail("linux.mountLabel", "SELinux is not enabled on this host; cannot apply mount label \"" +
                                         linux->mountLabel + "\"");
        plan.seccomp = seccomp::compile(linux->seccomp, seccomp_cache);
    }
    return plan;
}

int capability_number(const std::string& name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("cap_", 0) != 0) return -1;
    return capng_name_to_capability(lower.c_str() + 4);
}

namespace {

void load_seccomp(const Plan& plan, const ListenerSink& listener) {
    UniqueFd fd(seccomp::load(*plan.seccomp));
    if (fd && listener) listener(fd.get(), *plan.seccomp);
}

}  // namespace

ListenerSink listener_over(int sock) {
    return [sock](int fd, const seccomp::Program& prog) {
        // The parent passes the fd on to listenerPath, outside the container's mount namespace.
        nlohmann::json j = {{"listenerPath", prog.listener_path},
                            {"listenerMetadata", prog.listener_metadata}};
        sync::send(sock, sync::Msg::SeccompListener, j.dump(), fd);
        sync::Message m;
        if (!sync::try_recv(sock, m) || m.type != sync::Msg::ListenerDone)
            throw Error("seccomp: the listener fd did not reach " + prog.listener_path);
    };
}

void apply(const spec::Process& p, const Plan& plan, const ListenerSink& listener) {
    const spec::User& u = p.user;
    for (const auto& r : p.rlimits) {
        int res = -1;
        for (const auto& [name, num] : kRlimits)
            if (r.type == name) res = num;
        if (res < 0) throw Error("process.rlimits: unknown rlimit " + r.type);
        struct rlimit rl {
            r.soft, r.hard
        };
        if (::setrlimit(res, &rl) < 0)
            throw_errno("set rlimit " + r.type + " (soft " + std::to_string(r.soft) + ", hard " +
                        std::to_string(r.hard) + ")");
    }
    if (p.oomScoreAdj)
        with_context("process.oomScoreAdj",
                     [&] { write_file("/proc/self/oom_score_adj", std::to_string(*p.oomScoreAdj)); });
    if (plan.scheduler) {
        SchedAttr a = *plan.scheduler;
        if (::syscall(SYS_sched_setattr, 0, &a, 0) < 0) throw_errno("process.scheduler: sched_setattr");
    }
    if (plan.ioprio && ::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, *plan.ioprio) < 0)
        throw_errno("process.ioPriority: ioprio_set");
    if (plan.personality && ::personality(*plan.personality) < 0)
        throw_errno("linux.personality: personality");
    if (!plan.apparmor_profile.empty())
        set_exec_label("apparmor/", "exec " + plan.apparmor_profile,
                       "AppArmor profile " + plan.apparmor_profile);
    if (!plan.selinux_label.empty()) set_exec_label("selinux/", plan.selinux_label, "SELinux label");
    if (plan.seccomp && !p.noNewPrivileges) load_seccomp(plan, listener);

    const auto& caps = p.capabilities;
    if (caps) {
        // The bounding set is dropped while rt is still root with every capability.
        capng_clear(CAPNG_SELECT_BOUNDS);
        add_caps(caps->bounding, CAPNG_BOUNDING_SET);
        if (capng_apply(CAPNG_SELECT_BOUNDS) < 0) throw Error("apply capability bounding set: failed");
        if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
    }
    std::vector<gid_t> groups(u.additionalGids.begin(), u.additionalGids.end());
    if (::setgroups(groups.size(), groups.data()) < 0) throw_errno("setgroups");
    if (::setresgid(u.gid, u.gid, u.gid) < 0) throw_errno("setgid " + std::to_string(u.gid));
    if (::setresuid(u.uid, u.uid, u.uid) < 0) throw_errno("setuid " + std::to_string(u.uid));
    if (caps) {
        if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
        capng_clear(CAPNG_SELECT_CAPS);
        add_caps(caps->effective, CAPNG_EFFECTIVE);
        add_caps(caps->permitted, CAPNG_PERMITTED);
        add_caps(caps->inheritable, CAPNG_INHERITABLE);
        if (capng_apply(CAPNG_SELECT_CAPS) < 0) throw Error("apply capabilities: capset failed");
        // Ambient capabilities need to be permitted and inheritable; like runc, those that
        // cannot be raised are left out silently.
        for (const auto& n : caps->ambient) {
            int cap = capability_number(n);
            if (cap >= 0) ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
        }
    }
    ::umask(u.umask ? static_cast<mode_t>(*u.umask) : 022);  // runc's default
    if (p.noNewPrivileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    if (plan.seccomp && p.noNewPrivileges) load_seccomp(plan, listener);
}

}  // namespace rt::security
