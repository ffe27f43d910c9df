// What limits the container's process, applied by the container init after start and before
// execve, in this order: rlimits, oomScoreAdj, groups, gid, uid (keeping capabilities across
// the switch), capabilities, umask, no_new_privs, seccomp (always last).
//
// This module currently applies identity (additionalGids, gid, uid) and umask; capabilities,
// no_new_privs, rlimits, seccomp and LSM labels are the privilege-reduction issue's and plug in
// at the marked places in apply().
#pragma once

#include "rt/spec.hpp"

namespace rt::security {

// Apply process.user and the rest above to the calling process. Throws rt::Error.
void apply(const spec::Process& p);

}  // namespace rt::security
