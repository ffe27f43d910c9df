// Integration tests: `rt spec`. The notes' LXC config (test/fixtures/docker-0.6.lxc) converts and
// runs with its device rules, capabilities and mounts; plain `rt spec` writes a default that keeps
// them; each edit option changes what the container sees; malformed LXC lines fail with their line
// number and leave nothing behind; options applied twice give the same file.
//
// Containers that carry network annotations run under `unshare --net`, so whatever rt sets up for
// them (a bridge, a veth) lives and dies in a throwaway network namespace, never the host's.
//
// main() comes from harness_main.cpp (linked from the harness library).
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"

using json = nlohmann::json;

namespace {

const std::string kNotesDir =
    "/var/lib/docker/containers/622019314776a09ff747b0c4ff5bcb7392bc0d469b0d2f2663d180f297d252e5";

std::string fixture() {
    const char* src = std::getenv("RT_SOURCE_DIR");
    if (src == nullptr || !th::exists(std::string(src) + "/test/fixtures/docker-0.6.lxc"))
        th::skip_all("RT_SOURCE_DIR is not set or has no test/fixtures/docker-0.6.lxc");
    return std::string(src) + "/test/fixtures/docker-0.6.lxc";
}

// A bundle directory with the busybox rootfs and no config.json yet.
struct SpecBundle {
    th::TempDir tmp{"rt-spec-test"};
    std::string dir() const { return tmp.path(); }
    std::string config_path() const { return dir() + "/config.json"; }
    json config() const { return json::parse(th::read_file(config_path())); }
    SpecBundle() {
        auto r = th::sh("cp -a " + th::shell_quote({th::rootfs_source()}) + " " +
                        th::shell_quote({dir() + "/rootfs"}));
        REQUIRE(r.status == 0);
    }
};

th::Result spec(const std::string& bundle, std::vector<std::string> args) {
    args.insert(args.begin(), {"spec", "-b", bundle});
    return th::rt(args);
}

// `rt run` in a network namespace of its own (see the header).
th::Result run_isolated(const std::string& bundle, const std::string& id) {
    std::vector<std::string> argv = {"unshare", "--net"};
    for (const auto& a : th::rt_argv({"run", "-b", bundle, id})) argv.push_back(a);
    return th::run_argv(argv);
}

// The value after "KEY=" on the container's output lines.
std::map<std::string, std::string> fields(const std::string& out) {
    std::map<std::string, std::string> m;
    for (const auto& l : th::lines(out))
        if (auto eq = l.find('='); eq != std::string::npos) m[l.substr(0, eq)] = l.substr(eq + 1);
    return m;
}

// One mountinfo line's mount point, per-mount options and super options.
struct MountLine {
    std::string opts, fstype, super;
};
std::map<std::string, MountLine> mountinfo(const std::string& text) {
    std::map<std::string, MountLine> m;
    for (const auto& line : th::lines(text)) {
        std::istringstream in(line);
        std::vector<std::string> f;
        for (std::string w; in >> w;) f.push_back(w);
        auto sep = std::find(f.begin(), f.end(), "-");
        if (f.size() < 10 || sep == f.end() || f.end() - sep < 4) continue;
        m[f[4]] = {f[5], sep[1], sep[3]};
    }
    return m;
}

bool has_opt(const std::string& csv, const std::string& opt) {
    std::istringstream in(csv);
    for (std::string o; std::getline(in, o, ',');)
        if (o == opt) return true;
    return false;
}

// CapBnd the notes' template gives: Linux 3.8's capabilities (up to CAP_BLOCK_SUSPEND) without
// those on the fixture's lxc.cap.drop line (read here, mapped with the kernel header's numbers).
unsigned long long notes_capbnd() {
    static const std::map<std::string, int> numbers = {{"audit_control", CAP_AUDIT_CONTROL},
                                                       {"audit_write", CAP_AUDIT_WRITE},
                                                       {"mac_admin", CAP_MAC_ADMIN},
                                                       {"mac_override", CAP_MAC_OVERRIDE},
                                                       {"mknod", CAP_MKNOD},
                                                       {"setfcap", CAP_SETFCAP},
                                                       {"setpcap", CAP_SETPCAP},
                                                       {"sys_admin", CAP_SYS_ADMIN},
                                                       {"sys_boot", CAP_SYS_BOOT},
                                                       {"sys_module", CAP_SYS_MODULE},
                                                       {"sys_nice", CAP_SYS_NICE},
                                                       {"sys_pacct", CAP_SYS_PACCT},
                                                       {"sys_rawio", CAP_SYS_RAWIO},
                                                       {"sys_resource", CAP_SYS_RESOURCE},
                                                       {"sys_time", CAP_SYS_TIME},
                                                       {"sys_tty_config", CAP_SYS_TTY_CONFIG}};
    unsigned long long mask = (1ULL << (CAP_BLOCK_SUSPEND + 1)) - 1;
    int dropped = 0;
    for (const auto& line : th::lines(th::read_file(fixture()))) {
        if (!line.starts_with("lxc.cap.drop")) continue;
        std::istringstream in(line.substr(line.find('=') + 1));
        for (std::string name; in >> name; ++dropped) {
            INFO(name);
            REQUIRE(numbers.contains(name));
            mask &= ~(1ULL << numbers.at(name));
        }
    }
    REQUIRE(dropped == 16);
    return mask;
}

// The fixture's lxc.cgroup.devices.* lines as OCI rules (parsed here, independently of rt).
json notes_device_rules() {
    json rules = json::array();
    for (const auto& line : th::lines(th::read_file(fixture()))) {
        if (!line.starts_with("lxc.cgroup.devices.")) continue;
        bool allow = line.starts_with("lxc.cgroup.devices.allow");
        std::istringstream in(line.substr(line.find('=') + 1));
        std::string type, numbers, access = "rwm";
        in >> type >> numbers >> access;
        json r = {{"allow", allow}, {"type", type}, {"access", access}};
        if (!numbers.empty()) {
            std::string maj = numbers.substr(0, numbers.find(':')),
                        min = numbers.substr(numbers.find(':') + 1);
            if (maj != "*") r["major"] = std::stoi(maj);
            if (min != "*") r["minor"] = std::stoi(min);
        }
        rules.push_back(r);
    }
    return rules;
}

// What the container scripts print: capabilities, hostname, devices, mount table.
const std::string kProbe =
    "grep CapBnd /proc/self/status | sed 's/.*:\\s*/capbnd=/'; echo host=$(hostname); "
    "echo tun=$(stat -c %t:%T /dev/net/tun 2>&1); echo null=$(stat -c %t:%T /dev/null); "
    "echo netns=$(readlink /proc/self/ns/net); "
    "if : </dev/full 2>/dev/null; then echo full=open; else echo full=denied; fi; "
    "if : </dev/null 2>/dev/null; then echo devnull=open; else echo devnull=denied; fi; "
    "echo ---; cat /proc/self/mountinfo";

std::string mounts_part(const std::string& out) { return out.substr(out.find("---\n") + 4); }

// The notes' mount options, as the container sees them.
void check_notes_mounts(const std::map<std::string, MountLine>& m, bool sys_ro) {
    for (const char* p : {"/proc", "/sys", "/dev/pts", "/dev/shm"}) {
        INFO(p);
        REQUIRE(m.contains(p));
        CHECK(has_opt(m.at(p).opts, "nosuid"));
        CHECK(has_opt(m.at(p).opts, "noexec"));
        if (std::string(p) != "/dev/pts") CHECK(has_opt(m.at(p).opts, "nodev"));
    }
    CHECK(m.at("/proc").fstype == "proc");
    CHECK(m.at("/sys").fstype == "sysfs");
    CHECK(has_opt(m.at("/sys").opts, "ro") == sys_ro);
    CHECK(m.at("/dev/pts").fstype == "devpts");
    CHECK(has_opt(m.at("/dev/pts").super, "ptmxmode=666"));
    CHECK(has_opt(m.at("/dev/pts").super, "max=1024"));
    CHECK(m.at("/dev/shm").fstype == "tmpfs");
    CHECK(has_opt(m.at("/dev/shm").super, "size=65536k"));
}

// The devices cgroup of a container that is still there (v1): its devices.list.
std::string devices_list(pid_t pid) {
    for (const auto& l : th::lines(th::read_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
        auto a = l.find(':'), b = l.find(':', a + 1);
        if (l.substr(a + 1, b - a - 1) == "devices")
            return th::read_file("/sys/fs/cgroup/devices" + l.substr(b + 1) + "/devices.list");
    }
    return "";
}

// The device rules in effect, as the kernel holds them for a created container (v1 devices.list):
// not "a *:* rwm" (everything), the template's tuntap rule present, no block device readable or
// writable. /dev/full stays open: like runc, rt always allows the runtime-spec's default devices
// (/dev/null, zero, full, random, urandom, tty, ptmx) after the config's rules.
void check_device_rules(const std::map<std::string, std::string>& f, const std::string& bundle) {
    CHECK(f.at("devnull") == "open");
    // Without the network annotations, so that nothing is set up on the host's network.
    REQUIRE(spec(bundle, {"--network", "none"}).status == 0);
    std::string id = th::unique_id("spec-dev");
    auto c = th::rt({"create", "-b", bundle, id});
    REQUIRE(c.status == 0);
    auto st = th::state(id);
    std::string list = devices_list(st["pid"].get<pid_t>());
    th::rt({"delete", "--force", id});
    if (list.empty()) {
        WARN("skipped: no v1 devices hierarchy on this host; the rules were checked in config.json only");
        return;
    }
    INFO(list);
    auto rules = th::lines(list);
    CHECK(std::find(rules.begin(), rules.end(), "a *:* rwm") == rules.end());
    CHECK(std::find(rules.begin(), rules.end(), "c 10:200 rwm") != rules.end());
    for (const auto& r : rules)
        if (r.rfind("b ", 0) == 0) CHECK(r.substr(r.rfind(' ') + 1) == "m");
}

}  // namespace

TEST_CASE("the notes' LXC config converts and runs", "[spec][rt-only]") {
    SpecBundle b;
    // The notes' container directory and /usr/bin/docker, pointed at files of this test.
    th::TempDir host("rt-spec-notes");
    th::write_file(host.path() + "/hostname", "622019314776\n");
    th::write_file(host.path() + "/hosts", "127.0.0.1\t622019314776\n127.0.0.1\tlocalhost\n");
    th::write_file(host.path() + "/docker", "dockerinit stand-in\n");
    REQUIRE(th::sh("mv " + th::shell_quote({b.dir() + "/rootfs", host.path() + "/rootfs"})).status == 0);
    std::string text = th::read_file(fixture());
    for (size_t p; (p = text.find(kNotesDir)) != std::string::npos;)
        text.replace(p, kNotesDir.size(), host.path());
    for (size_t p; (p = text.find("/usr/bin/docker ")) != std::string::npos;)
        text.replace(p, 15, host.path() + "/docker");
    th::write_file(host.path() + "/config.lxc", text);

    auto r = spec(b.dir(), {"--from-lxc", host.path() + "/config.lxc", "--", "sh", "-c",
                            kProbe + "; echo ===; "
                                     "cat /etc/hostname /.dockerinit"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    // The one key rt cannot reproduce is a warning with its line number.
    CHECK(r.err == "rt: warning: " + host.path() +
                       "/config.lxc:39: lxc.tty = 1: rt makes no /dev/tty1..N for a "
                       "container (only its console); ignored\n");
    json c = b.config();
    CHECK(c["root"]["path"] == host.path() + "/rootfs");
    CHECK(c["linux"]["resources"]["devices"] == notes_device_rules());
    CHECK(c["annotations"]["rt.network.bridge"] == "docker0");
    CHECK(c["annotations"]["rt.network.address"] == "172.17.0.6/16");

    auto run = run_isolated(b.dir(), th::unique_id("notes"));
    INFO(run.out + run.err);
    REQUIRE(run.status == 0);
    auto f = fields(run.out.substr(0, run.out.find("---\n")));
    CHECK(std::stoull(f.at("capbnd"), nullptr, 16) == notes_capbnd());
    CHECK(f.at("host") == "622019314776");
    CHECK(f.at("tun") == "a:c8");  // 10:200, the tuntap node the template allows
    CHECK(f.at("null") == "1:3");
    auto m = mountinfo(mounts_part(run.out.substr(0, run.out.find("===\n"))));
    check_notes_mounts(m, false);  // the notes mount sysfs read-write
    for (const char* p : {"/etc/hostname", "/etc/hosts", "/.dockerinit", "/etc/resolv.conf"}) {
        INFO(p);
        REQUIRE(m.contains(p));
        CHECK(has_opt(m.at(p).opts, "ro"));
    }
    CHECK(run.out.substr(run.out.find("===\n") + 4) == "622019314776\ndockerinit stand-in\n");
    check_device_rules(f, b.dir());
}

TEST_CASE("LXC mappings seen from inside the container", "[spec][rt-only]") {
    SpecBundle b;
    th::TempDir host("rt-spec-lxc");
    th::write_file(host.path() + "/data", "bound\n");
    th::write_file(
        host.path() + "/common.conf",
        "# included from the main file\nlxc.environment = FROM_INCLUDE=yes\nlxc.cap.keep = chown kill\n");
    th::write_file(host.path() + "/c.lxc",
                   "lxc.include = common.conf\n"
                   "lxc.uts.name = lxc-box\n"
                   "lxc.rootfs.path = dir:" +
                       b.dir() +
                       "/rootfs\n"
                       "lxc.network.type = none\n"
                       "lxc.mount.entry = " +
                       host.path() +
                       "/data mnt/data none bind,ro,create=file 0 0\n"
                       "lxc.mount.entry = tmpfs run tmpfs size=2m,mode=755 0 0\n"
                       "lxc.mount.entry = proc proc proc nosuid,nodev,noexec 0 0\n"
                       "lxc.init.cwd = /mnt\n"
                       "lxc.init.cmd = sh -c 'cat /mnt/data; echo env=$FROM_INCLUDE; echo host=$(hostname); "
                       "echo pwd=$(pwd); "
                       "grep CapBnd /proc/self/status | sed \"s/.*:\\s*/capbnd=/\"; echo netns=$(readlink "
                       "/proc/self/ns/net); "
                       "echo ---; cat /proc/self/mountinfo'\n");
    auto r = spec(b.dir(), {"--from-lxc", host.path() + "/c.lxc"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    auto run = th::rt({"run", "-b", b.dir(), th::unique_id("lxc")});
    INFO(run.out + run.err);
    REQUIRE(run.status == 0);
    CHECK(run.out.starts_with("bound\n"));
    auto f = fields(run.out.substr(0, run.out.find("---\n")));
    CHECK(f["env"] == "yes");
    CHECK(f["host"] == "lxc-box");
    CHECK(f["pwd"] == "/mnt");
    CHECK(std::stoull(f["capbnd"], nullptr, 16) == ((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL)));
    CHECK(f["netns"] == th::ns_link(getpid(), "net"));  // lxc.network.type = none: the host's
    auto m = mountinfo(mounts_part(run.out));
    REQUIRE(m.contains("/mnt/data"));
    CHECK(has_opt(m.at("/mnt/data").opts, "ro"));
    REQUIRE(m.contains("/run"));
    CHECK(has_opt(m.at("/run").super, "size=2048k"));
    REQUIRE(m.contains("/proc"));
    CHECK(has_opt(m.at("/proc").opts, "noexec"));
    CHECK_FALSE(m.contains("/sys"));  // only what the config mounts (and rt's /dev)
}

TEST_CASE("plain rt spec keeps what the template protected", "[spec][rt-only]") {
    SpecBundle b;
    REQUIRE(spec(b.dir(), {}).status == 0);
    json c = b.config();
    CHECK(c["linux"]["resources"]["devices"] == notes_device_rules());
    CHECK(c["process"]["terminal"] == false);
    // Running it as written (sh reading an empty stdin) works.
    auto plain = th::rt({"run", "-b", b.dir(), th::unique_id("default")});
    CHECK(plain.status == 0);

    REQUIRE(spec(b.dir(), {"--", "sh", "-c", kProbe + "; touch /rootfs-is-rw && echo rw=yes"}).status == 0);
    auto run = th::rt({"run", "-b", b.dir(), th::unique_id("default")});
    INFO(run.out + run.err);
    REQUIRE(run.status == 0);
    auto f = fields(run.out.substr(0, run.out.find("---\n")));
    CHECK(std::stoull(f.at("capbnd"), nullptr, 16) == notes_capbnd());
    CHECK(f.at("host") == "rt");
    CHECK(f.at("tun") == "a:c8");
    CHECK(f.at("netns") != th::ns_link(getpid(), "net"));  // a network namespace of its own
    check_notes_mounts(mountinfo(mounts_part(run.out)), true);
    CHECK(run.out.ends_with("rw=yes\n"));
    check_device_rules(f, b.dir());
}

TEST_CASE("rt spec options, each seen from inside the container", "[spec][rt-only]") {
    SpecBundle b;
    th::TempDir src("rt-spec-src"), ro("rt-spec-ro");
    REQUIRE(::chmod(src.path().c_str(), 0777) == 0);
    REQUIRE(::chmod(ro.path().c_str(), 0777) == 0);  // only the read-only mount may refuse uid 1000
    th::write_file(ro.path() + "/data", "read me\n");
    REQUIRE(spec(b.dir(), {}).status == 0);  // then edit the existing file
    const std::string script =
        "echo ci=$CI; echo pwd=$(pwd); echo uid=$(id -u); echo gid=$(id -g); echo host=$(hostname); "
        "echo from-container > /src/out && echo bind=rw; cat /ro/data; touch /ro/x 2>/dev/null || echo "
        "ro=denied; "
        "echo scratch > /scratch/f && echo tmpfs=ok; echo ifaces=$(ls /sys/class/net); "
        "echo ---; cat /proc/self/mountinfo";
    auto r = spec(b.dir(), {"--env",      "CI=yes, really",
                            "--cwd",      "/src",
                            "--user",     "1000:1000",
                            "--hostname", "job-42",
                            "--bind",     src.path() + ":/src",
                            "--bind",     ro.path() + ":/ro:ro",
                            "--tmpfs",    "/scratch:1m",
                            "--readonly", "--memory",
                            "64m",        "--pids",
                            "50",         "--cpus",
                            "0.5",        "--network",
                            "none",       "--no-terminal",
                            "--",         "sh",
                            "-c",         script});
    INFO(r.err);
    REQUIRE(r.status == 0);
    json c = b.config();
    CHECK(c["linux"]["resources"]["memory"]["limit"] == 64 << 20);
    CHECK(c["linux"]["resources"]["pids"]["limit"] == 50);
    CHECK(c["linux"]["resources"]["cpu"] == json{{"period", 100000}, {"quota", 50000}});
    CHECK(c["process"]["terminal"] == false);

    auto run = th::rt({"run", "-b", b.dir(), th::unique_id("opts")});
    INFO(run.out + run.err);
    REQUIRE(run.status == 0);
    auto f = fields(run.out);
    CHECK(f["ci"] == "yes, really");  // not split at the comma
    CHECK(f["pwd"] == "/src");
    CHECK(f["uid"] == "1000");
    CHECK(f["gid"] == "1000");
    CHECK(f["host"] == "job-42");
    CHECK(f["bind"] == "rw");
    CHECK(th::read_file(src.path() + "/out") == "from-container\n");
    CHECK(run.out.find("read me\n") != std::string::npos);
    CHECK(f["ro"] == "denied");
    CHECK(f["tmpfs"] == "ok");
    CHECK(f["ifaces"] == "lo");  // --network none: a namespace with only lo
    auto m = mountinfo(mounts_part(run.out));
    REQUIRE(m.contains("/"));
    CHECK(has_opt(m.at("/").opts, "ro"));  // --readonly
    REQUIRE(m.contains("/scratch"));
    CHECK(m.at("/scratch").fstype == "tmpfs");
    CHECK(has_opt(m.at("/scratch").super, "size=1024k"));
    REQUIRE(m.contains("/ro"));
    CHECK(has_opt(m.at("/ro").opts, "ro"));

    SECTION("--terminal") {
        REQUIRE(spec(b.dir(), {"--terminal"}).status == 0);
        CHECK(b.config()["process"]["terminal"] == true);
    }
    SECTION("--network host shares the host's network namespace") {
        REQUIRE(spec(b.dir(), {"--network", "host", "--user", "0", "--", "readlink", "/proc/self/ns/net"})
                    .status == 0);
        auto h = th::rt({"run", "-b", b.dir(), th::unique_id("host")});
        CHECK(h.status == 0);
        CHECK(th::trim(h.out) == th::ns_link(getpid(), "net"));
    }
    SECTION("--network bridge[=NAME] asks for a bridge") {
        REQUIRE(spec(b.dir(), {"--network", "bridge"}).status == 0);
        CHECK(b.config()["annotations"] == json{{"rt.network.bridge", "rt0"}});
        REQUIRE(spec(b.dir(), {"--network", "bridge=br-job42", "--user", "0", "--", "true"}).status == 0);
        CHECK(b.config()["annotations"] == json{{"rt.network.bridge", "br-job42"}});
        auto run2 = run_isolated(b.dir(), th::unique_id("bridge"));
        INFO(run2.err);
        CHECK(run2.status == 0);
    }
    SECTION("--args is --") {
        REQUIRE(spec(b.dir(), {"--args", "echo", "a", "--cwd"}).status == 0);
        json with_args = b.config();
        CHECK(with_args["process"]["args"] == json{"echo", "a", "--cwd"});
        REQUIRE(spec(b.dir(), {"--", "echo", "a", "--cwd"}).status == 0);
        CHECK(b.config() == with_args);
    }
}

TEST_CASE("rt spec --rootfs", "[spec][rt-only]") {
    SpecBundle rootfs_holder;
    th::TempDir bundle("rt-spec-bundle");
    REQUIRE(spec(bundle.path(), {"--rootfs", rootfs_holder.dir() + "/rootfs", "--", "cat", "/etc/passwd"})
                .status == 0);
    auto run = th::rt({"run", "-b", bundle.path(), th::unique_id("rootfs")});
    CHECK(run.status == 0);
    CHECK(run.out == th::read_file(rootfs_holder.dir() + "/rootfs/etc/passwd"));
}

TEST_CASE("rt spec options applied twice give the same file", "[spec][rt-only]") {
    SpecBundle b;
    th::TempDir src("rt-spec-src");
    const std::vector<std::string> opts = {
        "--env",    "A=1",     "--env",      "B=x,y",     "--cwd",      "/src",
        "--user",   "1000",    "--hostname", "h",         "--bind",     src.path() + ":/src",
        "--tmpfs",  "/tmp:8m", "--readonly", "--memory",  "1g",         "--pids",
        "10",       "--cpus",  "2",          "--network", "bridge=br1", "--terminal",
        "--rootfs", "rootfs",  "--",         "make",      "test"};
    REQUIRE(spec(b.dir(), opts).status == 0);  // a new file: the default + the options
    const std::string once = th::read_file(b.config_path());
    REQUIRE(spec(b.dir(), opts).status == 0);  // the same options on it
    CHECK(th::read_file(b.config_path()) == once);
    CHECK(th::list_dir(b.dir()) == std::vector<std::string>{"config.json", "rootfs"});
}

TEST_CASE("rt spec: malformed LXC lines and bad options fail with where and why", "[spec][rt-only]") {
    th::TempDir d("rt-spec-bad");
    const std::string f = d.path() + "/c.lxc";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"lxc.utsname = a\n\nlxc.rootfs /srv\n",
         f + ":3: no '=' in \"lxc.rootfs /srv\" (lines are KEY = VALUE)"},
        {"# devices\nlxc.cgroup.devices.allow = c 1:3 rwq\n",
         f + ":2: lxc.cgroup.devices.allow: bad device rule \"c 1:3 rwq\": the access must be letters of "
             "rwm"},
        {"lxc.network.type = veth\nlxc.network.ipv4 = 172.17.0.6/40\n",
         f + ":2: lxc.network.ipv4: bad CIDR \"172.17.0.6/40\" (expected ADDRESS/PREFIX [BROADCAST], e.g. "
             "172.17.0.6/16)"},
        {"lxc.rootfs = /srv/r\nlxc.mount.entry = proc /srv/r/proc\n",
         f + ":2: lxc.mount.entry: bad fstab entry \"proc /srv/r/proc\": expected SOURCE TARGET TYPE OPTIONS "
             "[FREQ [PASSNO]], got 2 fields"},
        {"lxc.cap.drop = sys_admin warp_drive\n", f + ":1: lxc.cap.drop: unknown capability \"warp_drive\""},
        {"lxc.include = " + f + "\n",
         f + ":1: lxc.include: " + f + ": include loop (" + f + " is already being read)"},
    };
    for (const auto& [text, error] : cases) {
        INFO(text);
        th::TempDir bundle("rt-spec-bad-bundle");
        th::write_file(f, text);
        auto r = spec(bundle.path(), {"--from-lxc", f});
        CHECK(r.status == 1);
        CHECK(r.err == "rt: " + error + "\n");
        CHECK(th::list_dir(bundle.path()).empty());  // nothing written, no temporary left
    }

    th::write_file(f, "lxc.utsname = a\nlxc.rootfs = /srv\nlxc.start.auto = 1\n");
    th::TempDir bundle("rt-spec-warn");
    auto r = spec(bundle.path(), {"--from-lxc", f});
    CHECK(r.status == 0);
    CHECK(r.err == "rt: warning: " + f + ":3: lxc.start.auto: unknown key, ignored\n");

    th::TempDir b2("rt-spec-bad-opt");
    for (auto [opt, value, why] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"--bind", "/nonexistent-rt-dir:/x", "/nonexistent-rt-dir: No such file or directory"},
             {"--cwd", "relative", "must be an absolute path"},
             {"--memory", "lots", "must be a positive number of bytes, with an optional k, m or g"},
             {"--network", "wifi", "must be none, host, bridge or bridge=NAME"}}) {
        INFO(opt);
        auto bad = spec(b2.path(), {opt, value});
        CHECK(bad.status == 1);
        CHECK(bad.err == "rt: " + opt + " \"" + value + "\": " + why + "\n");
        CHECK(th::list_dir(b2.path()).empty());
    }
    CHECK(spec(b2.path(), {}).status == 0);
    auto exists = spec(b2.path(), {});
    CHECK(exists.status == 1);
    CHECK(exists.err == "rt: File " + b2.path() + "/config.json exists. Remove it first\n");
}
