// The embedding API of libcontainer: what `rt create/start/state/kill/delete/run/list` do,
// callable from another program. No global state: everything hangs off a Runtime object.
// Failures are thrown as rt::Error with context ("create container \"x\": ...").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rt/error.hpp"

namespace rt {

enum class Status { Creating, Created, Running, Paused, Stopped };
const char* status_name(Status s);

// What `rt state` prints: the OCI state plus runc's extra fields.
struct ContainerState {
    std::string ociVersion;
    std::string id;
    Status status = Status::Stopped;
    int pid = 0;  // 0 when stopped
    std::string bundle;
    std::string rootfs;
    std::map<std::string, std::string> annotations;
    std::string created;           // RFC 3339 with nanoseconds, UTC
    std::string owner;             // user name of the uid that created it
    uint64_t init_start_time = 0;  // /proc/<pid>/stat field 22: tells a reused pid apart

    // The JSON `rt state` prints (runc's field names).
    nlohmann::json to_json() const;
};

enum class LogLevel { Debug, Info, Warning, Error };
using LogSink = std::function<void(LogLevel, const std::string&)>;

struct CreateOptions {
    std::string bundle = ".";
    std::string pid_file;         // written with the container's pid after create
    std::string console_socket;   // AF_UNIX path that receives the pty master (terminal: true)
    bool no_pivot = false;        // MS_MOVE + chroot instead of pivot_root
    bool no_new_keyring = false;  // do not make a session keyring for the container
    int preserve_fds = 0;         // fds 3 .. 3+N-1 pass into the container
    // Socket activation (systemd's LISTEN_FDS, as runc): fds 3 .. 3+N-1 pass into the container
    // before the preserved fds, and its process gets LISTEN_FDS=N and LISTEN_PID=1.
    int listen_fds = 0;
};

struct RunOptions : CreateOptions {
    bool detach = false;  // like create + start, then return
    bool keep = false;    // do not delete the container after it exits
};

// `rt exec`: a new process in a running (or created) container. Without process_file the
// process is the container's own (config.json's process at create) with args and the flags below
// applied over it, as runc does; with process_file it is that process.json, and the flags that
// describe the process are ignored.
struct ExecOptions {
    std::string process_file;                  // --process: a process.json (runc's format)
    std::vector<std::string> args;             // CMD ARGS...
    bool tty = false;                          // a new pty (process.terminal)
    bool detach = false;                       // return once the process has started
    std::string pid_file;                      // written with the process's pid (host's view)
    std::string console_socket;                // receives the pty master (tty)
    std::string cwd;                           // process.cwd
    std::vector<std::string> env;              // K=V, replacing the container's K or added
    std::string user;                          // "UID[:GID]"
    std::vector<std::string> additional_gids;  // added to user.additionalGids
    std::vector<std::string> caps;             // added to every set but the inheritable one
    bool no_new_privs = false;
    std::string apparmor;       // process.apparmorProfile
    std::string process_label;  // process.selinuxLabel
    int preserve_fds = 0;       // fds 3 .. 3+N-1 pass into the process
    std::string cgroup;         // [CONTROLLER:]PATH: an existing sub-cgroup of the container's
};

class Runtime {
public:
    explicit Runtime(std::string root = "/run/rt", LogSink log = {});

    const std::string& root() const { return root_; }

    // Create a container from a bundle; it waits for start() in its exec fifo.
    ContainerState create(const std::string& id, const CreateOptions& opts);
    // Let a created container execve its process; runs poststart hooks.
    void start(const std::string& id);
    ContainerState state(const std::string& id);
    // Send sig to the container's init (all: to every process in its cgroup).
    void kill(const std::string& id, int sig, bool all);
    // Remove a stopped (or, with force, any) container: poststop hooks, cgroup, state.
    void remove(const std::string& id, bool force);
    std::vector<ContainerState> list();
    // create + start; in the foreground waits and returns the exit code (128+N for signal N),
    // forwarding signals and relaying a terminal. Detached: returns 0 once started.
    int run(const std::string& id, const RunOptions& opts);

    // cgroups (container_cgroups.cpp).
    // Apply a linux.resources object (only what it sets) to a created, running or paused container.
    void update(const std::string& id, const nlohmann::json& resources);
    // Freeze / thaw every process of the container (v1 freezer, v2 cgroup.freeze).
    void pause(const std::string& id);
    void resume(const std::string& id);
    // The pids (host view) of every process in the container's cgroup.
    std::vector<int> pids(const std::string& id);
    // runc's events: {"type":"stats","id":ID,"data":{cpu, memory, pids, blkio, hugetlb}} every
    // interval and {"type":"oom","id":ID} when the kernel OOM-kills in the container, until the
    // container's init exits or sink returns false. stats_once: one stats event, then return.
    void events(const std::string& id, int interval_ms, bool stats_once,
                const std::function<bool(const nlohmann::json&)>& sink);
    // Start a process in a container's namespaces and cgroup. In the foreground waits and returns
    // its exit code (128+N for signal N), forwarding signals and relaying a terminal. Detached:
    // returns 0 once it has started.
    int exec(const std::string& id, const ExecOptions& opts);

    void log(LogLevel level, const std::string& msg) const {
        if (log_) log_(level, msg);
    }

private:
    std::string root_;
    LogSink log_;
};

// Container ids: non-empty, no '/', not "." or "..", printable, at most 1024 bytes.
void validate_id(const std::string& id);

// Parse "SIGTERM", "TERM", "15" (case-insensitive names); throws rt::Error on junk.
int parse_signal(const std::string& s);

}  // namespace rt
