// What every process that enters a container goes through, shared by the container init
// (init.cpp, container.cpp) and `rt exec` (exec.cpp): its birth (clone3 with a pidfd, into a
// cgroup, with rt's pid/time namespace for children switched around it), and its last steps
// (close what rt inherited, find the executable in the container's PATH, execve with only the fds
// asked for).
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.hpp"
#include "rt/spec.hpp"

namespace rt::process {

// clone3(2) with CLONE_PIDFD: the pidfd names the child from birth, so no later pid lookup can
// race with pid reuse. Falls back to clone(2) (fork-like: no new stack, the child returns 0 here)
// on kernels without clone3. Pitfalls: the child shares nothing with the parent but copies of
// memory and fds; it must never return into the caller's frames past this point (it _exit()s),
// and the exit signal must be SIGCHLD so waitpid() works.
// With cgroup_fd >= 0 the child is born in that cgroup2 directory (CLONE_INTO_CGROUP); when the
// kernel refuses that (-1 returned, errno set) the caller clones again without it.
pid_t clone_child(unsigned long flags, int* pidfd, int cgroup_fd = -1);

// Saves this process's namespace for its children ("pid_for_children", CLONE_NEWPID) and
// restores it on scope exit, so the pid and time namespaces rt switches to for a clone do not
// leak into the hooks and helpers rt spawns later.
class ChildNsRestore {
public:
    ChildNsRestore(const char* proc_name, int type);
    ~ChildNsRestore();
    ChildNsRestore(const ChildNsRestore&) = delete;
    ChildNsRestore& operator=(const ChildNsRestore&) = delete;

private:
    UniqueFd fd_;
    int type_;
};

// Close every fd from 3 + preserve_fds up, except those in keep (fds below that bound are the
// caller's stdio and preserved fds and stay). Nothing of rt's may reach the container
// (CVE-2024-21626); the state directory's lock must not outlive the rt command.
void close_inherited_fds(int preserve_fds, std::vector<int> keep);

// The executable as execve will see it: args[0] itself when it has a '/' (relative to p.cwd),
// else the first match in the container's PATH (p.env, as runc does). Call it in the container's
// mount namespace, after pivot_root or setns.
std::string find_executable(const spec::Process& p);

// The file the process will execve, opened once and checked, so that what runs is what was
// checked. It is never rt's own binary: a process whose args[0] is /proc/self/exe, or a script
// whose interpreter (at any depth) resolves to it, would otherwise run the host's rt binary as a
// container process that any other container process could reopen for writing through
// /proc/<pid>/exe once it exits (CVE-2019-5736).
struct Executable {
    std::string path;  // as found (absolute, or relative to process.cwd)
    UniqueFd fd;       // execveat(AT_EMPTY_PATH) runs it, unless it is a script
    bool script = false;
};

// find_executable, then the checks above; runtime_exe is stat("/proc/self/exe") of rt, taken
// before rt entered the container.
Executable open_executable(const spec::Process& p, const struct stat& runtime_exe);

// Mark every fd from 3 + preserve_fds up close-on-exec, restore sigmask, execve exe with p's args
// and env. Throws rt::Error when execve fails.
[[noreturn]] void execute(const spec::Process& p, const Executable& exe, int preserve_fds,
                          const sigset_t& sigmask);

}  // namespace rt::process
