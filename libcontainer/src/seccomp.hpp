// linux.seccomp: the OCI seccomp section compiled to a classic BPF program with libseccomp, cached
// under the state root, and loaded with seccomp(2) by the container process before execve.
//
//   rt create (parent)                          container init / exec child
//   compile(): validate (JSON paths in errors),
//     cache hit? read <root>/seccomp/<key>.bpf
//     else libseccomp -> BPF, store it
//   Program travels in memory (clone) ------->  load(): seccomp(SET_MODE_FILTER, flags, prog)
//                                                -> listener fd when SCMP_ACT_NOTIFY is used,
//                                                   handed to `rt start`, which sends it to
//                                                   listenerPath with the container state.
//
// The cache key is a hash of the seccomp section, the libseccomp version and the native
// architecture; the file repeats the whole key text, so a hash collision is a miss, never the
// wrong filter.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::seccomp {

struct Program {
    std::vector<sock_filter> code;
    unsigned flags = 0;         // SECCOMP_FILTER_FLAG_* from linux.seccomp.flags
    bool notify = false;        // some rule uses SCMP_ACT_NOTIFY: load with NEW_LISTENER
    std::string listener_path;  // linux.seccomp.listenerPath
    std::string listener_metadata;
    bool from_cache = false;  // for the benchmark and tests (`--debug` log)
};

// Validate linux.seccomp (null: nullopt) and compile it, using the cache directory cache_dir
// ("" = no cache). Errors name the JSON path: "config.json: linux.seccomp.syscalls[3].action: ...".
std::optional<Program> compile(const nlohmann::json& seccomp, const std::string& cache_dir);

// Install the program in the calling process. Returns the notify listener fd (CLOEXEC) when the
// program uses SCMP_ACT_NOTIFY, else -1. Throws rt::Error.
int load(const Program& p);

// What `rt start` sends to listenerPath with the listener fd (runtime-spec "Container process
// state"): {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}.
void send_to_listener(const std::string& listener_path, int listener_fd, const nlohmann::json& process_state);

// The receiving end of the init's (or exec child's) SECCOMP_LISTENER message: payload is
// {"listenerPath", "listenerMetadata"}; builds the process state for pid and the container's
// state and sends it with fd to listenerPath.
void forward_listener(const std::string& payload, int fd, int pid, const nlohmann::json& container_state);

// rt's default profile (`rt spec --seccomp default`): an allow-list; see contrib/seccomp.md for
// what it denies and why.
nlohmann::json default_profile();

// libseccomp's version as "2.5.4".
std::string library_version();

}  // namespace rt::seccomp
