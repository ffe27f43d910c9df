// The OCI runtime-spec config.json model, its parser and its validator.
//
// The parser is the single place config.json is read: everything downstream works on these
// structs. Sections that later modules own in full (linux.resources, linux.seccomp, ...) are kept
// as their JSON subtree so that the module that applies them parses them exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::spec {

inline constexpr const char* kOciVersion = "1.1.0";

struct IdMapping {
    uint32_t containerID = 0;
    uint32_t hostID = 0;
    uint32_t size = 0;
};

struct Mount {
    std::string destination;
    std::string type;  // empty: a bind mount when options say bind/rbind
    std::string source;
    std::vector<std::string> options;
    std::vector<IdMapping> uidMappings;
    std::vector<IdMapping> gidMappings;
};

struct Root {
    std::string path;  // absolute after load_bundle(): resolved against the bundle
    bool readonly = false;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additionalGids;
    std::string username;
};

struct ConsoleSize {
    uint32_t height = 0;
    uint32_t width = 0;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct Capabilities {
    std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> consoleSize;
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool noNewPrivileges = false;
    std::string apparmorProfile;
    std::optional<int> oomScoreAdj;
    std::string selinuxLabel;
    nlohmann::json scheduler;   // null when absent; owned by the security module
    nlohmann::json ioPriority;  // null when absent; owned by the security module
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
    std::vector<Hook> prestart;  // deprecated, run with createRuntime
    std::vector<Hook> createRuntime;
    std::vector<Hook> createContainer;
    std::vector<Hook> startContainer;
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;
};

enum class NamespaceType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };

struct Namespace {
    NamespaceType type;
    std::string path;  // empty: a new namespace
};

struct Device {
    char type = 'c';  // 'c', 'b', 'u' or 'p'
    std::string path;
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> fileMode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;
};

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uidMappings;
    std::vector<IdMapping> gidMappings;
    std::map<std::string, TimeOffset> timeOffsets;  // "monotonic", "boottime"
    std::vector<Device> devices;
    std::string cgroupsPath;
    std::string rootfsPropagation;  // "", "private", "rprivate", "slave", ... "unbindable"
    std::vector<std::string> maskedPaths;
    std::vector<std::string> readonlyPaths;
    std::string mountLabel;
    std::map<std::string, std::string> sysctl;
    nlohmann::json resources;    // null when absent; owned by the cgroups module
    nlohmann::json seccomp;      // null when absent; owned by the security module
    nlohmann::json personality;  // null when absent; owned by the security module
    nlohmann::json intelRdt;     // null when absent

    bool has_namespace(NamespaceType t) const;
    const Namespace* find_namespace(NamespaceType t) const;
};

struct Spec {
    std::string ociVersion;
    std::optional<Process> process;
    Root root;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    std::optional<Linux> linux;
};

// Name in config.json ("pid", "network", "mount", ...) and back. parse_namespace_type returns
// nullopt for an unknown name.
const char* namespace_type_name(NamespaceType t);
std::optional<NamespaceType> parse_namespace_type(const std::string& name);

// Parse and validate a config.json document. Throws rt::Error whose message names the JSON path
// and the reason, e.g. "config.json: process.args[0]: must be a string". Warnings (unknown
// fields that are ignored on purpose) are appended to *warnings when it is not null.
Spec parse(const nlohmann::json& doc, std::vector<std::string>* warnings = nullptr);

// Parse and validate a process object on its own (runc's `exec --process` process.json); errors
// and warnings name `file` and the field ("process.json: args: required").
Process parse_process(const nlohmann::json& doc, std::string_view file,
                      std::vector<std::string>* warnings = nullptr);
// The process object back in config.json form.
nlohmann::json process_to_json(const Process& p);

// Read <bundle>/config.json, parse it, and resolve root.path against the bundle directory.
// Errors name the file: "<bundle>/config.json: line 3: syntax error ..." or the JSON path.
Spec load_bundle(const std::string& bundle, std::vector<std::string>* warnings = nullptr);

// Serialise back to config.json form (fields left at their defaults are omitted).
nlohmann::json to_json(const Spec& spec);

// The spec `rt spec` writes: what the LXC config of Docker 0.6 protected (its device allow-list,
// dropped capabilities, proc/sysfs/devpts/shm mounts; sh in rootfs/, terminal false, hostname "rt",
// new pid, network, ipc, uts and mount namespaces) plus runc's masked and read-only paths; see
// spec_default.cpp for the details. rootless: as `runc spec --rootless`.
nlohmann::json default_spec(bool rootless);

// rt's default seccomp profile for linux.seccomp (`rt spec --seccomp default`): an allow-list;
// contrib/seccomp.md says what it denies.
nlohmann::json default_seccomp_profile();

}  // namespace rt::spec
