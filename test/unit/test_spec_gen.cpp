// Unit tests for what `rt spec` writes: the default (it mirrors the LXC template of the notes, which
// the tests convert to compare), the LXC import (each mapping, each malformed line's error), the
// edit options (each one, their errors, idempotence) and generate() on a bundle directory.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lxc.hpp"
#include "rt/error.hpp"
#include "rt/spec.hpp"
#include "rt/spec_edit.hpp"

using nlohmann::json;

namespace {

struct Dir {
    std::string path;
    Dir() {
        char tmpl[] = "/tmp/rt-specgen-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~Dir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(path + "/" + name) << text;
        return path + "/" + name;
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path + "/" + name);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    std::vector<std::string> entries() const {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename());
        std::sort(out.begin(), out.end());
        return out;
    }
};

const std::string kFixture = std::string(RT_FIXTURES_DIR) + "/docker-0.6.lxc";

// Convert an LXC config given as text (file "c.lxc" in dir).
json convert(const Dir& d, const std::string& text, std::vector<std::string>* warnings = nullptr) {
    return rt::lxc::to_spec(d.write("c.lxc", text), warnings);
}

// The rt::Error message of converting text ("" when it converts).
std::string convert_error(const std::string& text) {
    Dir d;
    try {
        convert(d, text);
    } catch (const rt::Error& e) {
        std::string m = e.what();
        for (size_t p; (p = m.find(d.path + "/")) != std::string::npos;) m.erase(p, d.path.size() + 1);
        return m;
    }
    return "";
}

const json* mount_at(const json& spec, const std::string& dest) {
    for (const auto& m : spec["mounts"])
        if (m["destination"] == dest) return &m;
    return nullptr;
}

json edited(json config, const rt::spec::Edits& e) {
    rt::spec::apply_edits(config, e);
    return config;
}

std::string edit_error(const rt::spec::Edits& e) {
    json c = rt::spec::default_spec(false);
    try {
        rt::spec::apply_edits(c, e);
    } catch (const rt::Error& err) {
        CHECK(c == rt::spec::default_spec(false));  // untouched on error
        return err.what();
    }
    return "";
}

}  // namespace

// ---- the default --------------------------------------------------------------------------------

TEST_CASE("default_spec mirrors the notes' LXC template", "[specgen]") {
    const json d = rt::spec::default_spec(false);
    std::vector<std::string> warnings;
    const auto s = rt::spec::parse(d, &warnings);
    CHECK(warnings.empty());
    const json notes = rt::lxc::to_spec(kFixture);

    // The template's device rules and capabilities, exactly.
    CHECK(d["linux"]["resources"]["devices"] == notes["linux"]["resources"]["devices"]);
    CHECK(d["process"]["capabilities"] == notes["process"]["capabilities"]);
    for (const char* dropped :
         {"CAP_AUDIT_CONTROL", "CAP_AUDIT_WRITE", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_MKNOD",
          "CAP_SETFCAP", "CAP_SETPCAP", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_NICE",
          "CAP_SYS_PACCT", "CAP_SYS_RAWIO", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG"}) {
        INFO(dropped);
        const auto& b = s.process->capabilities->bounding;
        CHECK(std::find(b.begin(), b.end(), dropped) == b.end());
    }
    CHECK(s.process->capabilities->bounding.size() == 21);
    CHECK(s.process->capabilities->ambient.empty());

    // proc, devpts, shm with the template's options; sysfs with them plus ro.
    for (const char* dest : {"/proc", "/dev/pts", "/dev/shm", "/sys"}) {
        INFO(dest);
        const json* ours = mount_at(d, dest);
        const json* theirs = mount_at(notes, dest);
        REQUIRE(ours != nullptr);
        REQUIRE(theirs != nullptr);
        CHECK((*ours)["type"] == (*theirs)["type"]);
        json expect = (*theirs)["options"];
        if (std::string(dest) == "/sys") expect.push_back("ro");
        CHECK((*ours)["options"] == expect);
    }
    std::vector<std::string> dests;
    for (const auto& m : s.mounts) dests.push_back(m.destination);
    CHECK(dests == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"});

    // The tun node the template allows; a hostname; a new network namespace and no network set up.
    REQUIRE(s.linux->devices.size() == 1);
    CHECK(s.linux->devices[0].path == "/dev/net/tun");
    CHECK(s.linux->devices[0].major == 10);
    CHECK(s.linux->devices[0].minor == 200);
    CHECK(s.hostname == "rt");
    for (auto t :
         {rt::spec::NamespaceType::Pid, rt::spec::NamespaceType::Network, rt::spec::NamespaceType::Ipc,
          rt::spec::NamespaceType::Uts, rt::spec::NamespaceType::Mount})
        CHECK(s.linux->has_namespace(t));
    CHECK(s.annotations.empty());

    // lxc.console = none; the environment lxc-start gave; runc's masked and read-only paths.
    CHECK_FALSE(s.process->terminal);
    CHECK(s.process->args == std::vector<std::string>{"sh"});
    CHECK(s.process->env ==
          std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                   "TERM=xterm", "HOME=/"});
    CHECK(s.root.path == "rootfs");
    CHECK_FALSE(s.root.readonly);
    CHECK(s.linux->maskedPaths.size() == 10);
    CHECK(s.linux->readonlyPaths ==
          std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
}

TEST_CASE("rootless default_spec", "[specgen]") {
    const auto s = rt::spec::parse(rt::spec::default_spec(true));
    REQUIRE(s.linux);
    CHECK(s.linux->has_namespace(rt::spec::NamespaceType::User));
    CHECK_FALSE(s.linux->has_namespace(rt::spec::NamespaceType::Network));
    REQUIRE(s.linux->uidMappings.size() == 1);
    CHECK(s.linux->uidMappings[0].hostID == ::geteuid());
    CHECK(s.linux->resources.is_null());
    CHECK(s.linux->devices.empty());
    const auto& sys = s.mounts.back();
    CHECK(sys.destination == "/sys");
    CHECK(sys.source == "/sys");
    CHECK(sys.options == std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"});
}

// ---- LXC import -----------------------------------------------------------------------------------

TEST_CASE("lxc: the notes' config", "[lxc]") {
    std::vector<std::string> warnings;
    const json s = rt::lxc::to_spec(kFixture, &warnings);
    CHECK_NOTHROW(rt::spec::parse(s));
    const std::string dir =
        "/var/lib/docker/containers/622019314776a09ff747b0c4ff5bcb7392bc0d469b0d2f2663d180f297d252e5";
    CHECK(s["hostname"] == "622019314776");
    CHECK(s["root"]["path"] == dir + "/rootfs");
    CHECK(s["annotations"] == json{{"rt.network.bridge", "docker0"},
                                   {"rt.network.interface", "eth0"},
                                   {"rt.network.mtu", "1500"},
                                   {"rt.network.address", "172.17.0.6/16"}});
    std::vector<std::string> dests;
    for (const auto& m : s["mounts"]) dests.push_back(m["destination"]);
    CHECK(dests == std::vector<std::string>{"/dev", "/etc/hostname", "/etc/hosts", "/proc", "/sys",
                                            "/dev/pts", "/dev/shm", "/.dockerinit", "/etc/resolv.conf"});
    CHECK(*mount_at(s, "/etc/hosts") == json{{"destination", "/etc/hosts"},
                                             {"type", "bind"},
                                             {"source", dir + "/hosts"},
                                             {"options", {"bind", "ro"}}});
    CHECK((*mount_at(s, "/dev/pts"))["options"] ==
          json{"newinstance", "ptmxmode=0666", "nosuid", "noexec", "max=1024"});  // + lxc.pts = 1024
    CHECK(s["process"]["terminal"] == false);                                     // lxc.console = none
    const json& rules = s["linux"]["resources"]["devices"];
    REQUIRE(rules.size() == 12);
    CHECK(rules[0] == json{{"allow", false}, {"type", "a"}, {"access", "rwm"}});
    CHECK(rules[9] == json{{"allow", true}, {"type", "c"}, {"major", 136}, {"access", "rwm"}});
    CHECK(s["linux"]["devices"] ==
          json::parse(
              R"([{"type": "c", "path": "/dev/net/tun", "major": 10, "minor": 200, "fileMode": 438}])"));
    // The one key rt does not reproduce, with its line number.
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].starts_with(kFixture + ":39: lxc.tty = 1: "));
}

TEST_CASE("lxc: mappings", "[lxc]") {
    Dir d;
    std::vector<std::string> w;
    SECTION("names, rootfs, process") {
        json s = convert(d,
                         "lxc.uts.name = box\n"
                         "lxc.rootfs.path = dir:/srv/box/\n"
                         "lxc.apparmor.profile = lxc-default\n"
                         "lxc.environment = TERM=vt100\n"
                         "lxc.environment = FOO=bar baz\n"
                         "lxc.init.cmd = /bin/sh -c 'echo \\\"a  b\\\"' \"x \\\"y\\\"\" z''\n"
                         "lxc.init.cwd = /work\n"
                         "lxc.init.uid = 1000\n"
                         "lxc.init.gid = 100\n"
                         "lxc.console = /var/log/box.console\n",
                         &w);
        CHECK(s["hostname"] == "box");
        CHECK(s["root"]["path"] == "/srv/box");
        CHECK(s["process"]["apparmorProfile"] == "lxc-default");
        CHECK(s["process"]["env"] == json{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                          "TERM=vt100", "HOME=/", "FOO=bar baz"});
        CHECK(s["process"]["args"] == json{"/bin/sh", "-c", "echo \\\"a  b\\\"", "x \"y\"", "z"});
        CHECK(s["process"]["cwd"] == "/work");
        CHECK(s["process"]["user"] == json{{"uid", 1000}, {"gid", 100}});
        CHECK(s["process"]["terminal"] == true);
        REQUIRE(w.size() == 1);
        CHECK(w[0] == d.path +
                          "/c.lxc:10: lxc.console = /var/log/box.console: the console is a terminal rt "
                          "relays (or hands to --console-socket), not a file; the path is ignored");
        CHECK(convert(d, "lxc.aa_profile = unconfined\n")["process"].contains("apparmorProfile") == false);
    }
    SECTION("network") {
        json s = convert(d,
                         "lxc.network.type = veth\nlxc.network.link = br7\nlxc.network.name = eth1\n"
                         "lxc.network.mtu = 9000\nlxc.network.ipv4 = 10.1.2.3/24 10.1.2.255\n"
                         "lxc.network.ipv4.gateway = 10.1.2.254\nlxc.network.hwaddr = 00:16:3e:00:00:01\n",
                         &w);
        CHECK(s["annotations"] == json{{"rt.network.bridge", "br7"},
                                       {"rt.network.interface", "eth1"},
                                       {"rt.network.mtu", "9000"},
                                       {"rt.network.address", "10.1.2.3/24"},
                                       {"rt.network.gateway", "10.1.2.254"}});
        CHECK(rt::spec::parse(s).linux->has_namespace(rt::spec::NamespaceType::Network));
        REQUIRE(w.size() == 1);
        CHECK(w[0] == d.path + "/c.lxc:7: lxc.network.hwaddr: not supported by rt's networking, ignored");

        s = convert(d, "lxc.network.type = none\n");
        CHECK_FALSE(rt::spec::parse(s).linux->has_namespace(rt::spec::NamespaceType::Network));
        s = convert(d, "lxc.network.type = empty\n");
        CHECK(rt::spec::parse(s).linux->has_namespace(rt::spec::NamespaceType::Network));
        CHECK_FALSE(s.contains("annotations"));
    }
    SECTION("mount entries") {
        json s = convert(d,
                         "lxc.rootfs = /srv/r\n"
                         "lxc.mount.entry = /srv/my\\040data /srv/r/data none rbind,create=dir,defaults 0 0\n"
                         "lxc.mount.entry = tmpfs run tmpfs size=1m,mode=755\n"
                         "lxc.mount.entry = /dev/null /srv/r none bind\n");
        CHECK(*mount_at(s, "/data") == json{{"destination", "/data"},
                                            {"type", "bind"},
                                            {"source", "/srv/my data"},
                                            {"options", {"rbind"}}});
        CHECK(*mount_at(s, "/run") == json{{"destination", "/run"},
                                           {"type", "tmpfs"},
                                           {"source", "tmpfs"},
                                           {"options", {"size=1m", "mode=755"}}});
        CHECK(mount_at(s, "/") != nullptr);
        CHECK(s["mounts"][0]["destination"] == "/dev");  // rt's /dev tmpfs comes first
        CHECK(mount_at(s, "/dev/pts") == nullptr);       // no lxc.pts, no devpts entry: none
        s = convert(d, "lxc.pts = 16\n");
        CHECK((*mount_at(s, "/dev/pts"))["options"].back() == "max=16");
    }
    SECTION("cgroup settings") {
        json s =
            convert(d,
                    "lxc.cgroup.memory.limit_in_bytes = 512M\nlxc.cgroup.memory.memsw.limit_in_bytes = -1\n"
                    "lxc.cgroup.cpu.shares = 512\nlxc.cgroup.cpuset.cpus = 0-1,3\nlxc.cgroup.pids.max = 100\n"
                    "lxc.cgroup.cpu.cfs_quota_us = 50000\nlxc.cgroup.blkio.weight = 300\n"
                    "lxc.cgroup.devices.allow = b *:* m\nlxc.cgroup.devices.allow = c 10:229 rwm\n"
                    "lxc.cgroup.net_cls.classid = 1\n",
                    &w);
        const json& r = s["linux"]["resources"];
        CHECK(r["memory"] == json{{"limit", 512 << 20}, {"swap", -1}});
        CHECK(r["cpu"] == json{{"shares", 512}, {"cpus", "0-1,3"}, {"quota", 50000}});
        CHECK(r["pids"] == json{{"limit", 100}});
        CHECK(r["blockIO"] == json{{"weight", 300}});
        CHECK(r["devices"] == json::parse(R"([{"allow": true, "type": "b", "access": "m"},
            {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}])"));
        CHECK(s["linux"]["devices"][0]["path"] == "/dev/fuse");
        REQUIRE(w.size() == 1);
        CHECK(w[0] == d.path + "/c.lxc:10: lxc.cgroup.net_cls.classid: not mapped to config.json, ignored");
        // No rules at all: LXC restricts no device, neither does the conversion.
        CHECK_FALSE(convert(d, "lxc.utsname = x\n")["linux"].contains("resources"));
    }
    SECTION("capabilities") {
        json s = convert(d, "lxc.cap.keep = chown CAP_KILL bpf\n");
        CHECK(s["process"]["capabilities"]["bounding"] == json{"CAP_CHOWN", "CAP_KILL", "CAP_BPF"});
        s = convert(d, "lxc.cap.drop = sys_admin 0\nlxc.cap.drop = net_raw\n");
        const json& b = s["process"]["capabilities"]["bounding"];
        CHECK(b.size() == 37 - 3);
        CHECK(std::find(b.begin(), b.end(), "CAP_CHOWN") == b.end());
        CHECK(std::find(b.begin(), b.end(), "CAP_NET_RAW") == b.end());
        CHECK(std::find(b.begin(), b.end(), "CAP_BPF") == b.end());    // after Linux 3.8: keep only
        s = convert(d, "lxc.cap.drop = sys_admin\nlxc.cap.drop =\n");  // an empty drop clears
        CHECK(s["process"]["capabilities"]["bounding"].size() == 37);
        CHECK(convert(d, "lxc.cap.keep = none\n")["process"]["capabilities"]["bounding"].empty());
    }
    SECTION("comments, blanks, unknown keys") {
        json s = convert(
            d, "# comment\n\n   \n  # indented comment\nlxc.arch = x86_64\n\tlxc.utsname=tight\n", &w);
        CHECK(s["hostname"] == "tight");
        CHECK(w == std::vector<std::string>{d.path + "/c.lxc:5: lxc.arch: unknown key, ignored"});
    }
}

TEST_CASE("lxc: lxc.include", "[lxc]") {
    Dir d;
    std::vector<std::string> w;
    ::mkdir((d.path + "/conf.d").c_str(), 0755);
    d.write("common.conf", "lxc.utsname = common\nlxc.bogus = 1\n");
    d.write("conf.d/20-b.conf", "lxc.cgroup.pids.max = 20\n");
    d.write("conf.d/10-a.conf", "lxc.cgroup.pids.max = 10\nlxc.utsname = from-dir\n");
    d.write("conf.d/notes.txt", "not a config\n");
    json s = convert(d, "lxc.include = common.conf\nlxc.include = " + d.path + "/conf.d\n", &w);
    CHECK(s["hostname"] == "from-dir");
    CHECK(s["linux"]["resources"]["pids"]["limit"] == 20);  // *.conf in name order
    CHECK(w == std::vector<std::string>{d.path + "/common.conf:2: lxc.bogus: unknown key, ignored"});

    d.write("loop-a.conf", "lxc.utsname = a\nlxc.include = loop-b.conf\n");
    d.write("loop-b.conf", "\nlxc.include = loop-a.conf\n");
    try {
        rt::lxc::to_spec(d.path + "/loop-a.conf");
        FAIL("an include loop was accepted");
    } catch (const rt::Error& e) {
        CHECK(std::string(e.what()) == d.path + "/loop-b.conf:2: lxc.include: " + d.path +
                                           "/loop-a.conf: include loop (" + d.path +
                                           "/loop-a.conf is already being read)");
    }
    d.write("self.conf", "lxc.include = self.conf\n");
    CHECK_THROWS_WITH(rt::lxc::to_spec(d.path + "/self.conf"),
                      Catch::Contains("self.conf:1: lxc.include: ") && Catch::Contains("include loop"));
    d.write("missing.conf", "\n\nlxc.include = nowhere.conf\n");
    CHECK_THROWS_WITH(rt::lxc::to_spec(d.path + "/missing.conf"),
                      Catch::StartsWith(d.path + "/missing.conf:3: lxc.include: ") &&
                          Catch::Contains("No such file or directory"));
}

TEST_CASE("lxc: malformed lines are errors with their line number", "[lxc]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"lxc.utsname = a\nlxc.rootfs /srv/r\n",
         "c.lxc:2: no '=' in \"lxc.rootfs /srv/r\" (lines are KEY = VALUE)"},
        {"= value\n", "c.lxc:1: no key before '=' in \"= value\""},
        {"\nlxc.cgroup.devices.allow = c 1:3\n",
         "c.lxc:2: lxc.cgroup.devices.allow: bad device rule \"c 1:3\": expected TYPE MAJOR:MINOR ACCESS, "
         "e.g. c 1:3 rwm"},
        {"lxc.cgroup.devices.allow = x 1:3 rwm\n",
         "c.lxc:1: lxc.cgroup.devices.allow: bad device rule \"x 1:3 rwm\": the type must be a, b or c"},
        {"lxc.cgroup.devices.deny = c 1:x rwm\n",
         "c.lxc:1: lxc.cgroup.devices.deny: bad device rule \"c 1:x rwm\": the minor must be a number or *"},
        {"lxc.cgroup.devices.allow = c 13 rwm\n",
         "c.lxc:1: lxc.cgroup.devices.allow: bad device rule \"c 13 rwm\": expected MAJOR:MINOR, got \"13\""},
        {"lxc.cgroup.devices.allow = c 1:3 rwx\n",
         "c.lxc:1: lxc.cgroup.devices.allow: bad device rule \"c 1:3 rwx\": the access must be letters of "
         "rwm"},
        {"lxc.network.type = veth\nlxc.network.ipv4 = 172.17.0.6\n",
         "c.lxc:2: lxc.network.ipv4: bad CIDR \"172.17.0.6\" (expected ADDRESS/PREFIX [BROADCAST], e.g. "
         "172.17.0.6/16)"},
        {"lxc.network.type = veth\nlxc.network.ipv4 = 172.17.300.6/16\n",
         "c.lxc:2: lxc.network.ipv4: bad CIDR \"172.17.300.6/16\" (expected ADDRESS/PREFIX [BROADCAST], e.g. "
         "172.17.0.6/16)"},
        {"lxc.network.type = veth\nlxc.network.ipv4 = 10.0.0.1/33\n",
         "c.lxc:2: lxc.network.ipv4: bad CIDR \"10.0.0.1/33\" (expected ADDRESS/PREFIX [BROADCAST], e.g. "
         "172.17.0.6/16)"},
        {"lxc.network.type = veth\nlxc.network.mtu = big\n",
         "c.lxc:2: lxc.network.mtu: must be an MTU between 68 and 65535, got \"big\""},
        {"lxc.network.link = docker0\n", "c.lxc:1: lxc.network.link: must follow lxc.network.type"},
        {"lxc.network.type = macvlan\n",
         "c.lxc:1: lxc.network.type: network type \"macvlan\" is not supported (veth, empty or none)"},
        {"lxc.network.type = veth\nlxc.network.type = veth\n",
         "c.lxc:2: lxc.network.type: a second network: rt sets up one network per container"},
        {"lxc.mount.entry = proc /srv/r/proc proc\n",
         "c.lxc:1: lxc.mount.entry: bad fstab entry \"proc /srv/r/proc proc\": expected SOURCE TARGET TYPE "
         "OPTIONS "
         "[FREQ [PASSNO]], got 3 fields"},
        {"lxc.mount.entry = proc proc proc nosuid x 0\n",
         "c.lxc:1: lxc.mount.entry: bad fstab entry \"proc proc proc nosuid x 0\": FREQ and PASSNO must be "
         "numbers"},
        {"lxc.mount.entry = proc proc proc nosuid,,nodev\n",
         "c.lxc:1: lxc.mount.entry: bad fstab entry \"proc proc proc nosuid,,nodev\": empty mount option"},
        {"lxc.rootfs = /srv/r\nlxc.mount.entry = proc /srv/other/proc proc nosuid\n",
         "c.lxc:2: lxc.mount.entry: the target /srv/other/proc is outside lxc.rootfs (/srv/r)"},
        {"lxc.mount.entry = proc /proc proc nosuid\n",
         "c.lxc:1: lxc.mount.entry: the target /proc is a host path, but there is no lxc.rootfs to take it "
         "from"},
        {"lxc.cap.drop = sys_admin fly\n", "c.lxc:1: lxc.cap.drop: unknown capability \"fly\""},
        {"lxc.cap.drop = sys_admin\nlxc.cap.keep = chown\n",
         "c.lxc:2: lxc.cap.keep: cannot be combined with lxc.cap.drop (c.lxc:1)"},
        {"lxc.cgroup.memory.limit_in_bytes = lots\n",
         "c.lxc:1: lxc.cgroup.memory.limit_in_bytes: must be a number of bytes (k, m, g suffixes) or -1, got "
         "\"lots\""},
        {"lxc.cgroup.cpuset.cpus = 3-1\n",
         "c.lxc:1: lxc.cgroup.cpuset.cpus: must be a list such as 0-3,5, got \"3-1\""},
        {"lxc.init.cmd = sh -c 'echo\n", "c.lxc:1: lxc.init.cmd: unterminated quote in \"sh -c 'echo\""},
        {"lxc.pts = many\n", "c.lxc:1: lxc.pts: must be a number of pseudo terminals, got \"many\""},
        {"lxc.utsname =\n", "c.lxc:1: lxc.utsname: the hostname must be 1 to 64 characters without '/'"},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        const std::string got = convert_error(text);
        CHECK(got == expected);
    }
}

// ---- edit options -----------------------------------------------------------------------------------

TEST_CASE("edits: each option", "[specedit]") {
    const json base = rt::spec::default_spec(false);
    Dir d;
    rt::spec::Edits e;
    SECTION("rootfs, args, cwd, user, hostname, terminal, readonly") {
        e.rootfs = "/srv/root";
        e.args = std::vector<std::string>{"make", "test"};
        e.cwd = "/src/";
        e.user = "1000";
        e.hostname = "job-42";
        e.terminal = true;
        e.readonly = true;
        json c = base;
        c["linux"]["namespaces"].erase(3);  // uts: --hostname brings it back
        c = edited(c, e);
        CHECK(c["root"] == json{{"path", "/srv/root"}, {"readonly", true}});
        CHECK(c["process"]["args"] == json{"make", "test"});
        CHECK(c["process"]["cwd"] == "/src");
        CHECK(c["process"]["user"] == json{{"uid", 1000}, {"gid", 1000}});
        CHECK(c["hostname"] == "job-42");
        CHECK(c["linux"]["namespaces"].back() == json{{"type", "uts"}});
        CHECK(c["process"]["terminal"] == true);
        e = {};
        e.user = "0:5";
        e.terminal = false;
        c = edited(c, e);
        CHECK(c["process"]["user"] == json{{"uid", 0}, {"gid", 5}});
        CHECK(c["process"]["terminal"] == false);
    }
    SECTION("env") {
        e.env = {"TERM=dumb", "CI=true", "EMPTY="};
        json c = edited(base, e);
        CHECK(c["process"]["env"] == json{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                          "TERM=dumb", "HOME=/", "CI=true", "EMPTY="});
    }
    SECTION("bind and tmpfs") {
        e.binds = {d.path + ":/src", d.path + "/./:/data/:ro"};
        e.tmpfs = {"/tmp", "/scratch:64m"};
        json c = edited(base, e);
        CHECK(*mount_at(c, "/src") == json{{"destination", "/src"},
                                           {"type", "bind"},
                                           {"source", d.path},
                                           {"options", {"rbind", "rw"}}});
        CHECK((*mount_at(c, "/data"))["options"] == json{"rbind", "ro"});
        CHECK((*mount_at(c, "/data"))["source"] == d.path);
        CHECK(*mount_at(c, "/tmp") == json{{"destination", "/tmp"},
                                           {"type", "tmpfs"},
                                           {"source", "tmpfs"},
                                           {"options", {"nosuid", "nodev", "mode=1777"}}});
        CHECK((*mount_at(c, "/scratch"))["options"].back() == "size=64m");
        // A second bind at /src replaces the first, in place.
        e = {};
        e.binds = {"/:/src:ro"};
        json c2 = edited(c, e);
        CHECK(c2["mounts"].size() == c["mounts"].size());
        CHECK((*mount_at(c2, "/src"))["source"] == "/");
        // A relative source is taken from the current directory.
        char cwd[4096];
        REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
        e.binds = {".:/here"};
        CHECK((*mount_at(edited(base, e), "/here"))["source"] == std::string(cwd));
    }
    SECTION("resources") {
        e.memory = "512m";
        e.pids = "64";
        e.cpus = "1.5";
        json c = edited(base, e);
        const json& r = c["linux"]["resources"];
        CHECK(r["memory"]["limit"] == 512ull << 20);
        CHECK(r["pids"]["limit"] == 64);
        CHECK(r["cpu"] == json{{"period", 100000}, {"quota", 150000}});
        CHECK(r["devices"] == base["linux"]["resources"]["devices"]);  // left alone
    }
    SECTION("network") {
        auto has_netns = [](const json& c) {
            return rt::spec::parse(c).linux->has_namespace(rt::spec::NamespaceType::Network);
        };
        e.network = "bridge";
        json c = edited(base, e);
        CHECK(c["annotations"] == json{{"rt.network.bridge", rt::spec::kDefaultBridge}});
        e.network = "bridge=br-ci";
        c = edited(c, e);
        CHECK(c["annotations"] == json{{"rt.network.bridge", "br-ci"}});
        CHECK(has_netns(c));
        e.network = "host";
        c = edited(c, e);
        CHECK_FALSE(c.contains("annotations"));
        CHECK_FALSE(has_netns(c));
        e.network = "none";
        c = edited(c, e);
        CHECK(has_netns(c));
        CHECK_FALSE(c.contains("annotations"));
    }
}

TEST_CASE("edits: applied twice give the same document", "[specedit]") {
    Dir d;
    rt::spec::Edits e;
    e.rootfs = "rootfs";
    e.args = std::vector<std::string>{"make", "test"};
    e.env = {"CI=1", "TERM=dumb"};
    e.cwd = "/src";
    e.user = "1000:1000";
    e.hostname = "ci";
    e.binds = {d.path + ":/src", d.path + ":/ro:ro"};
    e.tmpfs = {"/tmp:16m"};
    e.readonly = true;
    e.memory = "1g";
    e.pids = "100";
    e.cpus = "2";
    e.network = "bridge=br0";
    e.terminal = false;
    const json once = edited(rt::spec::default_spec(false), e);
    CHECK(edited(once, e) == once);
    CHECK(once != rt::spec::default_spec(false));
    CHECK_NOTHROW(rt::spec::parse(once));
}

TEST_CASE("edits: bad values are errors that name the option", "[specedit]") {
    auto with = [](auto set) {
        rt::spec::Edits e;
        e.env = {"GOOD=1"};  // a valid edit before the bad one is not applied either
        set(e);
        return edit_error(e);
    };
    using E = rt::spec::Edits;
    CHECK(with([](E& e) { e.env.push_back("NOVALUE"); }) ==
          "--env \"NOVALUE\": must have the form NAME=VALUE");
    CHECK(with([](E& e) { e.env.push_back("=x"); }) == "--env \"=x\": must have the form NAME=VALUE");
    CHECK(with([](E& e) { e.cwd = "src"; }) == "--cwd \"src\": must be an absolute path");
    CHECK(with([](E& e) { e.user = "joe"; }) ==
          "--user \"joe\": must be UID or UID:GID (numbers below 4294967295)");
    CHECK(with([](E& e) { e.user = "1:"; }) ==
          "--user \"1:\": must be UID or UID:GID (numbers below 4294967295)");
    CHECK(with([](E& e) {
              e.hostname = std::string(65, 'h');
          }).ends_with(": must be 1 to 64 characters without '/'"));
    CHECK(with([](E& e) { e.binds = {"/tmp"}; }) ==
          "--bind \"/tmp\": must be SRC:DST or SRC:DST:ro (paths without ':')");
    CHECK(with([](E& e) { e.binds = {"/tmp:rel"}; }) ==
          "--bind \"/tmp:rel\": the destination must be an absolute path");
    CHECK(with([](E& e) { e.binds = {"/tmp:/t:rx"}; }) ==
          "--bind \"/tmp:/t:rx\": the third field must be ro or rw");
    CHECK(with([](E& e) { e.binds = {"/no/such/dir:/t"}; }) ==
          "--bind \"/no/such/dir:/t\": /no/such/dir: No such file or directory");
    CHECK(with([](E& e) { e.tmpfs = {"tmp"}; }) ==
          "--tmpfs \"tmp\": the destination must be an absolute path");
    CHECK(with([](E& e) { e.tmpfs = {"/tmp:1x"}; }) ==
          "--tmpfs \"/tmp:1x\": the size must be a positive number of bytes, with an optional k, m or g");
    CHECK(with([](E& e) { e.memory = "-5"; }) ==
          "--memory \"-5\": must be a positive number of bytes, with an optional k, m or g");
    CHECK(with([](E& e) { e.memory = "0"; }) ==
          "--memory \"0\": must be a positive number of bytes, with an optional k, m or g");
    CHECK(with([](E& e) { e.pids = "0"; }) == "--pids \"0\": must be a positive integer");
    CHECK(with([](E& e) { e.cpus = "0.001"; }) ==
          "--cpus \"0.001\": must be a number of CPUs, at least 0.01 (e.g. 2 or 1.5)");
    CHECK(with([](E& e) { e.cpus = "two"; }) ==
          "--cpus \"two\": must be a number of CPUs, at least 0.01 (e.g. 2 or 1.5)");
    CHECK(with([](E& e) { e.network = "wifi"; }) ==
          "--network \"wifi\": must be none, host, bridge or bridge=NAME");
    CHECK(with([](E& e) { e.network = "bridge=a/b"; }) ==
          "--network \"bridge=a/b\": the bridge name must be 1 to 15 characters without '/', ':' or spaces");
    CHECK(with([](E& e) { e.args = std::vector<std::string>{}; }) == "--args: a command is required");
    CHECK(with([](E& e) { e.rootfs = ""; }) == "--rootfs \"\": must not be empty");
}

// ---- generate() on a bundle -------------------------------------------------------------------------

TEST_CASE("generate: new, edit, refuse", "[specedit]") {
    Dir d;
    rt::spec::GenerateOptions o;
    o.bundle = d.path;
    const std::string file = d.path + "/config.json";

    // No config.json: the default.
    CHECK(rt::spec::generate(o).empty());
    CHECK(json::parse(d.read("config.json")) == rt::spec::default_spec(false));
    const std::string first = d.read("config.json");
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);

    // Exists, no edits: runc's refusal, file untouched.
    CHECK_THROWS_WITH(rt::spec::generate(o), "File " + file + " exists. Remove it first");
    o.from_lxc = kFixture;
    CHECK_THROWS_WITH(rt::spec::generate(o), "File " + file + " exists. Remove it first");
    o.from_lxc.clear();
    CHECK(d.read("config.json") == first);

    // Exists, edits: edited in place; fields rt does not model survive.
    json c = json::parse(first);
    c["x-custom"] = {{"kept", true}};
    d.write("config.json", c.dump());
    o.edits.cwd = "/src";
    rt::spec::generate(o);
    json edited_doc = json::parse(d.read("config.json"));
    CHECK(edited_doc["process"]["cwd"] == "/src");
    CHECK(edited_doc["x-custom"] == json{{"kept", true}});
    const std::string once = d.read("config.json");
    rt::spec::generate(o);
    CHECK(d.read("config.json") == once);  // idempotent, byte for byte

    // A bad edit leaves the file as it was, and no temporary file behind.
    o.edits.binds = {"/no/such:/x"};
    CHECK_THROWS(rt::spec::generate(o));
    CHECK(d.read("config.json") == once);
    CHECK(d.entries() == std::vector<std::string>{"config.json"});
    o.edits = {};

    // --rootless only for a new file.
    o.rootless = true;
    o.edits.cwd = "/";
    CHECK_THROWS_WITH(rt::spec::generate(o), Catch::StartsWith("--rootless: only for a new config.json"));

    // A document rt create would reject is not written.
    Dir d2;
    rt::spec::GenerateOptions o2;
    o2.bundle = d2.path;
    const std::string no_args =
        R"({"ociVersion": "1.1.0", "process": {"cwd": "/", "user": {"uid": 0, "gid": 0}},
                                    "root": {"path": "rootfs"}})";
    d2.write("config.json", no_args);
    o2.edits.cwd = "/src";
    CHECK_THROWS_WITH(rt::spec::generate(o2),
                      d2.path + "/config.json: process.args: must be a non-empty array of strings");
    CHECK(d2.read("config.json") == no_args);
    CHECK(d2.entries() == std::vector<std::string>{"config.json"});
}
