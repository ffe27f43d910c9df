// seccomp-agent: a seccomp notify listener for tests (the listenerPath end of SCMP_ACT_NOTIFY).
//
//   seccomp-agent SOCKET_PATH STATE_FILE ERRNO
//
// Listens on SOCKET_PATH and prints "ready" once it accepts connections. Receives one message:
// the runtime-spec's container process state (JSON) with the notify fd (SCM_RIGHTS), and writes
// the JSON to STATE_FILE. Then answers every notification with -ERRNO and appends "syscall N" to
// STATE_FILE.log, until the last process using the filter is gone. Exits 0; on errors prints
// one line and exits 1.
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

int die(const std::string& what) {
    std::fprintf(stderr, "seccomp-agent: %s: %s\n", what.c_str(), std::strerror(errno));
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: seccomp-agent SOCKET_PATH STATE_FILE ERRNO\n");
        return 2;
    }
    const std::string sock_path = argv[1], state_file = argv[2];
    const int err = std::atoi(argv[3]);

    int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    ::unlink(sock_path.c_str());
    if (ls < 0 || ::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(ls, 1) < 0)
        return die("listen on " + sock_path);
    std::printf("ready\n");
    std::fflush(stdout);

    int conn = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return die("accept");
    std::string payload;
    int notify_fd = -1;
    for (;;) {
        char buf[65536];
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl;
        msg.msg_controllen = sizeof ctl;
        ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return die("recvmsg");
        if (n == 0) break;
        payload.append(buf, static_cast<size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                std::memcpy(&notify_fd, CMSG_DATA(c), sizeof(int));
    }
    ::close(conn);
    ::close(ls);
    if (notify_fd < 0) {
        errno = EPROTO;
        return die("no fd received");
    }
    {
        std::ofstream out(state_file + ".tmp");
        out << payload;
    }
    if (::rename((state_file + ".tmp").c_str(), state_file.c_str()) < 0) return die("write " + state_file);

    std::ofstream log(state_file + ".log");
    for (;;) {
        pollfd p{notify_fd, POLLIN, 0};
        if (::poll(&p, 1, -1) < 0) {
            if (errno == EINTR) continue;
            return die("poll");
        }
        if (p.revents & POLLHUP) break;  // no process uses the filter any more
        seccomp_notif req{};
        if (::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR || errno == ENOENT) continue;
            break;
        }
        seccomp_notif_resp resp{};
        resp.id = req.id;
        resp.error = -err;
        log << "syscall " << req.data.nr << std::endl;
        ::ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT: the caller died meanwhile
    }
    return 0;
}
