// Unit tests for the config.json model: parse, validation messages, round trip, defaults, bundles.
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "rt/error.hpp"
#include "rt/spec.hpp"

using nlohmann::json;
using rt::spec::NamespaceType;

namespace {

// A config.json using every field rt models, written the way to_json writes it (so that it
// round-trips to itself).
const json kFull = json::parse(R"({
  "ociVersion": "1.1.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6], "username": "joe"},
    "args": ["sh", "-c", "echo hi"],
    "env": ["PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="],
    "cwd": "/home/joe",
    "capabilities": {
      "bounding": ["CAP_KILL", "CAP_CHOWN"],
      "effective": ["CAP_KILL"],
      "inheritable": ["CAP_CHOWN"],
      "permitted": ["CAP_KILL", "CAP_CHOWN"],
      "ambient": ["CAP_KILL"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "noNewPrivileges": true,
    "apparmorProfile": "rt-default",
    "oomScoreAdj": -500,
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "scheduler": {"policy": "SCHED_OTHER", "nice": 5},
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}
  },
  "root": {"path": "/var/lib/rt/rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65536}]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/pre", "args": ["pre", "x"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/usr/bin/cr"}],
    "createContainer": [{"path": "/usr/bin/cc"}],
    "startContainer": [{"path": "/usr/bin/sc"}],
    "poststart": [{"path": "/usr/bin/ps"}],
    "poststop": [{"path": "/usr/bin/pst", "timeout": 1}]
  },
  "annotations": {"com.example.key": "value", "b": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"},
      {"type": "network", "path": "/var/run/netns/a"},
      {"type": "mount"},
      {"type": "ipc"},
      {"type": "uts"},
      {"type": "user"},
      {"type": "cgroup"},
      {"type": "time"}
    ],
    "uidMappings": [
      {"containerID": 0, "hostID": 1000, "size": 1},
      {"containerID": 1, "hostID": 100000, "size": 65535}
    ],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 65536}],
    "timeOffsets": {"monotonic": {"secs": -86400, "nanosecs": 5}, "boottime": {"secs": 3}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
      {"type": "b", "path": "/dev/sda", "major": 8, "minor": 0},
      {"type": "p", "path": "/run/fifo"}
    ],
    "cgroupsPath": "/rt/box",
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "resources": {"memory": {"limit": 536870912}, "devices": [{"allow": false, "access": "rwm"}]},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]
    },
    "personality": {"domain": "LINUX"},
    "intelRdt": {"closID": "guaranteed_group"}
  }
})");

// The smallest valid Linux config.
const json kMinimal = json::parse(R"({
  "ociVersion": "1.1.0",
  "process": {"args": ["sh"], "cwd": "/"},
  "root": {"path": "rootfs"},
  "linux": {}
})");

json with(json doc, const std::string& pointer, json value) {
    doc[json::json_pointer(pointer)] = std::move(value);
    return doc;
}

json without(json doc, const std::string& pointer) {
    json::json_pointer p(pointer);
    doc[p.parent_pointer()].erase(p.back());
    return doc;
}

// A fresh temporary directory, removed (with its contents) at scope exit.
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/rt-spec-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/" + name) << text;
    }
};

std::string real(const std::string& p) {
    char* r = ::realpath(p.c_str(), nullptr);
    REQUIRE(r != nullptr);
    std::string out = r;
    std::free(r);
    return out;
}

}  // namespace

TEST_CASE("a full config parses with every field", "[spec]") {
    std::vector<std::string> warnings;
    const auto s = rt::spec::parse(kFull, &warnings);
    CHECK(warnings.empty());
    CHECK(s.ociVersion == "1.1.0");

    REQUIRE(s.process);
    const auto& p = *s.process;
    CHECK(p.terminal);
    REQUIRE(p.consoleSize);
    CHECK(p.consoleSize->height == 25);
    CHECK(p.consoleSize->width == 80);
    CHECK(p.user.uid == 1000);
    CHECK(p.user.gid == 1001);
    CHECK(p.user.umask == 18u);
    CHECK(p.user.additionalGids == std::vector<uint32_t>{5, 6});
    CHECK(p.user.username == "joe");
    CHECK(p.args == std::vector<std::string>{"sh", "-c", "echo hi"});
    CHECK(p.env == std::vector<std::string>{"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="});
    CHECK(p.cwd == "/home/joe");
    REQUIRE(p.capabilities);
    CHECK(p.capabilities->bounding == std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"});
    CHECK(p.capabilities->effective == std::vector<std::string>{"CAP_KILL"});
    CHECK(p.capabilities->inheritable == std::vector<std::string>{"CAP_CHOWN"});
    CHECK(p.capabilities->permitted == std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"});
    CHECK(p.capabilities->ambient == std::vector<std::string>{"CAP_KILL"});
    REQUIRE(p.rlimits.size() == 2);
    CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
    CHECK(p.rlimits[0].soft == 1024);
    CHECK(p.rlimits[0].hard == 2048);
    CHECK(p.rlimits[1].hard == UINT64_MAX);
    CHECK(p.noNewPrivileges);
    CHECK(p.apparmorProfile == "rt-default");
    CHECK(p.oomScoreAdj == -500);
    CHECK(p.selinuxLabel == "system_u:system_r:container_t:s0");
    CHECK(p.scheduler == kFull["process"]["scheduler"]);
    CHECK(p.ioPriority == kFull["process"]["ioPriority"]);

    CHECK(s.root.path == "/var/lib/rt/rootfs");
    CHECK(s.root.readonly);
    CHECK(s.hostname == "box");
    CHECK(s.domainname == "example.org");

    REQUIRE(s.mounts.size() == 2);
    CHECK(s.mounts[0].destination == "/proc");
    CHECK(s.mounts[0].type == "proc");
    CHECK(s.mounts[0].source == "proc");
    CHECK(s.mounts[0].options.empty());
    CHECK(s.mounts[1].options == std::vector<std::string>{"rbind", "ro"});
    REQUIRE(s.mounts[1].uidMappings.size() == 1);
    CHECK(s.mounts[1].uidMappings[0].hostID == 100000);
    CHECK(s.mounts[1].uidMappings[0].size == 65536);
    REQUIRE(s.mounts[1].gidMappings.size() == 1);
    CHECK(s.mounts[1].gidMappings[0].hostID == 200000);

    REQUIRE(s.hooks.prestart.size() == 1);
    CHECK(s.hooks.prestart[0].path == "/usr/bin/pre");
    CHECK(s.hooks.prestart[0].args == std::vector<std::string>{"pre", "x"});
    CHECK(s.hooks.prestart[0].env == std::vector<std::string>{"A=1"});
    CHECK(s.hooks.prestart[0].timeout == 5);
    CHECK(s.hooks.createRuntime.at(0).path == "/usr/bin/cr");
    CHECK_FALSE(s.hooks.createRuntime.at(0).timeout);
    CHECK(s.hooks.createContainer.at(0).path == "/usr/bin/cc");
    CHECK(s.hooks.startContainer.at(0).path == "/usr/bin/sc");
    CHECK(s.hooks.poststart.at(0).path == "/usr/bin/ps");
    CHECK(s.hooks.poststop.at(0).timeout == 1);

    CHECK(s.annotations == std::map<std::string, std::string>{{"com.example.key", "value"}, {"b", ""}});

    REQUIRE(s.linux);
    const auto& l = *s.linux;
    REQUIRE(l.namespaces.size() == 8);
    CHECK(l.namespaces[0].type == NamespaceType::Pid);
    CHECK(l.namespaces[1].type == NamespaceType::Network);
    CHECK(l.namespaces[1].path == "/var/run/netns/a");
    CHECK(l.namespaces[7].type == NamespaceType::Time);
    for (auto t : {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount, NamespaceType::Ipc,
                   NamespaceType::Uts, NamespaceType::User, NamespaceType::Cgroup, NamespaceType::Time})
        CHECK(l.has_namespace(t));
    REQUIRE(l.find_namespace(NamespaceType::Network) != nullptr);
    CHECK(l.find_namespace(NamespaceType::Network)->path == "/var/run/netns/a");
    REQUIRE(l.uidMappings.size() == 2);
    CHECK(l.uidMappings[1].containerID == 1);
    CHECK(l.uidMappings[1].hostID == 100000);
    CHECK(l.uidMappings[1].size == 65535);
    REQUIRE(l.gidMappings.size() == 1);
    CHECK(l.gidMappings[0].size == 65536);
    REQUIRE(l.timeOffsets.size() == 2);
    CHECK(l.timeOffsets.at("monotonic").secs == -86400);
    CHECK(l.timeOffsets.at("monotonic").nanosecs == 5);
    CHECK(l.timeOffsets.at("boottime").secs == 3);
    CHECK(l.timeOffsets.at("boottime").nanosecs == 0);
    REQUIRE(l.devices.size() == 3);
    CHECK(l.devices[0].type == 'c');
    CHECK(l.devices[0].path == "/dev/fuse");
    CHECK(l.devices[0].major == 10);
    CHECK(l.devices[0].minor == 229);
    CHECK(l.devices[0].fileMode == 438u);
    CHECK(l.devices[0].uid == 0u);
    CHECK(l.devices[0].gid == 0u);
    CHECK(l.devices[1].type == 'b');
    CHECK_FALSE(l.devices[1].fileMode);
    CHECK(l.devices[2].type == 'p');
    CHECK(l.cgroupsPath == "/rt/box");
    CHECK(l.rootfsPropagation == "rslave");
    CHECK(l.maskedPaths == std::vector<std::string>{"/proc/kcore", "/sys/firmware"});
    CHECK(l.readonlyPaths == std::vector<std::string>{"/proc/sys"});
    CHECK(l.mountLabel == "system_u:object_r:container_file_t:s0");
    CHECK(l.sysctl == std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"}});
    CHECK(l.resources == kFull["linux"]["resources"]);
    CHECK(l.seccomp == kFull["linux"]["seccomp"]);
    CHECK(l.personality == kFull["linux"]["personality"]);
    CHECK(l.intelRdt == kFull["linux"]["intelRdt"]);
}

TEST_CASE("a minimal config leaves everything at its default", "[spec]") {
    const auto s = rt::spec::parse(kMinimal);
    REQUIRE(s.process);
    CHECK_FALSE(s.process->terminal);
    CHECK(s.process->user.uid == 0);
    CHECK_FALSE(s.process->user.umask);
    CHECK_FALSE(s.process->capabilities);
    CHECK_FALSE(s.process->oomScoreAdj);
    CHECK(s.process->scheduler.is_null());
    CHECK(s.process->ioPriority.is_null());
    CHECK(s.root.path == "rootfs");
    CHECK_FALSE(s.root.readonly);
    CHECK(s.mounts.empty());
    REQUIRE(s.linux);
    CHECK(s.linux->namespaces.empty());
    CHECK_FALSE(s.linux->has_namespace(NamespaceType::Pid));
    CHECK(s.linux->find_namespace(NamespaceType::Pid) == nullptr);
    CHECK(s.linux->resources.is_null());
    CHECK(s.linux->seccomp.is_null());
    CHECK(s.linux->personality.is_null());
    CHECK(s.linux->intelRdt.is_null());

    // Without a linux section, neither process nor root is required.
    const auto bare = rt::spec::parse(json{{"ociVersion", "1.1.0"}});
    CHECK_FALSE(bare.process);
    CHECK_FALSE(bare.linux);
    CHECK(bare.root.path.empty());
}

TEST_CASE("namespace type names", "[spec]") {
    for (auto t : {NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount, NamespaceType::Ipc,
                   NamespaceType::Uts, NamespaceType::User, NamespaceType::Cgroup, NamespaceType::Time})
        CHECK(rt::spec::parse_namespace_type(rt::spec::namespace_type_name(t)) == t);
    CHECK(std::string(rt::spec::namespace_type_name(NamespaceType::Network)) == "network");
    CHECK(rt::spec::parse_namespace_type("mnt") == std::nullopt);
    CHECK(rt::spec::parse_namespace_type("") == std::nullopt);
}

TEST_CASE("validation errors name the JSON path", "[spec]") {
    using Catch::Contains;
    struct Case {
        json doc;
        std::string message;
    };
    const json& f = kFull;
    json no_userns = f;
    no_userns["linux"]["namespaces"].erase(5);

    const std::vector<Case> cases = {
        {json::array(), "config.json: must be a JSON object"},
        {without(f, "/ociVersion"), "config.json: ociVersion: required"},
        {with(f, "/ociVersion", 110), "config.json: ociVersion: must be a string"},
        // process
        {with(f, "/process", "sh"), "config.json: process: must be an object"},
        {with(f, "/process/args", json::array()),
         "config.json: process.args: must be a non-empty array of strings"},
        {without(f, "/process/args"), "config.json: process.args: must be a non-empty array of strings"},
        {with(f, "/process/args", "sh"), "config.json: process.args: must be a non-empty array of strings"},
        {with(f, "/process/args/1", 7), "config.json: process.args[1]: must be a string"},
        {with(f, "/process/cwd", "home"), "config.json: process.cwd: must be an absolute path"},
        {without(f, "/process/cwd"), "config.json: process.cwd: must be an absolute path"},
        {with(f, "/process/env/1", "TERM"), "config.json: process.env[1]: must have the form NAME=VALUE"},
        {with(f, "/process/env/1", "=x"), "config.json: process.env[1]: must have the form NAME=VALUE"},
        {with(f, "/process/terminal", "yes"), "config.json: process.terminal: must be a boolean"},
        {with(f, "/process/consoleSize/width", -1),
         "config.json: process.consoleSize.width: must be a non-negative integer below 2^32"},
        {with(f, "/process/user/uid", -1),
         "config.json: process.user.uid: must be a non-negative integer below 2^32"},
        {with(f, "/process/user/gid", 4294967296LL),
         "config.json: process.user.gid: must be a non-negative integer below 2^32"},
        {with(f, "/process/user/umask", 1.5),
         "config.json: process.user.umask: must be a non-negative integer below 2^32"},
        {with(f, "/process/user/additionalGids/1", "wheel"),
         "config.json: process.user.additionalGids[1]: must be a non-negative integer below 2^32"},
        {with(f, "/process/capabilities/bounding", "CAP_KILL"),
         "config.json: process.capabilities.bounding: must be an array of strings"},
        {with(f, "/process/rlimits/1/type", "core"),
         "config.json: process.rlimits[1].type: must be an RLIMIT_* name, got \"core\""},
        {with(f, "/process/rlimits/1/type", "RLIMIT_FOO"),
         "config.json: process.rlimits[1].type: unknown rlimit type \"RLIMIT_FOO\""},
        {with(f, "/process/rlimits/1/type", "RLIMIT_NOFILE"),
         "config.json: process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\""},
        {with(f, "/process/rlimits/0/soft", -1),
         "config.json: process.rlimits[0].soft: must be a non-negative integer below 2^64"},
        {with(f, "/process/rlimits/0/soft", 4096),
         "config.json: process.rlimits[0].soft: must not exceed hard"},
        {without(f, "/process/rlimits/0/hard"), "config.json: process.rlimits[0].hard: required"},
        {with(f, "/process/oomScoreAdj", 1001),
         "config.json: process.oomScoreAdj: must be an integer between -1000 and 1000"},
        // root
        {without(f, "/root"), "config.json: root: required"},
        {with(f, "/root/path", ""), "config.json: root.path: must be a non-empty string"},
        {without(f, "/root/path"), "config.json: root.path: must be a non-empty string"},
        {with(f, "/root/path", 1), "config.json: root.path: must be a string"},
        {with(f, "/root/readonly", 1), "config.json: root.readonly: must be a boolean"},
        // mounts
        {with(f, "/mounts", json::object()), "config.json: mounts: must be an array"},
        {with(f, "/mounts/1/destination", "data"),
         "config.json: mounts[1].destination: must be an absolute path"},
        {without(f, "/mounts/1/destination"), "config.json: mounts[1].destination: must be an absolute path"},
        {with(f, "/mounts/1/options/0", true), "config.json: mounts[1].options[0]: must be a string"},
        {with(f, "/mounts/1/uidMappings/0/hostID", -5),
         "config.json: mounts[1].uidMappings[0].hostID: must be a non-negative integer below 2^32"},
        // hooks
        {with(f, "/hooks/prestart/0/path", "pre"),
         "config.json: hooks.prestart[0].path: must be an absolute path"},
        {with(f, "/hooks/poststop/0/timeout", 0),
         "config.json: hooks.poststop[0].timeout: must be a positive integer"},
        {with(f, "/hooks/poststop/0/timeout", -3),
         "config.json: hooks.poststop[0].timeout: must be a positive integer"},
        {with(f, "/hooks/createRuntime", "x"), "config.json: hooks.createRuntime: must be an array"},
        {with(f, "/hooks/prestart/0/env/0", "A"),
         "config.json: hooks.prestart[0].env[0]: must have the form NAME=VALUE"},
        // annotations
        {with(f, "/annotations/b", 1), "config.json: annotations.b: must be a string"},
        {with(f, "/annotations/com.example.key", 1),
         "config.json: annotations[\"com.example.key\"]: must be a string"},
        // linux
        {with(f, "/linux", json::array()), "config.json: linux: must be an object"},
        {with(f, "/linux/namespaces/2/type", "foo"),
         "config.json: linux.namespaces[2].type: unknown namespace type \"foo\""},
        {with(f, "/linux/namespaces/2/type", "pid"),
         "config.json: linux.namespaces[2].type: duplicate namespace type \"pid\""},
        {with(f, "/linux/namespaces/1/path", "netns/a"),
         "config.json: linux.namespaces[1].path: must be an absolute path"},
        {without(f, "/linux/namespaces/0/type"), "config.json: linux.namespaces[0].type: required"},
        {with(f, "/linux/uidMappings/0/size", -1),
         "config.json: linux.uidMappings[0].size: must be a non-negative integer below 2^32"},
        {with(f, "/linux/gidMappings/0/containerID", "0"),
         "config.json: linux.gidMappings[0].containerID: must be a non-negative integer below 2^32"},
        {no_userns, "config.json: linux.uidMappings: requires a user namespace in linux.namespaces"},
        {without(no_userns, "/linux/uidMappings"),
         "config.json: linux.gidMappings: requires a user namespace in linux.namespaces"},
        {without(f, "/linux/uidMappings"),
         "config.json: linux.uidMappings: required with a new user namespace"},
        {with(f, "/linux/gidMappings", json::array()),
         "config.json: linux.gidMappings: required with a new user namespace"},
        {with(f, "/linux/timeOffsets/realtime", json::object()),
         "config.json: linux.timeOffsets.realtime: unknown clock, must be monotonic or boottime"},
        {with(f, "/linux/timeOffsets/monotonic/secs", "1"),
         "config.json: linux.timeOffsets.monotonic.secs: must be a 64-bit integer"},
        {with(f, "/linux/devices/0/type", "x"),
         "config.json: linux.devices[0].type: must be one of \"c\", \"b\", \"u\" or \"p\", got \"x\""},
        {with(f, "/linux/devices/0/type", "cb"), "config.json: linux.devices[0].type: must be one of"},
        {with(f, "/linux/devices/0/path", "dev/fuse"),
         "config.json: linux.devices[0].path: must be an absolute path"},
        {without(f, "/linux/devices/1/major"), "config.json: linux.devices[1].major: required"},
        {with(f, "/linux/devices/0/fileMode", -1),
         "config.json: linux.devices[0].fileMode: must be a non-negative integer below 2^32"},
        {with(f, "/linux/rootfsPropagation", "recursive"),
         "config.json: linux.rootfsPropagation: unknown propagation \"recursive\""},
        {with(f, "/linux/maskedPaths/1", "sys/firmware"),
         "config.json: linux.maskedPaths[1]: must be an absolute path"},
        {with(f, "/linux/readonlyPaths", "/proc/sys"),
         "config.json: linux.readonlyPaths: must be an array of strings"},
        {with(f, "/linux/sysctl/net.ipv4.ip_forward", 1),
         "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: must be a string"},
        {with(f, "/linux/cgroupsPath", json::array()), "config.json: linux.cgroupsPath: must be a string"},
    };
    for (const auto& c : cases) {
        INFO("expected: " << c.message);
        REQUIRE_THROWS_WITH(rt::spec::parse(c.doc), Contains(c.message));
        REQUIRE_THROWS_AS(rt::spec::parse(c.doc), rt::Error);
    }
}

TEST_CASE("user namespace rules", "[spec]") {
    // Joining an existing user namespace needs no mappings.
    json joined = without(without(kFull, "/linux/uidMappings"), "/linux/gidMappings");
    joined["linux"]["namespaces"][5]["path"] = "/proc/1/ns/user";
    CHECK_NOTHROW(rt::spec::parse(joined));

    // No user namespace and no mappings: fine.
    json plain = kMinimal;
    plain["linux"]["namespaces"] = {{{"type", "pid"}}};
    CHECK_NOTHROW(rt::spec::parse(plain));

    // "path": "" means a new namespace (Go's omitempty), so it needs mappings like any new one.
    json empty_path = kFull;
    empty_path["linux"]["namespaces"][5]["path"] = "";
    CHECK(rt::spec::parse(empty_path).linux->find_namespace(NamespaceType::User)->path.empty());
    empty_path["linux"].erase("uidMappings");
    REQUIRE_THROWS_WITH(rt::spec::parse(empty_path),
                        "config.json: linux.uidMappings: required with a new user namespace");

    // Mappings in a mount do not need a user namespace.
    json idmapped = kMinimal;
    idmapped["mounts"] = kFull["mounts"];
    CHECK_NOTHROW(rt::spec::parse(idmapped));
}

TEST_CASE("every validation error is a single line", "[spec]") {
    try {
        rt::spec::parse(with(kFull, "/linux/namespaces/2/type", "foo"));
        FAIL("no error");
    } catch (const rt::Error& e) {
        CHECK(std::string(e.what()) ==
              "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"");
    }
}

TEST_CASE("unknown fields under process and linux are warned about, others ignored", "[spec]") {
    json doc = kFull;
    doc["futureTopLevel"] = 1;
    doc["process"]["foo"] = true;
    doc["process"]["user"]["futureUserField"] = 1;
    doc["process"]["commandLine"] = "cmd.exe";  // Windows only: silently ignored
    doc["linux"]["bar"] = json::object();
    doc["linux"]["netDevices"] = json::object();
    doc["linux"]["resources"]["futureController"] = 1;
    doc["windows"] = json::object();
    std::vector<std::string> warnings;
    const auto s = rt::spec::parse(doc, &warnings);
    CHECK(warnings == std::vector<std::string>{
                          "config.json: process.foo: unknown field, ignored",
                          "config.json: linux.bar: unknown field, ignored",
                          "config.json: linux.netDevices: not supported, ignored",
                      });
    // Raw subtrees keep what rt does not know about.
    CHECK(s.linux->resources["futureController"] == 1);
    // No warnings pointer: no problem.
    CHECK_NOTHROW(rt::spec::parse(doc));
}

TEST_CASE("to_json round-trips parse", "[spec]") {
    const auto s = rt::spec::parse(kFull);
    const json j = rt::spec::to_json(s);
    CHECK(j == kFull);
    CHECK(rt::spec::to_json(rt::spec::parse(j)) == j);

    // Defaults are omitted.
    const json m = rt::spec::to_json(rt::spec::parse(kMinimal));
    CHECK(m == json::parse(R"({"ociVersion": "1.1.0", "process": {"args": ["sh"], "cwd": "/",
                               "user": {"uid": 0, "gid": 0}}, "root": {"path": "rootfs"}, "linux": {}})"));
    CHECK(rt::spec::to_json(rt::spec::parse(m)) == m);

    for (bool rootless : {false, true}) {
        json d = rt::spec::default_spec(rootless);
        d["process"].erase("terminal");  // written out as false for the reader; to_json omits a default
        CHECK(rt::spec::to_json(rt::spec::parse(d)) == d);
    }
}

// default_spec itself: test_spec_gen.cpp.

TEST_CASE("load_bundle", "[spec]") {
    TempDir dir;
    const std::string file = dir.path + "/config.json";

    SECTION("resolves a relative root.path against the bundle's real path") {
        dir.write("config.json", kMinimal.dump());
        std::vector<std::string> warnings;
        const auto s = rt::spec::load_bundle(dir.path + "/./", &warnings);
        CHECK(s.root.path == real(dir.path) + "/rootfs");
        CHECK(warnings.empty());

        json other = with(kMinimal, "/root/path", "./sub/../rootfs/");
        dir.write("config.json", other.dump());
        CHECK(rt::spec::load_bundle(dir.path).root.path == real(dir.path) + "/rootfs");
    }

    SECTION("keeps an absolute root.path") {
        dir.write("config.json", with(kMinimal, "/root/path", "/srv/rootfs").dump());
        CHECK(rt::spec::load_bundle(dir.path).root.path == "/srv/rootfs");
    }

    SECTION("reports a syntax error with its line") {
        dir.write("config.json", "{\n  \"ociVersion\": \"1.1.0\",\n  oops\n}\n");
        REQUIRE_THROWS_WITH(rt::spec::load_bundle(dir.path), Catch::StartsWith(file + ": ") &&
                                                                 Catch::Contains("line 3") &&
                                                                 !Catch::Contains("[json.exception"));
    }

    SECTION("reports a missing file") {
        REQUIRE_THROWS_WITH(rt::spec::load_bundle(dir.path + "/nope"),
                            dir.path + "/nope/config.json: No such file or directory");
        REQUIRE_THROWS_WITH(rt::spec::load_bundle(dir.path), file + ": No such file or directory");
    }

    SECTION("names the file and the JSON path in validation errors and warnings") {
        dir.write("config.json", with(kMinimal, "/process/args", json::array()).dump());
        REQUIRE_THROWS_WITH(rt::spec::load_bundle(dir.path),
                            file + ": process.args: must be a non-empty array of strings");

        dir.write("config.json", with(kMinimal, "/linux/foo", 1).dump());
        std::vector<std::string> warnings;
        rt::spec::load_bundle(dir.path, &warnings);
        CHECK(warnings == std::vector<std::string>{file + ": linux.foo: unknown field, ignored"});
    }
}

TEST_CASE("parse_process reads a process.json on its own, errors name that file", "[spec]") {
    const json& p = kFull["process"];
    rt::spec::Process proc = rt::spec::parse_process(p, "process.json");
    CHECK(proc.args == std::vector<std::string>{"sh", "-c", "echo hi"});
    CHECK(proc.cwd == "/home/joe");
    CHECK(proc.user.uid == 1000);
    CHECK(rt::spec::process_to_json(proc) == p);

    auto error_of = [](const json& doc) -> std::string {
        try {
            rt::spec::parse_process(doc, "/tmp/p.json");
        } catch (const rt::Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(error_of(json{{"cwd", "/"}}) == "/tmp/p.json: args: must be a non-empty array of strings");
    CHECK(error_of(json{{"args", {"true"}}, {"cwd", "rel"}}) == "/tmp/p.json: cwd: must be an absolute path");
    CHECK(error_of(json::array()) == "/tmp/p.json: must be a JSON object");
    std::vector<std::string> warnings;
    rt::spec::parse_process(json{{"args", {"true"}}, {"cwd", "/"}, {"bogus", 1}}, "/tmp/p.json", &warnings);
    CHECK(warnings == std::vector<std::string>{"/tmp/p.json: bogus: unknown field, ignored"});
}
