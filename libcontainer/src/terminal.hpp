// Terminals and foreground supervision (see contrib/terminals.md for the four stdio modes).
//
//  - open_pty(): a new pty pair from /dev/ptmx of the current mount namespace (the container's,
//    when called by the container init after pivot_root).
//  - make_controlling(): the container init's stdio becomes the pty slave, with setsid+TIOCSCTTY.
//  - send_fd()/recv_fd(): SCM_RIGHTS over an AF_UNIX socket.
//  - send_to_console_socket(): runc's --console-socket protocol: connect to the path, send the
//    master with SCM_RIGHTS in one message whose payload is the pty's name.
//  - supervise(): foreground `rt run`: forward signals, relay a terminal, return the wait status.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "fd.hpp"
#include "rt/spec.hpp"

namespace rt::terminal {

struct Pty {
    UniqueFd master;
    UniqueFd slave;
};

// Open a pty pair (O_CLOEXEC on both), unlock it, and set its window size when given.
Pty open_pty(const std::optional<spec::ConsoleSize>& size);

// setsid(), TIOCSCTTY on slave, dup2 slave to 0, 1, 2.
void make_controlling(int slave_fd);

// Send fd with SCM_RIGHTS; payload is carried as the message's bytes (at least one byte is sent).
void send_fd(int sock, int fd, const std::string& payload);
// Receive one fd sent by send_fd; *payload gets the bytes when not null.
UniqueFd recv_fd(int sock, std::string* payload = nullptr);

// Connect to an AF_UNIX stream socket at path and send master (payload: the pty's name).
void send_to_console_socket(const std::string& path, int master_fd);

// The signals a foreground rt forwards (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
// SIGWINCH, plus SIGCHLD), blocked for this object's lifetime so none is lost between the clone
// and supervise(), and read from fd(). The original mask is restored on destruction; a child
// restores original() before execve.
class ForwardedSignals {
public:
    ForwardedSignals();
    ~ForwardedSignals();
    ForwardedSignals(const ForwardedSignals&) = delete;
    ForwardedSignals& operator=(const ForwardedSignals&) = delete;
    int fd() const { return fd_.get(); }
    const sigset_t& original() const { return orig_; }

private:
    sigset_t orig_{};
    UniqueFd fd_;
};

// Foreground supervision of a started container whose init `pid` is a child of this process.
//  - signal_fd: a signalfd for the signals rt forwards (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
//    SIGUSR1, SIGUSR2, SIGWINCH, plus SIGCHLD); those signals are blocked by the caller. Each
//    one read is sent to pid with pidfd_send_signal, except SIGCHLD (reaps) and SIGWINCH with a
//    terminal (copies rt's window size to the pty instead, as runc does).
//  - master_fd: the pty master when the container has a terminal and rt relays it, else -1.
//    Then rt's stdin is put in raw mode when it is a tty (restored on return, also on error),
//    the window size is copied at start, stdin is copied to the master and the master to stdout
//    until the container exits and the master has been drained.
// Returns the raw wait status of pid (as from waitpid). Reaps only pid; other children (none in
// practice) are left alone.
int supervise(int pidfd, pid_t pid, int signal_fd, int master_fd);

}  // namespace rt::terminal
