// The sync protocol between `rt create` (the parent) and the container init (the child), over a
// SOCK_SEQPACKET socketpair made before clone(). One message per packet: a SyncHeader, then
// `len` bytes of payload; SCM_RIGHTS fds ride on the packet that names them.
//
//  parent (rt)                                 child (container init)
//  ------------------------------------------  -------------------------------------------------
//  clone(new namespaces) ──────────────────►   non-dumpable; waits for GO
//  uid/gid maps, cgroup join, network
//  GO ─────────────────────────────────────►   setns(joined), unshare(cgroup ns, ...),
//                                              hostname, rootfs mounts, /dev
//       (user ns joined + new pid ns only)
//  ◄──────────────────────── CHILD_PID {pid}   the intermediate child forked the real init
//                                              and exits; the grandchild goes on
//  ◄────────────────────────── HOOKS {}        ready for prestart + createRuntime hooks
//  run hooks with state (pid, "creating")
//  HOOKS_DONE {state json} ────────────────►   createContainer hooks (container mount ns),
//                                              pivot_root, masked/readonly paths, ro root,
//                                              open pty (terminal: true)
//  ◄────────────────── PTY_MASTER {fd}         the pty master (SCM_RIGHTS)
//  ◄─────────────────────────── READY {}       blocks in accept() on exec.sock
//  state.json ("created"), pid file; exits
//  ◄──────────────────── ERROR {message}       at any step above; the child then _exit(1)s
//
// `rt start` (or a foreground `rt run`) then connects to exec.sock, a SOCK_SEQPACKET listener,
// and speaks the same framing on that connection:
//
//  rt start                                    container init
//  GO ─────────────────────────────────────►   startContainer hooks, privileges dropped
//  ◄── SECCOMP_LISTENER {listenerPath,         seccomp loaded with SCMP_ACT_NOTIFY rules:
//        listenerMetadata} {fd}                the listener fd (SCM_RIGHTS); waits
//  sends fd + container state to listenerPath
//  LISTENER_DONE ──────────────────────────►   (EOF instead: rt start failed; the init exits)
//  ◄──────────────────── ERROR {message}       a hook, a privilege step or execve failed
//  EOF                                         execve succeeded (the connection is CLOEXEC)
//
// The child never prints: its errors travel as ERROR so `rt create` reports them in one line.
// After READY the socket is CLOEXEC in the child, so EOF tells a foreground `rt run` that the
// container process was exec'd (or died).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "fd.hpp"

namespace rt::sync {

enum class Msg : uint32_t {
    Go = 1,
    ChildPid,
    Hooks,
    HooksDone,
    PtyMaster,
    Ready,
    Error,
    SeccompListener,
    ListenerDone,
};

struct Message {
    Msg type{};
    std::string payload;
    UniqueFd fd;  // with PtyMaster, SeccompListener
};

// Send one message (fd >= 0 is attached with SCM_RIGHTS). Throws rt::Error.
void send(int sock, Msg type, const std::string& payload = {}, int fd = -1);
// Receive one message. Throws rt::Error; a closed peer is "container init exited".
Message recv(int sock);
// As recv, but returns false on EOF instead of throwing.
bool try_recv(int sock, Message& out);

const char* msg_name(Msg m);

// The body of a child process that reports over sock: runs body (which execs on success); an
// exception becomes ERROR {what()} on sock; then _exit(1). Never returns.
[[noreturn]] void run_child(int sock, const std::function<void()>& body);

}  // namespace rt::sync
