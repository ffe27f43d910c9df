// Making and editing config.json for scripts: what `rt spec` does with its options.
//
//   rt::spec::Edits e;
//   e.binds = {"/home/ci/src:/src"};
//   e.cwd = "/src";
//   e.args = std::vector<std::string>{"make", "test"};
//   rt::spec::GenerateOptions o{.bundle = "/tmp/job-42", .edits = e};
//   rt::spec::generate(o);        // edits /tmp/job-42/config.json, or writes the default + edits
//
// Every edit is idempotent: applying the same edits to their own result gives the same document
// (env replaces a variable of the same name, bind/tmpfs replace a mount at the same destination).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::spec {

// Values are as given on the command line; apply_edits validates them. Unset: left alone.
struct Edits {
    std::optional<std::string> rootfs;             // root.path
    std::optional<std::vector<std::string>> args;  // process.args
    std::vector<std::string> env;                  // "NAME=VALUE": replaces NAME, else appends
    std::optional<std::string> cwd;                // process.cwd, absolute
    std::optional<std::string> user;               // "UID[:GID]" (GID defaults to UID)
    std::optional<std::string> hostname;           // hostname (and a uts namespace)
    std::vector<std::string> binds;                // "SRC:DST[:ro|:rw]", SRC made absolute
    std::vector<std::string> tmpfs;                // "DST[:SIZE]"
    bool readonly = false;                         // root.readonly = true
    std::optional<std::string> memory;             // BYTES[k|m|g|t] -> memory.limit
    std::optional<std::string> pids;               // N -> pids.limit
    std::optional<std::string> cpus;               // N (decimal) -> cpu.quota / cpu.period
    std::optional<std::string> network;            // "none", "bridge[=NAME]" or "host"
    std::optional<bool> terminal;                  // process.terminal
    std::optional<std::string> seccomp;            // "default": linux.seccomp = rt's profile

    bool empty() const;
};

// Apply edits to a config.json document. Throws rt::Error naming the option and the value, e.g.
// `--bind "src:dst": the destination must be an absolute path`. The document is only changed
// when every edit is valid.
void apply_edits(nlohmann::json& config, const Edits& edits);

// The bridge `--network bridge` attaches to when no NAME is given.
inline constexpr const char* kDefaultBridge = "rt0";

struct GenerateOptions {
    std::string bundle = ".";
    bool rootless = false;  // the default spec for an unprivileged user (new config.json only)
    std::string from_lxc;   // convert this LXC config instead of writing the default
    Edits edits;
};

// What `rt spec` does: with from_lxc, convert that LXC config; otherwise, when <bundle>/config.json
// exists and edits are given, edit it; otherwise write default_spec(). Then apply the edits,
// validate the result as `rt create` would, and write <bundle>/config.json atomically. A new
// config.json never replaces an existing one ("File ... exists. Remove it first", as runc).
// Returns the warnings (LXC keys that are ignored, "FILE:LINE: ..."). Nothing is written on error.
std::vector<std::string> generate(const GenerateOptions& options);

}  // namespace rt::spec
