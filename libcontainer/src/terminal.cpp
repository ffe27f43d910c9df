// Terminals: pty pairs, fd passing, the console socket protocol and foreground supervision.
#include "terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "rt/error.hpp"
#include "util.hpp"

namespace rt::terminal {

namespace {

// pidfd_send_signal(2) through syscall(): signals exactly the container init, never a recycled pid.
int sys_pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

// ioctl() retried on EINTR: guards against tty ioctls interrupted by a signal.
int ioctl_eintr(int fd, unsigned long req, void* arg) {
    int r;
    do {
        r = ::ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    return r;
}

// read() retried on EINTR: guards against reads interrupted by a signal.
ssize_t read_eintr(int fd, void* buf, size_t len) {
    ssize_t n;
    do {
        n = ::read(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n;
}

// Write all of buf: guards against partial writes, EINTR, and EAGAIN on a non-blocking fd (waits
// in poll() for POLLOUT). Returns false with errno set on a real error.
bool write_all(int fd, const char* buf, size_t len) {
    while (len > 0) {
        ssize_t n = write_no_sigpipe(fd, buf, len);
        if (n < 0) {
            if (errno != EAGAIN) return false;
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, -1) < 0 && errno != EINTR) return false;
            continue;
        }
        buf += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

// waitpid() retried on EINTR: guards against losing the exit status to an interrupted wait.
pid_t waitpid_eintr(pid_t pid, int* status) {
    pid_t r;
    do {
        r = ::waitpid(pid, status, 0);
    } while (r < 0 && errno == EINTR);
    return r;
}

// The pty's name in the devpts instance the master came from ("/dev/pts/3"), via TIOCGPTN rather
// than ptsname(), which would resolve against rt's /dev/pts instead of the container's.
std::string pty_name(int master_fd) {
    unsigned int n = 0;
    if (ioctl_eintr(master_fd, TIOCGPTN, &n) < 0) throw_errno("ioctl TIOCGPTN");
    return "/dev/pts/" + std::to_string(n);
}

// Copy rt's window size (stdin's, else stdout's, when a tty) to the pty; no-op without a tty.
void copy_window_size(int master_fd) {
    winsize ws{};
    for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        if (::isatty(fd) && ioctl_eintr(fd, TIOCGWINSZ, &ws) == 0) {
            ioctl_eintr(master_fd, TIOCSWINSZ, &ws);  // best effort: a resize is not worth failing for
            return;
        }
    }
}

// Puts a tty into raw mode for its lifetime and restores the saved termios on every exit path.
class RawMode {
public:
    explicit RawMode(int fd) {
        if (!::isatty(fd)) return;
        termios raw{};
        if (::tcgetattr(fd, &saved_) < 0) throw_errno("tcgetattr");
        raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd, TCSANOW, &raw) < 0) throw_errno("tcsetattr raw");
        fd_ = fd;
    }
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;
    ~RawMode() {
        if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
    }

private:
    int fd_ = -1;
    termios saved_{};
};

enum class Pump { Data, Again, Done };

// Read once from the master and write it to stdout. Done: the master is finished (EIO: every slave
// fd is closed; or EOF). An unwritable stdout drops the output but keeps the master drained.
Pump pump_master(int master_fd, bool& stdout_ok) {
    char buf[8192];
    ssize_t n = read_eintr(master_fd, buf, sizeof buf);
    if (n < 0) return errno == EAGAIN ? Pump::Again : Pump::Done;
    if (n == 0) return Pump::Done;
    if (stdout_ok && !write_all(STDOUT_FILENO, buf, static_cast<size_t>(n))) stdout_ok = false;
    return Pump::Data;
}

}  // namespace

Pty open_pty(const std::optional<spec::ConsoleSize>& size) {
    Pty pty;
    // O_NOCTTY: opening the master must not make it our controlling terminal.
    pty.master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master) throw_errno("open /dev/ptmx");
    int unlock = 0;
    if (ioctl_eintr(pty.master.get(), TIOCSPTLCK, &unlock) < 0) throw_errno("unlockpt");

#ifdef TIOCGPTPEER
    // TIOCGPTPEER opens the slave of this very master, without a path lookup in /dev/pts.
    int slave = ::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave >= 0) {
        pty.slave.reset(slave);
    } else if (errno != EINVAL && errno != ENOTTY) {
        throw_errno("ioctl TIOCGPTPEER");
    }
#endif
    if (!pty.slave) {  // kernels before 4.13
        std::string name = pty_name(pty.master.get());
        pty.slave.reset(::open(name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!pty.slave) throw_errno("open " + name);
    }

    if (size) {
        winsize ws{};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        if (ioctl_eintr(pty.master.get(), TIOCSWINSZ, &ws) < 0) throw_errno("ioctl TIOCSWINSZ");
    }
    return pty;
}

void make_controlling(int slave_fd) {
    if (::setsid() < 0) throw_errno("setsid");
    if (ioctl_eintr(slave_fd, TIOCSCTTY, nullptr) < 0) throw_errno("ioctl TIOCSCTTY");
    for (int target = 0; target <= 2; ++target) {
        if (slave_fd == target) {
            // dup2(fd, fd) is a no-op that would leave FD_CLOEXEC set on the stdio fd.
            if (::fcntl(target, F_SETFD, 0) < 0) throw_errno("fcntl clear FD_CLOEXEC");
        } else if (::dup2(slave_fd, target) < 0) {
            throw_errno("dup2 pty slave to " + std::to_string(target));
        }
    }
}

void send_fd(int sock, int fd, const std::string& payload) {
    // At least one byte of data: a message with only ancillary data is not delivered on a stream.
    const std::string data = payload.empty() ? std::string(1, '\0') : payload;
    iovec iov{const_cast<char*>(data.data()), data.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);

    // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE that kills rt.
    ssize_t n;
    do {
        n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("sendmsg SCM_RIGHTS");
    // The fd went with the first byte; a short send leaves only plain bytes to finish.
    size_t done = static_cast<size_t>(n);
    while (done < data.size()) {
        n = ::send(sock, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("send");
        done += static_cast<size_t>(n);
    }
}

UniqueFd recv_fd(int sock, std::string* payload) {
    std::vector<char> data(4096);
    iovec iov{data.data(), data.size()};
    // Room for a few fds so that a misbehaving sender's extras are received (and closed), not leaked
    // into MSG_CTRUNC limbo.
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;

    // MSG_CMSG_CLOEXEC: the received fd is close-on-exec from the start, never leaked to a child.
    ssize_t n;
    do {
        n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("recvmsg SCM_RIGHTS");
    if (n == 0) throw Error("recvmsg SCM_RIGHTS: connection closed before a file descriptor was sent");

    UniqueFd received;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (!received) {
                received.reset(fd);
            } else {
                ::close(fd);  // only one fd is expected; close the extras
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) throw Error("recvmsg SCM_RIGHTS: control data truncated");
    if (!received) throw Error("recvmsg SCM_RIGHTS: no file descriptor in message");

    if (payload != nullptr) {
        payload->assign(data.data(), static_cast<size_t>(n));
        if (*payload == std::string(1, '\0')) payload->clear();  // send_fd's stand-in for ""
    }
    return received;
}

void send_to_console_socket(const std::string& path, int master_fd) {
    with_context("console socket " + path, [&] {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path.empty() || path.size() >= sizeof addr.sun_path)
            throw Error("path length " + std::to_string(path.size()) + " does not fit in sockaddr_un");
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

        UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!sock) throw_errno("socket");
        int r;
        do {
            r = ::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        } while (r < 0 && errno == EINTR);
        if (r < 0) throw_errno("connect");
        send_fd(sock.get(), master_fd, pty_name(master_fd));
    });
}

ForwardedSignals::ForwardedSignals() {
    sigset_t forward;
    sigemptyset(&forward);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD})
        sigaddset(&forward, s);
    if (::sigprocmask(SIG_BLOCK, &forward, &orig_) < 0) throw_errno("block signals");
    fd_.reset(::signalfd(-1, &forward, SFD_CLOEXEC));
    if (!fd_) {
        int err = errno;
        ::sigprocmask(SIG_SETMASK, &orig_, nullptr);
        throw_errno("signalfd", err);
    }
}

ForwardedSignals::~ForwardedSignals() {
    fd_.reset();
    ::sigprocmask(SIG_SETMASK, &orig_, nullptr);
}

int supervise(int pidfd, pid_t pid, int signal_fd, int master_fd) {
    const bool relay = master_fd >= 0;
    std::optional<RawMode> raw;
    if (relay) {
        raw.emplace(STDIN_FILENO);
        // Non-blocking master: reads stop at EAGAIN when draining, writes never stall the loop.
        int flags = ::fcntl(master_fd, F_GETFL);
        if (flags < 0 || ::fcntl(master_fd, F_SETFL, flags | O_NONBLOCK) < 0)
            throw_errno("fcntl pty master O_NONBLOCK");
        copy_window_size(master_fd);
    }

    bool stdin_open = relay;   // still copying stdin to the master
    bool master_open = relay;  // the master still delivers output
    bool stdout_ok = true;     // stdout still accepts output
    std::string to_master;     // stdin bytes the master has not accepted yet

    for (;;) {
        pollfd pfds[4];
        nfds_t nfds = 0;
        int sig_i = -1, pid_i = -1, in_i = -1, master_i = -1;
        if (signal_fd >= 0) {
            sig_i = static_cast<int>(nfds);
            pfds[nfds++] = {signal_fd, POLLIN, 0};
        }
        pid_i = static_cast<int>(nfds);
        pfds[nfds++] = {pidfd, POLLIN, 0};
        if (stdin_open && to_master.empty()) {
            in_i = static_cast<int>(nfds);
            pfds[nfds++] = {STDIN_FILENO, POLLIN, 0};
        }
        if (master_open || !to_master.empty()) {
            short events = static_cast<short>((master_open ? POLLIN : 0) | (to_master.empty() ? 0 : POLLOUT));
            master_i = static_cast<int>(nfds);
            pfds[nfds++] = {master_fd, events, 0};
        }

        if (::poll(pfds, nfds, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll");
        }

        if (sig_i >= 0 && pfds[sig_i].revents) {
            signalfd_siginfo infos[16];
            ssize_t n = read_eintr(signal_fd, infos, sizeof infos);
            if (n < 0 && errno != EAGAIN) throw_errno("read signalfd");
            for (ssize_t i = 0; n > 0 && i < n / static_cast<ssize_t>(sizeof infos[0]); ++i) {
                int sig = static_cast<int>(infos[i].ssi_signo);
                if (sig == SIGCHLD) continue;  // the pidfd says when the init exits
                if (sig == SIGWINCH && relay) {
                    copy_window_size(master_fd);
                    continue;
                }
                // ESRCH: the init already exited; its status is about to arrive on the pidfd.
                if (sys_pidfd_send_signal(pidfd, sig) < 0 && errno != ESRCH)
                    throw_errno("pidfd_send_signal " + std::to_string(sig));
            }
        }

        if (master_i >= 0 && (pfds[master_i].revents & POLLOUT) && !to_master.empty()) {
            ssize_t n = write_no_sigpipe(master_fd, to_master.data(), to_master.size());
            if (n > 0) {
                to_master.erase(0, static_cast<size_t>(n));
            } else if (n < 0 && errno != EAGAIN) {
                to_master.clear();  // the terminal is gone: input has nowhere to go
                stdin_open = false;
            }
        }
        if (master_i >= 0 && master_open && (pfds[master_i].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (pump_master(master_fd, stdout_ok) == Pump::Done) master_open = false;
        }
        if (relay && !master_open) {
            to_master.clear();  // no slave is open any more: input has no reader
            stdin_open = false;
        }

        if (in_i >= 0 && pfds[in_i].revents) {
            char buf[4096];
            ssize_t n = read_eintr(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                to_master.assign(buf, static_cast<size_t>(n));
                ssize_t w = write_no_sigpipe(master_fd, to_master.data(), to_master.size());
                if (w > 0) {
                    to_master.erase(0, static_cast<size_t>(w));
                } else if (w < 0 && errno != EAGAIN) {
                    to_master.clear();
                    stdin_open = false;
                }
            } else if (n == 0 || errno != EAGAIN) {
                stdin_open = false;  // EOF (or a broken stdin): stop reading it, as runc does
            }
        }

        if (pfds[pid_i].revents & POLLNVAL) throw Error("poll: pidfd " + std::to_string(pidfd) + " not open");
        if (pfds[pid_i].revents & POLLIN) {
            int status = 0;
            if (waitpid_eintr(pid, &status) < 0) throw_errno("waitpid");
            // Drain what the container wrote before it exited; EAGAIN means nothing is left
            // (the tty layer flushes pending input before a non-blocking read reports EAGAIN).
            while (master_open && pump_master(master_fd, stdout_ok) == Pump::Data) {
            }
            return status;
        }
    }
}

}  // namespace rt::terminal
