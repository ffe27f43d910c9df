// recvtty: the receiving end of `rt create --console-socket` for tests (cf. runc contrib/cmd/recvtty).
//
//   recvtty [--mode single|null] [--pid-file F] [--ready-file F] [--echo-input TEXT] [--output FILE]
//           SOCKET_PATH
//
// Listens on SOCKET_PATH, accepts one connection and receives the pty master sent with SCM_RIGHTS
// (payload: the pty's name). Then writes --echo-input (verbatim) into the master and copies all
// that the master delivers to --output (or stdout) until EOF/EIO, i.e. until every slave fd is
// closed; "null" mode reads and discards it instead. Exits 0; on errors prints one line, exits 1.
// --pid-file (our pid) and --ready-file (empty) are created after listen(), atomically, so a test
// that waits for them knows the socket accepts connections.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <cxxopts.hpp>

namespace {

// Closes the fd it owns on every exit path.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    void reset(int fd) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

[[noreturn]] void fail_errno(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Write all of buf: guards against partial writes and EINTR.
void write_all(int fd, const char* buf, size_t len, const char* what) {
    while (len > 0) {
        ssize_t n = ::write(fd, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno(what);
        buf += n;
        len -= static_cast<size_t>(n);
    }
}

// Create path with content via a temporary and rename(): guards against a reader seeing it empty.
void write_file_atomic(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) fail_errno("open " + tmp);
        write_all(fd.get(), content.data(), content.size(), "write pid/ready file");
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) fail_errno("rename " + tmp + " to " + path);
}

// recvmsg() for one SCM_RIGHTS fd, close-on-exec, retried on EINTR; extra fds are closed.
int recv_fd(int sock, std::string& name) {
    char data[4096];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) fail_errno("recvmsg");
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int got;
            std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
            if (fd < 0) {
                fd = got;
            } else {
                ::close(got);
            }
        }
    }
    if (fd < 0)
        throw std::runtime_error(n == 0 ? "connection closed without a file descriptor"
                                        : "message carried no file descriptor");
    name.assign(data, static_cast<size_t>(n));
    return fd;
}

int run(int argc, char** argv) {
    cxxopts::Options options("recvtty", "Receive a pty master over a console socket (test tool)");
    options.add_options()("mode", "single: copy the output; null: discard it",
                          cxxopts::value<std::string>()->default_value("single"))(
        "pid-file", "write our pid here once listening", cxxopts::value<std::string>())(
        "ready-file", "create this file once listening", cxxopts::value<std::string>())(
        "echo-input", "text to write into the pty master", cxxopts::value<std::string>())(
        "output", "copy the pty output here instead of stdout", cxxopts::value<std::string>())(
        "socket", "console socket path", cxxopts::value<std::string>())("h,help", "print help");
    options.parse_positional({"socket"});
    options.positional_help("SOCKET_PATH");
    auto opts = options.parse(argc, argv);
    if (opts.count("help")) {
        std::fputs(options.help().c_str(), stdout);
        return 0;
    }
    if (!opts.count("socket")) throw std::runtime_error("missing SOCKET_PATH");
    const std::string mode = opts["mode"].as<std::string>();
    if (mode != "single" && mode != "null") throw std::runtime_error("unknown --mode " + mode);
    const std::string path = opts["socket"].as<std::string>();

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) fail_errno("socket");
    struct stat st {};
    // A stale socket from an earlier run would make bind() fail with EADDRINUSE.
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
        fail_errno("bind " + path);
    if (::listen(listener.get(), 1) < 0) fail_errno("listen " + path);

    if (opts.count("pid-file"))
        write_file_atomic(opts["pid-file"].as<std::string>(), std::to_string(::getpid()));
    if (opts.count("ready-file")) write_file_atomic(opts["ready-file"].as<std::string>(), "");

    int c;
    do {
        c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    } while (c < 0 && errno == EINTR);
    if (c < 0) fail_errno("accept");
    Fd conn(c);
    ::unlink(path.c_str());  // one connection only: nobody else should find the socket

    std::string name;
    Fd master(recv_fd(conn.get(), name));

    Fd output_file(-1);
    int out = STDOUT_FILENO;
    if (opts.count("output")) {
        const std::string out_path = opts["output"].as<std::string>();
        output_file.reset(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (output_file.get() < 0) fail_errno("open " + out_path);
        out = output_file.get();
    }

    if (opts.count("echo-input")) {
        const std::string text = opts["echo-input"].as<std::string>();
        write_all(master.get(), text.data(), text.size(), "write to pty master");
    }

    char buf[8192];
    for (;;) {
        ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EIO) break;  // every slave fd is closed
        if (n < 0) fail_errno("read pty master");
        if (n == 0) break;
        if (mode == "single") write_all(out, buf, static_cast<size_t>(n), "write output");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "recvtty: %s\n", e.what());
        return 1;
    }
}
