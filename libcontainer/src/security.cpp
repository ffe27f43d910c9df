#include "security.hpp"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt/error.hpp"

namespace rt::security {

void apply(const spec::Process& p) {
    const spec::User& u = p.user;
    // (rlimits, oomScoreAdj: privilege-reduction issue)
    std::vector<gid_t> groups(u.additionalGids.begin(), u.additionalGids.end());
    if (::setgroups(groups.size(), groups.data()) < 0) throw_errno("setgroups");
    if (::setresgid(u.gid, u.gid, u.gid) < 0) throw_errno("setgid " + std::to_string(u.gid));
    if (::setresuid(u.uid, u.uid, u.uid) < 0) throw_errno("setuid " + std::to_string(u.uid));
    // (capabilities: privilege-reduction issue)
    ::umask(u.umask ? static_cast<mode_t>(*u.umask) : 022);  // runc's default
    // (no_new_privs, seccomp last: privilege-reduction issue)
}

}  // namespace rt::security
