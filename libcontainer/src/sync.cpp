#include "sync.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "rt/error.hpp"

namespace rt::sync {

namespace {
struct Header {
    Msg type;
    uint32_t len;
};
constexpr size_t kMaxPayload = 60 * 1024;  // state JSON and error messages; fits one heap block
}  // namespace

const char* msg_name(Msg m) {
    switch (m) {
        case Msg::Go:
            return "GO";
        case Msg::ChildPid:
            return "CHILD_PID";
        case Msg::Hooks:
            return "HOOKS";
        case Msg::HooksDone:
            return "HOOKS_DONE";
        case Msg::PtyMaster:
            return "PTY_MASTER";
        case Msg::Ready:
            return "READY";
        case Msg::Error:
            return "ERROR";
        case Msg::SeccompListener:
            return "SECCOMP_LISTENER";
        case Msg::ListenerDone:
            return "LISTENER_DONE";
    }
    return "?";
}

void send(int sock, Msg type, const std::string& payload, int fd) {
    if (payload.size() > kMaxPayload) throw Error("sync: message too large");
    Header h{type, static_cast<uint32_t>(payload.size())};
    std::vector<char> buf(sizeof h + payload.size());
    std::memcpy(buf.data(), &h, sizeof h);
    std::memcpy(buf.data() + sizeof h, payload.data(), payload.size());
    struct iovec iov {
        buf.data(), buf.size()
    };
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    if (fd >= 0) {
        std::memset(cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        if (::sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0) return;
        if (errno != EINTR) throw_errno(std::string("sync: send ") + msg_name(type));
    }
}

bool try_recv(int sock, Message& out) {
    // Default-initialized: only the pages the kernel writes are touched (RSS of rt and the init).
    constexpr size_t kSize = sizeof(Header) + kMaxPayload;
    std::unique_ptr<char[]> buf(new char[kSize]);
    struct iovec iov {
        buf.get(), kSize
    };
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    ssize_t n;
    do n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == ECONNRESET) return false;
        throw_errno("sync: receive");
    }
    if (n == 0) return false;
    if (static_cast<size_t>(n) < sizeof(Header)) throw Error("sync: short message");
    Header h;
    std::memcpy(&h, buf.get(), sizeof h);
    if (h.len != static_cast<size_t>(n) - sizeof h) throw Error("sync: malformed message");
    out.type = h.type;
    out.payload.assign(buf.get() + sizeof h, h.len);
    out.fd.reset();
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            out.fd.reset(fd);
        }
    }
    return true;
}

Message recv(int sock) {
    Message m;
    if (!try_recv(sock, m)) throw Error("container init exited unexpectedly");
    return m;
}

void run_child(int sock, const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& e) {
        try {
            send(sock, Msg::Error, e.what());
        } catch (...) {
        }
    }
    ::_exit(1);
}

}  // namespace rt::sync
