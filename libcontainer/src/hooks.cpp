// OCI hooks: fork + execve one hook program, feed it the state on stdin, wait with a timeout.
//
// The parent never sleeps or polls in a loop: it waits in poll() on the hook's pidfd (and on the
// stdin pipe while the state is still being written) with the time left until the deadline, then
// SIGKILLs the hook through the pidfd when the deadline passes. Exec failures travel back from the
// child over a CLOEXEC pipe, so the parent reports the child's exact errno.
#include "hooks.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <optional>

#include "fd.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::hooks {

namespace {

using Clock = std::chrono::steady_clock;

// What the child reports over the error pipe when it cannot reach execve() or execve() fails.
struct ChildFailure {
    int step;  // index into kChildSteps
    int err;   // errno
};

constexpr const char* kChildSteps[] = {"dup2 stdin", "fcntl", "close_range", "execve"};

// pidfd_open(2) through syscall(): guards against libcs that lack the wrapper.
int sys_pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)); }

// pidfd_send_signal(2) through syscall(): signals exactly our child, never a recycled pid.
int sys_pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

// waitpid() retried on EINTR: guards against losing the status to an interrupted wait.
pid_t waitpid_eintr(pid_t pid, int* status) {
    pid_t r;
    do {
        r = ::waitpid(pid, status, 0);
    } while (r < 0 && errno == EINTR);
    return r;
}

// read() retried on EINTR until len bytes or EOF: guards against short reads of the error pipe.
ssize_t read_full(int fd, void* buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = ::read(fd, static_cast<char*>(buf) + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(done);
}

// The child side between fork() and execve(): only async-signal-safe calls, never returns.
[[noreturn]] void child_exec(int stdin_fd, int out_fd, int err_fd, const char* path, char* const argv[],
                             char* const envp[]) {
    auto fail = [&err_fd](int step) {
        ChildFailure f{step, errno};
        ssize_t ignored = ::write(err_fd, &f, sizeof f);
        (void)ignored;
        ::_exit(127);
    };

    // A clean signal state for the hook: the caller may block signals (signalfd) or ignore some.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);

    // Park the error pipe at fd >= 3 first so that moving stdin into place cannot clobber it.
    int err = ::fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
    if (err < 0) fail(1);
    err_fd = err;

    if (stdin_fd == 0) {
        if (::fcntl(0, F_SETFD, 0) < 0) fail(1);  // dup2(0, 0) would keep FD_CLOEXEC
    } else if (::dup2(stdin_fd, 0) < 0) {
        fail(0);
    }
    // The hook's stdout and stderr go to rt, which quotes them when the hook fails (as runc).
    if (::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) fail(0);
    if (err_fd != 3) {
        if (::dup3(err_fd, 3, O_CLOEXEC) < 0) fail(1);
        err_fd = 3;
    }
    // Every fd but 0, 1, 2 and the CLOEXEC error pipe at 3 goes now; 3 goes at execve.
    if (::close_range(4, ~0U, 0) < 0) {
        if (errno != ENOSYS) fail(2);
        long max = ::sysconf(_SC_OPEN_MAX);
        for (long fd = 4; fd < (max > 0 ? max : 1024); ++fd) ::close(static_cast<int>(fd));
    }
    ::execve(path, argv, envp);
    fail(3);
    ::_exit(127);  // not reached
}

// Kills and reaps the hook when run_one leaves early (an error after fork).
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;
    ~ChildGuard() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status;
            waitpid_eintr(pid_, &status);
        }
    }
    // The child has been reaped: nothing left to clean up.
    void reaped() { pid_ = -1; }

private:
    pid_t pid_;
};

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "ended with wait status " + std::to_string(status);
}

// Milliseconds left until the deadline, rounded up and clamped to poll()'s int.
int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

void run_hook(const spec::Hook& hook, const std::string& state_json) {
    // Everything the child needs is built before fork(): no allocation after it.
    std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = hook.env;
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    std::optional<Clock::time_point> deadline;
    if (hook.timeout && *hook.timeout > 0) deadline = Clock::now() + std::chrono::seconds(*hook.timeout);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe2");
    UniqueFd stdin_r(fds[0]), stdin_w(fds[1]);
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno("pipe2");
    UniqueFd err_r(fds[0]), err_w(fds[1]);
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) throw_errno("pipe2");
    UniqueFd out_r(fds[0]), out_w(fds[1]);

    pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0)
        child_exec(stdin_r.get(), out_w.get(), err_w.get(), hook.path.c_str(), argv.data(), envp.data());

    ChildGuard guard(pid);
    stdin_r.reset();
    err_w.reset();
    out_w.reset();
    std::string output;
    auto drain = [&] {
        char buf[4096];
        ssize_t got = -1;
        while (out_r && (got = ::read(out_r.get(), buf, sizeof buf)) > 0)
            if (output.size() < 4096) output.append(buf, static_cast<size_t>(std::min<ssize_t>(got, 4096)));
        if (got == 0) out_r.reset();
    };

    UniqueFd pidfd(sys_pidfd_open(pid));
    if (!pidfd) throw_errno("pidfd_open");

    // EOF: execve succeeded (the CLOEXEC pipe closed); a ChildFailure: it did not.
    ChildFailure failure{};
    ssize_t n = read_full(err_r.get(), &failure, sizeof failure);
    if (n < 0) throw_errno("read exec status");
    if (n == static_cast<ssize_t>(sizeof failure)) {
        int status;
        if (waitpid_eintr(pid, &status) >= 0) guard.reaped();
        int step = failure.step >= 0 && failure.step < 4 ? failure.step : 3;
        throw_errno(kChildSteps[step], failure.err);
    }
    err_r.reset();

    // The write end is non-blocking so that a hook that never reads cannot stall rt past the
    // timeout: the state is written as the pipe drains, interleaved with waiting on the pidfd.
    if (::fcntl(stdin_w.get(), F_SETFL, O_NONBLOCK) < 0) throw_errno("fcntl O_NONBLOCK");
    size_t written = 0;
    if (state_json.empty()) stdin_w.reset();

    for (;;) {
        pollfd pfds[3] = {{pidfd.get(), POLLIN, 0}, {out_r.get(), POLLIN, 0}, {stdin_w.get(), POLLOUT, 0}};
        nfds_t nfds = stdin_w ? 3 : 2;
        int timeout = deadline ? remaining_ms(*deadline) : -1;
        int r = ::poll(pfds, nfds, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }
        if (pfds[1].revents) drain();
        if (pfds[0].revents & POLLIN) break;
        if (deadline && remaining_ms(*deadline) == 0) {
            if (sys_pidfd_send_signal(pidfd.get(), SIGKILL) < 0 && errno != ESRCH)
                throw_errno("pidfd_send_signal");
            int status;
            if (waitpid_eintr(pid, &status) < 0) throw_errno("waitpid");
            guard.reaped();
            throw Error("timed out after " + std::to_string(*hook.timeout) + "s");
        }
        if (nfds == 3 && pfds[2].revents) {
            ssize_t w =
                write_no_sigpipe(stdin_w.get(), state_json.data() + written, state_json.size() - written);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                if (errno != EPIPE) throw_errno("write state to hook stdin");
                stdin_w.reset();  // the hook closed its stdin: it does not want the state
            } else if (w > 0) {
                written += static_cast<size_t>(w);
                if (written == state_json.size()) stdin_w.reset();
            }
        }
    }

    int status;
    if (waitpid_eintr(pid, &status) < 0) throw_errno("waitpid");
    guard.reaped();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    drain();
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    for (char& c : output)
        if (c == '\n') c = ' ';  // one line
    throw Error(describe_status(status) + (output.empty() ? "" : ", output: " + output));
}

}  // namespace

void run_one(const spec::Hook& hook, const std::string& kind, size_t index, const std::string& state_json) {
    with_context(kind + " hook #" + std::to_string(index) + " " + hook.path,
                 [&] { run_hook(hook, state_json); });
}

void run_all(const std::vector<spec::Hook>& hooks, const std::string& kind, const std::string& state_json) {
    for (size_t i = 0; i < hooks.size(); ++i) run_one(hooks[i], kind, i, state_json);
}

std::vector<std::string> run_all_warn(const std::vector<spec::Hook>& hooks, const std::string& kind,
                                      const std::string& state_json) {
    std::vector<std::string> failures;
    for (size_t i = 0; i < hooks.size(); ++i) {
        try {
            run_one(hooks[i], kind, i, state_json);
        } catch (const Error& e) {
            failures.emplace_back(e.what());
        }
    }
    return failures;
}

}  // namespace rt::hooks
