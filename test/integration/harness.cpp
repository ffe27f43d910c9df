// Implementation of the integration-test harness (see harness.hpp).
#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace th {
namespace {

using Clock = std::chrono::steady_clock;

std::string env_or(const char* name, const std::string& dflt = "") {
    const char* v = getenv(name);
    return v && *v ? std::string(v) : dflt;
}

std::string errno_str(const std::string& what) { return what + ": " + strerror(errno); }

int status_code(int wstatus) {
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return -1;
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Read what is available on fd into buf. Returns false at EOF / error (fd should be closed).
bool read_some(int fd, std::string& buf) {
    char chunk[65536];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            buf.append(chunk, static_cast<size_t>(n));
            if (static_cast<size_t>(n) < sizeof chunk) return true;
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return false;
    }
}

// Ignore SIGPIPE once in the test process: writing input to a child that exited must not kill us.
void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] { signal(SIGPIPE, SIG_IGN); });
}

std::vector<std::string> with_root(const std::vector<std::string>& args) {
    std::vector<std::string> argv{binary(), "--root", state_root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// The default config: `runc spec` (runc 1.1) with terminal false, args ["true"], hostname
// "rt-test", and a writable rootfs (tests write marker files into it). Like the brief's list of
// mounts, the /sys/fs/cgroup mount of runc's default is left out.
json default_config() {
    const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    return json{
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", {"true"}},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
          {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", false}}},
        {"hostname", "rt-test"},
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
         }},
        {"linux",
         {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
          {"namespaces",
           {{{"type", "pid"}},
            {{"type", "network"}},
            {{"type", "ipc"}},
            {{"type", "uts"}},
            {{"type", "mount"}}}},
          {"maskedPaths",
           {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
          {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
    };
}

std::string make_temp_dir(const std::string& base, const std::string& prefix) {
    std::string tmpl = base + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error(errno_str("mkdtemp " + tmpl));
    return std::string(buf.data());
}

void remove_tree(const std::string& path) {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
        // Something still mounted or busy: try once more with rm (it reports what's wrong).
        run_argv({"rm", "-rf", "--one-file-system", path}, "", 30);
    }
}

void cleanup_state_root();

}  // namespace

// ---- process spawning -------------------------------------------------------------------------

Process spawn(const std::vector<std::string>& argv, bool pipe_stdin) {
    ignore_sigpipe();
    if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);

    int in[2] = {-1, -1}, out[2], err[2];
    if (pipe_stdin) {
        if (pipe2(in, O_CLOEXEC) < 0) throw std::runtime_error(errno_str("pipe2"));
    } else {
        in[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in[0] < 0) throw std::runtime_error(errno_str("open /dev/null"));
    }
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) throw std::runtime_error(errno_str("pipe2"));

    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(errno_str("fork"));
    if (pid == 0) {
        // Child: only async-signal-safe calls from here on (the parent may have threads).
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);  // SIG_IGN would survive execve
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(126);
        execvp(cargv[0], cargv.data());
        const char msg[] = "harness: execvp failed\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(127);
    }
    Process p;
    p.pid_ = pid;
    p.pidfd_ = pidfd_open(pid);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    p.in_ = in[1];
    p.out_ = out[0];
    p.err_ = err[0];
    fcntl(p.out_, F_SETFL, O_NONBLOCK);
    fcntl(p.err_, F_SETFL, O_NONBLOCK);
    return p;
}

std::vector<std::string> rt_argv(const std::vector<std::string>& args) { return with_root(args); }

std::string shell_quote(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        out += '\'';
        for (char c : a) {
            if (c == '\'')
                out += "'\\''";
            else
                out += c;
        }
        out += '\'';
    }
    return out;
}

Process rt_bg(const std::vector<std::string>& args, bool pipe_stdin) {
    return spawn(with_root(args), pipe_stdin);
}

Process::Process(Process&& o) noexcept { *this = std::move(o); }

Process& Process::operator=(Process&& o) noexcept {
    if (this != &o) {
        reset();
        pid_ = std::exchange(o.pid_, -1);
        pidfd_ = std::exchange(o.pidfd_, -1);
        in_ = std::exchange(o.in_, -1);
        out_ = std::exchange(o.out_, -1);
        err_ = std::exchange(o.err_, -1);
        exited_ = std::exchange(o.exited_, false);
        result_ = std::move(o.result_);
    }
    return *this;
}

Process::~Process() { reset(); }

void Process::reset() {
    if (pid_ > 0 && !exited_) {
        ::kill(pid_, SIGKILL);
        int ws;
        while (waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
        }
        exited_ = true;
    }
    close_fds();
    pid_ = -1;
}

void Process::close_fds() {
    close_fd(pidfd_);
    close_fd(in_);
    close_fd(out_);
    close_fd(err_);
}

void Process::pump(int timeout_ms) {
    if (exited_) return;
    struct pollfd pfd[3];
    int n = 0;
    int i_out = -1, i_err = -1, i_pid = -1;
    if (out_ >= 0) {
        pfd[n] = {out_, POLLIN, 0};
        i_out = n++;
    }
    if (err_ >= 0) {
        pfd[n] = {err_, POLLIN, 0};
        i_err = n++;
    }
    if (pidfd_ >= 0) {
        pfd[n] = {pidfd_, POLLIN, 0};
        i_pid = n++;
    }
    if (pidfd_ < 0) timeout_ms = std::min(timeout_ms, 10);  // no pidfd: fall back to polling
    int r = ::poll(pfd, static_cast<nfds_t>(n), timeout_ms);
    if (r < 0 && errno != EINTR) throw std::runtime_error(errno_str("poll"));
    if (r > 0) {
        if (i_out >= 0 && pfd[i_out].revents && !read_some(out_, result_.out)) close_fd(out_);
        if (i_err >= 0 && pfd[i_err].revents && !read_some(err_, result_.err)) close_fd(err_);
    }
    bool maybe_exited = pidfd_ < 0 || (r > 0 && i_pid >= 0 && pfd[i_pid].revents);
    if (maybe_exited) {
        int ws;
        pid_t w = waitpid(pid_, &ws, WNOHANG);
        if (w == pid_) {
            exited_ = true;
            result_.status = status_code(ws);
            // The child is gone: take what it wrote, but don't wait for EOF (a detached container
            // may hold the pipes for a long time).
            if (out_ >= 0) read_some(out_, result_.out);
            if (err_ >= 0) read_some(err_, result_.err);
            close_fds();
        }
    }
}

bool Process::running() {
    if (!exited_) pump(0);
    return !exited_;
}

void Process::signal(int sig) {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

void Process::write_stdin(const std::string& data) {
    if (in_ < 0) throw std::logic_error("Process::write_stdin: no stdin pipe");
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(in_, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(errno_str("write to child stdin"));
        off += static_cast<size_t>(n);
    }
}

void Process::close_stdin() { close_fd(in_); }

bool Process::wait_output(const std::string& needle, double timeout_s, bool in_stderr) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        const std::string& buf = in_stderr ? result_.err : result_.out;
        if (buf.find(needle) != std::string::npos) return true;
        if (exited_) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pump(static_cast<int>(std::min<long long>(left.count(), 100)));
    }
}

Result Process::wait(double timeout_s) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    // Input for the child is written in full by the caller; close it so it sees EOF.
    while (!exited_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            ::kill(pid_, SIGKILL);
            int ws;
            while (waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
            }
            exited_ = true;
            if (out_ >= 0) read_some(out_, result_.out);
            if (err_ >= 0) read_some(err_, result_.err);
            close_fds();
            result_.status = -1;
            result_.err += "\n[harness: killed after " + std::to_string(timeout_s) + "s timeout]\n";
            break;
        }
        pump(static_cast<int>(std::min<long long>(left.count(), 1000)));
    }
    return result_;
}

Result run_argv(const std::vector<std::string>& argv, const std::string& input, double timeout_s) {
    Process p = spawn(argv, !input.empty());
    if (!input.empty()) {
        // Write input while reading output, so neither side can fill a pipe and block.
        fcntl(p.in_, F_SETFL, O_NONBLOCK);
        size_t off = 0;
        auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
        while (off < input.size() && p.in_ >= 0 && !p.exited_ && Clock::now() < deadline) {
            ssize_t n = ::write(p.in_, input.data() + off, input.size() - off);
            if (n > 0) {
                off += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN) break;  // EPIPE: the child doesn't read its input
            struct pollfd w = {p.in_, POLLOUT, 0};
            ::poll(&w, 1, 0);
            p.pump(10);
        }
        p.close_stdin();
    }
    return p.wait(timeout_s);
}

// ---- basic API --------------------------------------------------------------------------------

const std::string& binary() {
    static const std::string* bin = [] {
        std::string b = env_or("RT_BINARY");
        if (b.empty()) skip_all("RT_BINARY is not set (run through `meson test`)");
        if (access(b.c_str(), X_OK) != 0) skip_all("RT_BINARY " + b + " is not executable");
        if (geteuid() != 0) skip_all("integration tests need root");
        return new std::string(b);
    }();
    return *bin;
}

bool is_rt() {
    static const bool rt = [] {
        std::string v = env_or("RT_IS_RT");
        if (!v.empty()) return v != "0";
        std::string base = fs::path(env_or("RT_BINARY")).filename().string();
        return base != "runc" && base != "crun" && base != "youki";
    }();
    return rt;
}

const std::string& rootfs_source() {
    static const std::string* dir = [] {
        std::string d = env_or("RT_ROOTFS");
        if (d.empty()) skip_all("RT_ROOTFS is not set");
        if (!exists(d + "/bin/busybox"))
            skip_all("RT_ROOTFS " + d + " has no bin/busybox (build it with test/fixtures/make-rootfs.sh)");
        return new std::string(d);
    }();
    return *dir;
}

const std::string& tools_dir() {
    static const std::string* dir = new std::string(env_or("RT_TOOLS_DIR"));
    return *dir;
}

namespace {
std::atomic<bool> g_state_root_made{false};
}

const std::string& state_root() {
    static const std::string* root = [] {
        binary();  // skip early (before making dirs) when the environment isn't usable
        const std::string base = "/run/rt-test";
        if (mkdir(base.c_str(), 0700) < 0 && errno != EEXIST)
            throw std::runtime_error(errno_str("mkdir " + base));
        return new std::string(make_temp_dir(base, "root"));
    }();
    if (!g_state_root_made.exchange(true)) atexit(cleanup_state_root);
    return *root;
}

namespace {
void cleanup_state_root() {
    const std::string& root = state_root();
    Result r = run_argv({binary(), "--root", root, "list", "-q"}, "", 30);
    for (const auto& id : lines(r.out))
        if (!id.empty()) run_argv({binary(), "--root", root, "delete", "--force", id}, "", 30);
    remove_tree(root);
}
}  // namespace

Result rt(const std::vector<std::string>& args, const std::string& input) {
    return run_argv(with_root(args), input);
}

Result rt_raw(const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> argv{binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_argv(argv, input);
}

Result sh(const std::string& cmdline) { return run_argv({"/bin/sh", "-c", cmdline}); }

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return "";
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

bool exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error(errno_str("open " + path));
    f << data;
    f.close();
    if (!f) throw std::runtime_error("write " + path + " failed");
}

std::string unique_id(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

// ---- Bundle -----------------------------------------------------------------------------------

Bundle::Bundle() : config_(default_config()) {
    const std::string& src = rootfs_source();
    dir_ = make_temp_dir(env_or("TMPDIR", "/tmp"), "rt-bundle");
    chmod(dir_.c_str(), 0755);
    Result r = run_argv({"cp", "-a", src, dir_ + "/rootfs"}, "", 60);
    if (r.status != 0) {
        remove_tree(dir_);
        throw std::runtime_error("copying rootfs " + src + " failed: " + r.err);
    }
    save();
}

Bundle::~Bundle() {
    for (const auto& id : ids_) {
        try {
            rt({"delete", "--force", id});
        } catch (...) {
        }
    }
    remove_tree(dir_);
}

Bundle& Bundle::args(const std::vector<std::string>& a) {
    config_["process"]["args"] = a;
    return *this;
}

Bundle& Bundle::env(const std::string& kv) {
    config_["process"]["env"].push_back(kv);
    return *this;
}

Bundle& Bundle::remove_namespace(const std::string& type) {
    auto& ns = config_["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end();) {
        if (it->value("type", "") == type)
            it = ns.erase(it);
        else
            ++it;
    }
    return *this;
}

Bundle& Bundle::add_mount(const json& m) {
    config_["mounts"].push_back(m);
    return *this;
}

void Bundle::save() const { write_file(dir_ + "/config.json", config_.dump(2) + "\n"); }

void Bundle::track(const std::string& id) {
    if (std::find(ids_.begin(), ids_.end(), id) == ids_.end()) ids_.push_back(id);
}

Result Bundle::run(const std::string& id, const std::vector<std::string>& extra) {
    save();
    track(id);
    std::vector<std::string> args{"run", "--bundle", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(id);
    return rt(args);
}

Result Bundle::create(const std::string& id, const std::vector<std::string>& extra) {
    save();
    track(id);
    std::vector<std::string> args{"create", "--bundle", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(id);
    return rt(args);
}

Result Bundle::start(const std::string& id) { return rt({"start", id}); }

Process Bundle::run_bg(const std::string& id, const std::vector<std::string>& extra, bool pipe_stdin) {
    save();
    track(id);
    std::vector<std::string> args{"run", "--bundle", dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(id);
    return rt_bg(args, pipe_stdin);
}

// ---- queries ----------------------------------------------------------------------------------

json state(const std::string& id) {
    Result r = rt({"state", id});
    if (r.status != 0) return json();
    try {
        return json::parse(r.out);
    } catch (const json::exception&) {
        return json();
    }
}

std::string status_of(const std::string& id) {
    json s = state(id);
    if (!s.is_object() || !s.contains("status") || !s["status"].is_string()) return "";
    return s["status"].get<std::string>();
}

std::string ns_link(pid_t pid, const std::string& type) {
    std::error_code ec;
    auto target = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/" + type, ec);
    return ec ? std::string() : target.string();
}

pid_t start_sleeper(Bundle& b, const std::string& id) {
    b.args({"sleep", "1000"});
    Result c = b.create(id);
    if (c.status != 0)
        throw std::runtime_error("start_sleeper: create " + id + " failed (" + std::to_string(c.status) +
                                 "): " + c.err);
    Result s = b.start(id);
    if (s.status != 0)
        throw std::runtime_error("start_sleeper: start " + id + " failed (" + std::to_string(s.status) +
                                 "): " + s.err);
    json st = state(id);
    if (!st.is_object() || !st.contains("pid")) throw std::runtime_error("start_sleeper: no state for " + id);
    return st["pid"].get<pid_t>();
}

bool wait_for(const std::function<bool()>& pred, double timeout_s) {
    auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        if (pred()) return true;
        if (Clock::now() >= deadline) return pred();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

namespace {
// The fields of /proc/<pid>/stat after the "(comm)"; field 3 (state) is element 0.
std::vector<std::string> stat_fields(pid_t pid) {
    std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close = s.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream in(s.substr(close + 1));
    std::vector<std::string> f;
    std::string w;
    while (in >> w) f.push_back(w);
    return f;
}
}  // namespace

bool pid_alive(pid_t pid) {
    if (pid <= 0) return false;
    auto f = stat_fields(pid);
    return !f.empty() && f[0] != "Z" && f[0] != "X";
}

unsigned long long pid_start_time(pid_t pid) {
    auto f = stat_fields(pid);
    if (f.size() < 20) return 0;
    return std::stoull(f[19]);  // field 22
}

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string trim(const std::string& s) {
    const char* ws = " \t\r\n";
    auto b = s.find_first_not_of(ws);
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(ws);
    return s.substr(b, e - b + 1);
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line)) out.push_back(trim(line));
    return out;
}

TempDir::TempDir(const std::string& prefix) : path_(make_temp_dir(env_or("TMPDIR", "/tmp"), prefix)) {}

TempDir::~TempDir() { remove_tree(path_); }

[[noreturn]] void skip_all(const std::string& reason) {
    std::printf("SKIP: %s\n", reason.c_str());
    std::fflush(stdout);
    std::exit(77);
}

Result run_in_terminal(const std::vector<std::string>& args) {
    // script(1) gives rt a terminal as stdin/stdout; -e returns the child's exit code.
    Process p = spawn({"script", "-qfec", shell_quote(rt_argv(args)), "/dev/null"}, true);
    if (!p.wait_output("ready", 10)) return p.wait(10);
    p.write_stdin("hello\n");
    p.wait_output("got:", 10);
    return p.wait(10);
}

}  // namespace th
