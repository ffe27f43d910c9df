// What limits the container's process, applied by the container init after start and before
// execve, in this order: rlimits, oomScoreAdj, groups, gid, uid (keeping capabilities across
// the switch), capabilities, umask, no_new_privs, seccomp (always last).
//
// Seccomp, personality, scheduler, ioPriority and LSM labels are the privilege-reduction issue's
// and plug in at the marked places in apply().
#pragma once

#include <string>

#include "rt/spec.hpp"

namespace rt::security {

// The kernel's number for "CAP_KILL" (case-insensitive), -1 when libcap-ng does not know it.
int capability_number(const std::string& name);

// Apply process.user and the rest above to the calling process. Throws rt::Error.
void apply(const spec::Process& p);

}  // namespace rt::security
