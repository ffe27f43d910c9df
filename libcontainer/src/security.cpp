#include "security.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include <cap-ng.h>

#include "rt/error.hpp"
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

}  // namespace

int capability_number(const std::string& name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("cap_", 0) != 0) return -1;
    return capng_name_to_capability(lower.c_str() + 4);
}

void apply(const spec::Process& p) {
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
    // (seccomp, always last: privilege-reduction issue)
}

}  // namespace rt::security
