// OCI hooks: run a hook program with the container state on its stdin.
//
// Where and when each kind runs (runtime-spec runtime.md, config.md "POSIX-platform Hooks"):
//   prestart, createRuntime  runtime namespace, after namespaces exist, before pivot_root (rt create, parent)
//   createContainer          container namespaces, before pivot_root (container init)
//   startContainer           container namespaces, after start, before execve (container init)
//   poststart                runtime namespace, after the process started (rt start)
//   poststop                 runtime namespace, on delete (rt delete)
// Failure handling: a failing prestart/createRuntime/createContainer/startContainer hook is an
// error that stops the container; poststart/poststop failures are warnings and the rest run.
#pragma once

#include <string>
#include <vector>

#include "rt/spec.hpp"

namespace rt::hooks {

// Run one hook: fork, execve(path, args, env) with state_json on stdin (stdout/stderr inherited).
// Waits for it, killing it with SIGKILL after hook.timeout seconds (no timeout when unset).
// Throws rt::Error: "<kind> hook #<index> <path>: exited with status 3" / "killed by signal 9" /
// "timed out after 5s" / "execve: No such file or directory".
void run_one(const spec::Hook& hook, const std::string& kind, size_t index, const std::string& state_json);

// Run a list in order; the first failure throws (create-path kinds).
void run_all(const std::vector<spec::Hook>& hooks, const std::string& kind, const std::string& state_json);

// Run a list in order; failures are collected as messages and the rest still run (poststart,
// poststop). Returns the failure messages.
std::vector<std::string> run_all_warn(const std::vector<spec::Hook>& hooks, const std::string& kind,
                                      const std::string& state_json);

}  // namespace rt::hooks
