// Unit tests for the hooks and terminal modules.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "fd.hpp"
#include "hooks.hpp"
#include "rt/error.hpp"
#include "terminal.hpp"

namespace {

namespace fs = std::filesystem;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "rt-unit-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

rt::spec::Hook sh_hook(const std::string& script, std::optional<int> timeout = std::nullopt) {
    rt::spec::Hook h;
    h.path = "/bin/sh";
    h.args = {"sh", "-c", script};
    h.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    h.timeout = timeout;
    return h;
}

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const rt::Error& e) {
        return e.what();
    }
    return "";
}

// Read from fd until want bytes arrived or 5 s passed.
std::string read_some(int fd, size_t want) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buf[256];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

// A pidfd for a forked child; kills and reaps the child when that fails, so no test leaves it behind.
rt::UniqueFd pidfd_or_kill(pid_t pid) {
    rt::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)));
    if (!fd) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    return fd;
}

size_t open_fd_count() {
    return static_cast<size_t>(
        std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

// Redirects fd (stdin/stdout) to another fd for the scope and restores it.
struct Redirect {
    int target;
    int saved;
    Redirect(int target_fd, int replacement) : target(target_fd), saved(::dup(target_fd)) {
        ::dup2(replacement, target);
    }
    ~Redirect() {
        ::dup2(saved, target);
        ::close(saved);
    }
};

}  // namespace

TEST_CASE("hook receives the exact state on stdin", "[hooks]") {
    TempDir dir;
    auto out = dir.path / "state.json";
    std::string state = R"({"ociVersion":"1.1.0","id":"c1","status":"creating","pid":42,"bundle":"/b"})";
    rt::hooks::run_one(sh_hook("cat > '" + out.string() + "'"), "createRuntime", 0, state);
    REQUIRE(slurp(out) == state);
}

TEST_CASE("hook receives a state larger than the pipe buffer", "[hooks]") {
    TempDir dir;
    auto out = dir.path / "big.json";
    std::string state(1 << 20, 'x');
    rt::hooks::run_one(sh_hook("cat > '" + out.string() + "'"), "poststart", 0, state);
    REQUIRE(slurp(out) == state);
}

TEST_CASE("hook that ignores a large state is not an error", "[hooks]") {
    std::string state(1 << 20, 'x');
    REQUIRE_NOTHROW(rt::hooks::run_one(sh_hook("exit 0"), "poststart", 0, state));
}

TEST_CASE("hook gets only its own environment and args", "[hooks]") {
    TempDir dir;
    auto out = dir.path / "env";
    ::setenv("RT_UNIT_LEAK", "1", 1);  // rt's own environment must not reach the hook
    auto h = sh_hook("echo \"$0 $FOO\" > '" + out.string() + "'; env >> '" + out.string() + "'");
    h.args.push_back("hookname");
    h.env = {"FOO=bar", "PATH=/usr/bin:/bin"};
    rt::hooks::run_one(h, "poststart", 0, "{}");
    ::unsetenv("RT_UNIT_LEAK");
    std::string got = slurp(out);
    CHECK(got.rfind("hookname bar\n", 0) == 0);
    CHECK(got.find("FOO=bar\n") != std::string::npos);
    CHECK(got.find("RT_UNIT_LEAK") == std::string::npos);
}

TEST_CASE("failing hook reports its exit status", "[hooks]") {
    auto msg = error_of([] { rt::hooks::run_one(sh_hook("exit 3"), "createRuntime", 2, "{}"); });
    REQUIRE(msg == "createRuntime hook #2 /bin/sh: exited with status 3");
}

TEST_CASE("hook killed by a signal reports it", "[hooks]") {
    auto msg = error_of([] { rt::hooks::run_one(sh_hook("kill -9 $$"), "poststop", 0, "{}"); });
    REQUIRE(msg == "poststop hook #0 /bin/sh: killed by signal 9");
}

TEST_CASE("hook over its timeout is killed", "[hooks]") {
    auto start = std::chrono::steady_clock::now();
    auto msg = error_of([] { rt::hooks::run_one(sh_hook("exec sleep 100", 1), "prestart", 0, "{}"); });
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(msg == "prestart hook #0 /bin/sh: timed out after 1s");
    REQUIRE(took < std::chrono::seconds(5));
    REQUIRE(took >= std::chrono::milliseconds(900));
}

TEST_CASE("hook that never reads its stdin still times out", "[hooks]") {
    std::string state(1 << 20, 'x');
    auto msg = error_of([&] { rt::hooks::run_one(sh_hook("exec sleep 100", 1), "prestart", 0, state); });
    REQUIRE(msg == "prestart hook #0 /bin/sh: timed out after 1s");
}

TEST_CASE("hook with a missing path reports the execve error", "[hooks]") {
    rt::spec::Hook h;
    h.path = "/nonexistent/hook";
    auto msg = error_of([&] { rt::hooks::run_one(h, "createContainer", 0, "{}"); });
    REQUIRE(msg == "createContainer hook #0 /nonexistent/hook: execve: No such file or directory");
}

TEST_CASE("hook does not inherit rt's fds", "[hooks]") {
    TempDir dir;
    auto out = dir.path / "fds";
    rt::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(devnull);
    // Not CLOEXEC, at a number ls would not use itself: close_range must close it.
    rt::UniqueFd extra(::fcntl(devnull.get(), F_DUPFD, 50));
    REQUIRE(extra);
    rt::hooks::run_one(sh_hook("ls /proc/self/fd > '" + out.string() + "'"), "poststart", 0, "{}");
    // ls sees 0, 1, 2 and its own directory fd: nothing of ours.
    std::string got = slurp(out);
    CHECK(got.find("0\n1\n2\n") == 0);
    REQUIRE(got.find(std::to_string(extra.get()) + "\n") == std::string::npos);
}

TEST_CASE("run_all stops at the first failure", "[hooks]") {
    TempDir dir;
    auto marker = dir.path / "ran";
    std::vector<rt::spec::Hook> hooks = {sh_hook("exit 0"), sh_hook("exit 4"),
                                         sh_hook("touch '" + marker.string() + "'")};
    auto msg = error_of([&] { rt::hooks::run_all(hooks, "createRuntime", "{}"); });
    REQUIRE(msg == "createRuntime hook #1 /bin/sh: exited with status 4");
    REQUIRE_FALSE(fs::exists(marker));
}

TEST_CASE("run_all_warn runs every hook and returns the failures", "[hooks]") {
    TempDir dir;
    auto marker = dir.path / "ran";
    rt::spec::Hook missing;
    missing.path = "/nonexistent/hook";
    std::vector<rt::spec::Hook> hooks = {sh_hook("exit 1"), missing,
                                         sh_hook("touch '" + marker.string() + "'")};
    auto msgs = rt::hooks::run_all_warn(hooks, "poststop", "{}");
    REQUIRE(msgs.size() == 2);
    CHECK(msgs[0] == "poststop hook #0 /bin/sh: exited with status 1");
    CHECK(msgs[1] == "poststop hook #1 /nonexistent/hook: execve: No such file or directory");
    REQUIRE(fs::exists(marker));
}

TEST_CASE("open_pty: slave writes read back at the master", "[terminal]") {
    auto pty = rt::terminal::open_pty(rt::spec::ConsoleSize{24, 80});
    REQUIRE(pty.master);
    REQUIRE(pty.slave);
    CHECK((::fcntl(pty.master.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK((::fcntl(pty.slave.get(), F_GETFD) & FD_CLOEXEC) != 0);
    winsize ws{};
    REQUIRE(::ioctl(pty.slave.get(), TIOCGWINSZ, &ws) == 0);
    CHECK(ws.ws_row == 24);
    CHECK(ws.ws_col == 80);

    std::string msg = "hello pty\n";
    REQUIRE(::write(pty.slave.get(), msg.data(), msg.size()) == static_cast<ssize_t>(msg.size()));
    // The line discipline turns \n into \r\n on output.
    REQUIRE(read_some(pty.master.get(), msg.size() + 1) == "hello pty\r\n");
}

TEST_CASE("send_fd/recv_fd pass an fd and the payload", "[terminal]") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    rt::UniqueFd a(sv[0]), b(sv[1]);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    rt::UniqueFd pr(p[0]), pw(p[1]);

    rt::terminal::send_fd(a.get(), pw.get(), "/dev/pts/7");
    std::string payload;
    rt::UniqueFd got = rt::terminal::recv_fd(b.get(), &payload);
    REQUIRE(got);
    CHECK(payload == "/dev/pts/7");
    CHECK((::fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);
    pw.reset();
    REQUIRE(::write(got.get(), "x", 1) == 1);
    got.reset();
    REQUIRE(read_some(pr.get(), 2) == "x");

    SECTION("empty payload") {
        rt::terminal::send_fd(a.get(), pr.get(), "");
        std::string empty = "junk";
        REQUIRE(rt::terminal::recv_fd(b.get(), &empty));
        CHECK(empty.empty());
    }
    SECTION("closed peer is an error") {
        a.reset();
        REQUIRE_THROWS_AS(rt::terminal::recv_fd(b.get()), rt::Error);
    }
}

TEST_CASE("send_to_console_socket hands the master and its name to the listener", "[terminal]") {
    TempDir dir;
    auto path = (dir.path / "console.sock").string();
    rt::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener.get(), 1) == 0);

    auto pty = rt::terminal::open_pty(std::nullopt);
    rt::terminal::send_to_console_socket(path, pty.master.get());

    rt::UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(conn);
    std::string name;
    rt::UniqueFd master = rt::terminal::recv_fd(conn.get(), &name);
    unsigned int n = 0;
    REQUIRE(::ioctl(pty.master.get(), TIOCGPTN, &n) == 0);
    CHECK(name == "/dev/pts/" + std::to_string(n));

    REQUIRE(::write(pty.slave.get(), "via socket\n", 11) == 11);
    REQUIRE(read_some(master.get(), 12) == "via socket\r\n");

    SECTION("no listener is an error naming the socket") {
        auto msg = error_of([&] {
            rt::terminal::send_to_console_socket((dir.path / "missing.sock").string(), pty.master.get());
        });
        CHECK(msg.rfind("console socket " + (dir.path / "missing.sock").string() + ": connect: ", 0) == 0);
    }
}

TEST_CASE("supervise relays the pty output and returns the wait status", "[terminal]") {
    TempDir dir;
    auto out_path = dir.path / "stdout";
    rt::UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    rt::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(out);
    REQUIRE(devnull);

    auto pty = rt::terminal::open_pty(std::nullopt);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        pty.master.reset();
        rt::terminal::make_controlling(pty.slave.get());
        const char msg[] = "hello from the container\n";
        ssize_t ignored = ::write(1, msg, sizeof msg - 1);
        (void)ignored;
        ::_exit(7);
    }
    pty.slave.reset();
    rt::UniqueFd pidfd = pidfd_or_kill(pid);
    REQUIRE(pidfd);
    int status;
    {
        Redirect r_out(STDOUT_FILENO, out.get());
        Redirect r_in(STDIN_FILENO, devnull.get());
        status = rt::terminal::supervise(pidfd.get(), pid, -1, pty.master.get());
    }
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
    CHECK(slurp(out_path) == "hello from the container\r\n");
}

TEST_CASE("supervise forwards signals to the process", "[terminal]") {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    REQUIRE(::sigprocmask(SIG_BLOCK, &set, &old) == 0);
    rt::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
    REQUIRE(sfd);

    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);  // SIGUSR1's default action ends us
        ::pause();
        ::_exit(0);
    }
    rt::UniqueFd pidfd = pidfd_or_kill(pid);
    REQUIRE(pidfd);
    ::kill(::getpid(), SIGUSR1);
    int status = rt::terminal::supervise(pidfd.get(), pid, sfd.get(), -1);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGUSR1);
}

TEST_CASE("supervise drains everything written before the exit", "[terminal]") {
    TempDir dir;
    auto out_path = dir.path / "stdout";
    rt::UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    rt::UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(out);
    REQUIRE(devnull);

    const std::string payload(200000, 'a');
    auto pty = rt::terminal::open_pty(std::nullopt);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        pty.master.reset();
        rt::terminal::make_controlling(pty.slave.get());
        size_t done = 0;
        while (done < payload.size()) {
            ssize_t n = ::write(1, payload.data() + done, payload.size() - done);
            if (n <= 0) ::_exit(1);
            done += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    pty.slave.reset();
    rt::UniqueFd pidfd = pidfd_or_kill(pid);
    REQUIRE(pidfd);
    int status;
    {
        Redirect r_out(STDOUT_FILENO, out.get());
        Redirect r_in(STDIN_FILENO, devnull.get());
        status = rt::terminal::supervise(pidfd.get(), pid, -1, pty.master.get());
    }
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(slurp(out_path).size() == payload.size());
}

TEST_CASE("hooks and fd passing leak no fds", "[hooks][terminal]") {
    size_t before = open_fd_count();
    rt::hooks::run_one(sh_hook("cat > /dev/null"), "poststart", 0, "{}");
    (void)error_of([] { rt::hooks::run_one(sh_hook("exit 3"), "poststart", 0, "{}"); });
    (void)error_of([] { rt::hooks::run_one(sh_hook("exec sleep 100", 1), "poststart", 0, "{}"); });
    rt::spec::Hook missing;
    missing.path = "/nonexistent/hook";
    (void)error_of([&] { rt::hooks::run_one(missing, "poststart", 0, "{}"); });
    {
        auto pty = rt::terminal::open_pty(std::nullopt);
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        rt::UniqueFd a(sv[0]), b(sv[1]);
        rt::terminal::send_fd(a.get(), pty.master.get(), "x");
        rt::UniqueFd got = rt::terminal::recv_fd(b.get());
        (void)error_of([&] { rt::terminal::send_to_console_socket("/nonexistent/sock", pty.master.get()); });
    }
    REQUIRE(open_fd_count() == before);
}
