// Test harness for integration tests: run the rt binary, build bundles from the busybox rootfs,
// look at what happened. Tests read like a shell session:
//
//   Bundle b;                                   // temp dir, rootfs copied from $RT_ROOTFS
//   b.args({"sh", "-c", "echo hi; exit 3"});
//   auto r = rt({"run", "--bundle", b.dir(), "c1"});
//   CHECK(r.status == 3);
//   CHECK(r.out == "hi\n");
//
// Environment (set by meson test): RT_BINARY (the rt under test; may be runc to validate tests),
// RT_ROOTFS (busybox rootfs), RT_TOOLS_DIR (dir with recvtty), RT_SOURCE_DIR.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace th {

struct Result {
    int status = -1;  // exit code; 128+N when killed by signal N
    std::string out;  // stdout
    std::string err;  // stderr
};

class Process;  // added: a background child, defined below

// The runtime binary under test, and whether it is rt itself (false when validating against runc).
const std::string& binary();
bool is_rt();

// A fresh per-process state root (a temp dir under /run/rt-test/), removed at exit. Every rt()
// call passes --root <state_root()> first.
const std::string& state_root();

// Run the runtime with args: `<binary> --root <state_root()> args...`. stdin is /dev/null unless
// input is given. Waits for it. Never throws on non-zero exit.
Result rt(const std::vector<std::string>& args, const std::string& input = "");
// Same, without --root injection (for --version, --help).
Result rt_raw(const std::vector<std::string>& args, const std::string& input = "");

// Run a shell command line on the host (/bin/sh -c), capture stdout/stderr.
Result sh(const std::string& cmdline);

// Read a whole file ("" if missing); does a path exist.
std::string read_file(const std::string& path);
bool exists(const std::string& path);
void write_file(const std::string& path, const std::string& data);

// A unique container id for this test process: "<prefix>-<pid>-<counter>".
std::string unique_id(const std::string& prefix = "t");

// A bundle in a temp dir: rootfs/ copied from $RT_ROOTFS, config.json from a default spec
// (runc's `spec` default with terminal=false, args {"true"}, root.path "rootfs", cgroupsPath
// "/rt-test/<id-ish>" unset) that tests edit with config() before save(). The destructor
// deletes every container created with this bundle's ids (rt delete --force) and removes the dir.
// (As implemented: hostname "rt-test", root.readonly false so containers can leave marker files
// in the rootfs, and runc's /sys/fs/cgroup mount left out; otherwise runc 1.1's `spec` output.)
class Bundle {
public:
    Bundle();
    ~Bundle();
    Bundle(const Bundle&) = delete;
    Bundle& operator=(const Bundle&) = delete;

    const std::string& dir() const { return dir_; }
    std::string rootfs() const { return dir_ + "/rootfs"; }
    nlohmann::json& config() { return config_; }

    // Shorthands that edit config() (save() is implicit before every rt call made through run/create).
    Bundle& args(const std::vector<std::string>& a);
    Bundle& env(const std::string& kv);  // append
    Bundle& remove_namespace(const std::string& type);
    Bundle& add_mount(const nlohmann::json& m);
    void save() const;  // write config.json

    // Convenience wrappers: save(), then `rt <verb> --bundle dir() [extra...] id`, remembering id
    // for cleanup.
    Result run(const std::string& id, const std::vector<std::string>& extra = {});
    Result create(const std::string& id, const std::vector<std::string>& extra = {});

    // Added: remember an id (for containers made with rt()/rt_bg() directly) so the destructor
    // deletes it; and `rt start id`.
    void track(const std::string& id);
    Result start(const std::string& id);
    // Added: `rt run --bundle dir() [extra...] id` in the background (save() first, id tracked).
    Process run_bg(const std::string& id, const std::vector<std::string>& extra = {},
                   bool pipe_stdin = false);

private:
    std::string dir_;
    nlohmann::json config_;
    std::vector<std::string> ids_;
};

// `rt state id` parsed; null json when the command fails.
nlohmann::json state(const std::string& id);

// Namespace inode link of a process: readlink("/proc/<pid>/ns/<type>").
std::string ns_link(pid_t pid, const std::string& type);

// Start a detached container running `sleep 1000` (create + start), return its pid. Cleanup is
// the Bundle's.
pid_t start_sleeper(Bundle& b, const std::string& id);

// Skip the current test binary (exit 77 for meson) with a printed reason.
[[noreturn]] void skip_all(const std::string& reason);

// ---- Additions (beyond the original API) ----------------------------------------------------

// $RT_ROOTFS and $RT_TOOLS_DIR (skip_all when RT_ROOTFS is unset or missing).
const std::string& rootfs_source();
const std::string& tools_dir();

// Run argv directly (no shell; argv[0] is looked up in PATH), capture stdout/stderr. stdin is
// /dev/null unless input is given. A child still running after timeout_s is SIGKILLed and the
// Result has status -1 with a note in err. Output is read with poll(), so large outputs can't
// deadlock; the call returns when the child exits, even if a grandchild (a detached container)
// still holds the pipes.
Result run_argv(const std::vector<std::string>& argv, const std::string& input = "", double timeout_s = 60);

// Poll pred every ~10 ms until it returns true or timeout_s passes; returns the last result.
bool wait_for(const std::function<bool()>& pred, double timeout_s = 5.0);

// Does pid exist and is it not a zombie.
bool pid_alive(pid_t pid);
// /proc/<pid>/stat field 22 (start time in clock ticks), 0 when the pid is gone.
unsigned long long pid_start_time(pid_t pid);

// Entries of a directory (names, sorted, without . and ..); empty if it can't be read.
std::vector<std::string> list_dir(const std::string& path);

// Split into lines (no trailing empty line for a final '\n'); strip surrounding whitespace.
std::vector<std::string> lines(const std::string& s);
std::string trim(const std::string& s);

// `rt state id` .status, or "" when `rt state` fails.
std::string status_of(const std::string& id);

// A temp dir (under $TMPDIR or /tmp) removed recursively by the destructor.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "rt-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A child running in the background with stdout/stderr (and optionally stdin) as pipes. The
// destructor SIGKILLs and reaps it if it is still running.
class Process {
public:
    Process() = default;
    Process(Process&& o) noexcept;
    Process& operator=(Process&& o) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    bool running();                             // not yet exited (reaps if it has)
    void signal(int sig);                       // kill(pid(), sig)
    void write_stdin(const std::string& data);  // only with pipe_stdin
    void close_stdin();
    // Read output until stdout (or stderr, if in_stderr) contains needle; false on timeout or if
    // the process exits first without printing it.
    bool wait_output(const std::string& needle, double timeout_s = 5.0, bool in_stderr = false);
    const std::string& out() const { return result_.out; }
    const std::string& err() const { return result_.err; }
    // Wait for exit (SIGKILL after timeout_s, status -1) and return everything it printed.
    Result wait(double timeout_s = 60);

private:
    friend Process spawn(const std::vector<std::string>& argv, bool pipe_stdin);
    friend Result run_argv(const std::vector<std::string>& argv, const std::string& input, double timeout_s);
    void pump(int timeout_ms);  // one poll round: read output, reap on exit
    void reset();               // kill + reap if running, close fds
    void close_fds();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int in_ = -1, out_ = -1, err_ = -1;
    bool exited_ = false;
    Result result_;
};

// The argv rt() runs: {binary(), "--root", state_root(), args...}.
std::vector<std::string> rt_argv(const std::vector<std::string>& args);
// One shell word per argument ('...' quoting), joined by spaces: for `script -c`, `sh -c`.
std::string shell_quote(const std::vector<std::string>& argv);

// Start argv in the background (stdin /dev/null unless pipe_stdin).
Process spawn(const std::vector<std::string>& argv, bool pipe_stdin = false);

// `rt args...` with a terminal (script(1)) as its stdin and stdout: once it prints "ready", type
// "hello\n"; wait for "got:" and its exit, and return what it printed (status: the exit code).
Result run_in_terminal(const std::vector<std::string>& args);
// Start `<binary> --root <state_root()> args...` in the background.
Process rt_bg(const std::vector<std::string>& args, bool pipe_stdin = false);

}  // namespace th
