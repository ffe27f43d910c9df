// Integration tests: cgroups. Limits from linux.resources are seen in the cgroup files and from
// inside the container; an OOM kill is reported by `events`; a pids limit stops a fork bomb;
// device rules deny what they deny (v1 devices files here, and the v2 eBPF program on a cgroup2
// hierarchy mounted in a private mount namespace); update, pause/resume, ps; and after delete no
// directory of the container is left in any hierarchy.
#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

const std::string kRoot = "/sys/fs/cgroup";

bool is_fs(const std::string& path, long magic) {
    struct statfs sf {};
    return statfs(path.c_str(), &sf) == 0 && static_cast<long>(sf.f_type) == magic;
}
bool unified_host() { return is_fs(kRoot, CGROUP2_SUPER_MAGIC); }
bool hybrid_host() { return !unified_host() && is_fs(kRoot + "/unified", CGROUP2_SUPER_MAGIC); }

// The cgroup directories of a process, one per hierarchy: controller list ("memory", "" for the
// cgroup2 one) -> host path, from /proc/<pid>/cgroup and the mounts under /sys/fs/cgroup.
std::map<std::string, std::string> cgroup_dirs(pid_t pid) {
    std::map<std::string, std::string> out;
    for (const auto& line : lines(read_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        std::string ctl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        std::string mount;
        if (ctl.empty())
            mount = unified_host() ? kRoot : kRoot + "/unified";
        else if (ctl.rfind("name=", 0) == 0)
            mount = kRoot + "/" + ctl.substr(5);
        else
            mount = kRoot + "/" + ctl;
        if (exists(mount)) out[ctl] = mount + (path == "/" ? "" : path);
    }
    return out;
}

// The directory of one v1 controller (or cgroup2, ctl "") of the container's init.
std::string dir_of(pid_t pid, const std::string& ctl) {
    auto d = cgroup_dirs(pid);
    auto it = d.find(ctl);
    return it == d.end() ? "" : it->second;
}

std::string value(const std::string& dir, const std::string& file) {
    return trim(read_file(dir + "/" + file));
}

// After delete: none of the container's directories exists any more.
void check_gone(const std::map<std::string, std::string>& dirs) {
    for (const auto& [ctl, d] : dirs) {
        INFO("hierarchy " << (ctl.empty() ? "cgroup2" : ctl) << ": " << d);
        CHECK_FALSE(exists(d));
    }
}

json cgroup_mount() {
    return {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}};
}

pid_t pid_of(const std::string& id) {
    json st = state(id);
    return st.is_object() ? st.value("pid", 0) : 0;
}

void add_caps(Bundle& b, const std::vector<std::string>& caps) {
    for (const char* set : {"bounding", "effective", "permitted"})
        for (const auto& c : caps) b.config()["process"]["capabilities"][set].push_back(c);
}

// Wait for a created/running container to stop (its process exited).
bool wait_stopped(const std::string& id) {
    return wait_for([&] { return status_of(id) == "stopped"; }, 30);
}

}  // namespace

TEST_CASE("resource limits are in the cgroup files and seen inside the container", "[cgroups]") {
    if (unified_host()) {
        WARN("skipped: v1 limits test on a cgroup2-only host (the unified test below covers v2)");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cglim");
    b.add_mount(cgroup_mount());
    b.config()["linux"]["resources"] = {
        {"memory", {{"limit", 64 << 20}, {"swap", 64 << 20}, {"reservation", 32 << 20}, {"swappiness", 10}}},
        {"pids", {{"limit", 42}}},
        {"cpu", {{"shares", 512}, {"quota", 30000}, {"period", 100000}, {"cpus", "0"}, {"mems", "0"}}},
    };
    // A block device of this machine for a read throttle (blkio), if there is one.
    std::string blockdev;
    for (const auto& d : list_dir("/sys/block"))
        if (d.rfind("loop", 0) != 0 && d.rfind("ram", 0) != 0 && exists("/sys/block/" + d + "/dev")) {
            blockdev = trim(read_file("/sys/block/" + d + "/dev"));
            break;
        }
    if (!blockdev.empty()) {
        auto colon = blockdev.find(':');
        b.config()["linux"]["resources"]["blockIO"] = {{"throttleReadBpsDevice",
                                                        {{{"major", std::stoi(blockdev.substr(0, colon))},
                                                          {"minor", std::stoi(blockdev.substr(colon + 1))},
                                                          {"rate", 1048576}}}}};
    }
    b.args({"sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset/cpuset.cpus > /seen; nproc >> /seen"});
    Result c = b.create(id);
    INFO(c.err);
    REQUIRE(c.status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string mem = dir_of(pid, "memory"), pids = dir_of(pid, "pids"), cpu = dir_of(pid, "cpu"),
                cpuset = dir_of(pid, "cpuset");
    REQUIRE(!mem.empty());
    CHECK(mem.find(id) != std::string::npos);
    CHECK(value(mem, "memory.limit_in_bytes") == std::to_string(64 << 20));
    CHECK(value(mem, "memory.soft_limit_in_bytes") == std::to_string(32 << 20));
    CHECK(value(mem, "memory.swappiness") == "10");
    if (exists(mem + "/memory.memsw.limit_in_bytes"))
        CHECK(value(mem, "memory.memsw.limit_in_bytes") == std::to_string(64 << 20));
    CHECK(value(pids, "pids.max") == "42");
    CHECK(value(cpu, "cpu.shares") == "512");
    CHECK(value(cpu, "cpu.cfs_quota_us") == "30000");
    CHECK(value(cpu, "cpu.cfs_period_us") == "100000");
    CHECK(value(cpuset, "cpuset.cpus") == "0");
    if (!blockdev.empty())
        CHECK(value(dir_of(pid, "blkio"), "blkio.throttle.read_bps_device") == blockdev + " 1048576");
    // The init is in every hierarchy's container cgroup before its process runs.
    for (const auto& [ctl, d] : dirs) CHECK(d.find(id) != std::string::npos);

    REQUIRE(b.start(id).status == 0);
    REQUIRE(wait_stopped(id));
    CHECK(lines(read_file(b.rootfs() + "/seen")) ==
          std::vector<std::string>{std::to_string(64 << 20), "42", "30000", "0", "1"});
    Result d = rt({"delete", id});
    CHECK(d.status == 0);
    check_gone(dirs);
}

TEST_CASE("a value the kernel rejects fails create with the file and value, nothing left", "[cgroups]") {
    Bundle b;
    const std::string id = unique_id("cgbad");
    b.config()["linux"]["resources"] = {{"cpu", {{"cpus", "4095"}}}};
    b.config()["linux"]["cgroupsPath"] = "/rt-test-bad/" + id;
    Result c = b.create(id);
    CHECK(c.status != 0);
    CHECK(c.err.find("cpuset.cpus") != std::string::npos);
    CHECK(c.err.find("\"4095\"") != std::string::npos);
    CHECK(lines(c.err).size() == 1);
    CHECK(status_of(id).empty());
    for (const auto& h : list_dir(kRoot)) CHECK_FALSE(exists(kRoot + "/" + h + "/rt-test-bad/" + id));
    for (const auto& h : list_dir(kRoot)) rmdir((kRoot + "/" + h + "/rt-test-bad").c_str());

    // Bad JSON: the path of the field.
    b.config()["linux"]["resources"] = {{"memory", {{"limit", "lots"}}}};
    c = b.create(id);
    CHECK(c.status != 0);
    CHECK(c.err.find("linux.resources.memory.limit: must be an integer") != std::string::npos);
}

TEST_CASE("a memory-limited container that allocates past its limit is OOM-killed and events says so",
          "[cgroups]") {
    if (unified_host() || !exists(kRoot + "/memory")) {
        WARN("skipped: no v1 memory controller on this host");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgoom");
    b.config()["linux"]["resources"] = {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}};
    // dd's 128 MiB buffer is filled by one read of /dev/zero: far past the limit.
    b.args({"sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo $? > /rc"});
    Result c = b.create(id);
    INFO(c.err);
    REQUIRE(c.status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string mem = dir_of(pid, "memory");

    Process events = rt_bg({"events", "--interval", "100ms", id});
    // The first stats line means the OOM notification is registered.
    REQUIRE(events.wait_output("\"type\":\"stats\"", 10));
    CHECK(events.out().find("\"limit\":" + std::to_string(32 << 20)) != std::string::npos);
    REQUIRE(b.start(id).status == 0);
    CHECK(events.wait_output("{\"id\":\"" + id + "\",\"type\":\"oom\"}", 20));
    Result ev = events.wait(20);  // events ends when the container's init exits
    CHECK(ev.status == 0);
    REQUIRE(wait_stopped(id));
    CHECK(trim(read_file(b.rootfs() + "/rc")) == "137");  // dd: SIGKILL
    std::string oom_control = read_file(mem + "/memory.oom_control");
    CHECK(oom_control.find("oom_kill ") != std::string::npos);
    CHECK(oom_control.find("oom_kill 0") == std::string::npos);  // the kernel counted the kill
    CHECK(rt({"delete", id}).status == 0);
    check_gone(dirs);
}

TEST_CASE("a pids limit stops a fork bomb; delete --force kills it all and removes the cgroup", "[cgroups]") {
    if (unified_host() || !exists(kRoot + "/pids")) {
        WARN("skipped: no v1 pids controller on this host");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgbomb");
    b.config()["linux"]["resources"] = {{"pids", {{"limit", 16}}}};
    // A classic fork bomb beside a steady init: every process forks two more, forever; only the
    // limit stops it.
    b.args({"sh", "-c", "(f() { f & f & wait; }; f) 2>/dev/null & exec sleep 1000"});
    Result c = b.create(id);
    REQUIRE(c.status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string pd = dir_of(pid, "pids");
    REQUIRE(b.start(id).status == 0);
    // The limit is reached and the kernel refuses forks past it.
    REQUIRE(wait_for([&] { return read_file(pd + "/pids.events").find("max 0") == std::string::npos; }, 20));
    CHECK(std::stoi(value(pd, "pids.current")) <= 16);
    CHECK(lines(read_file(pd + "/cgroup.procs")).size() <= 16);
    CHECK(pid_alive(pid));  // the init is untouched

    Result d = rt({"delete", "--force", id});
    INFO(d.err);
    CHECK(d.status == 0);
    CHECK_FALSE(pid_alive(pid));
    check_gone(dirs);  // rmdir succeeded: no process was left in it
}

TEST_CASE("v1 device rules: a denied device cannot be opened, an allowed one can", "[cgroups]") {
    if (unified_host() || !exists(kRoot + "/devices")) {
        WARN("skipped: no v1 devices controller on this host");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgdev");
    add_caps(b, {"CAP_MKNOD"});
    b.config()["linux"]["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
    b.args({"sh", "-c",
            "mknod /tmp/mem c 1 1 && echo made; head -c 1 /tmp/mem > /dev/null; "
            "head -c 4 /dev/zero | wc -c"});
    Result r = b.run(id);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"made", "4"});  // mknod allowed (c *:* m), open not
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
}

TEST_CASE("v1 device rules are written in order to devices.deny and devices.allow", "[cgroups]") {
    if (unified_host() || !exists(kRoot + "/devices")) {
        WARN("skipped: no v1 devices controller on this host");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgdevl");
    b.config()["linux"]["resources"] = {
        {"devices",
         {{{"allow", false}, {"access", "rwm"}},
          {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 1}, {"access", "r"}},
          {{"allow", false}, {"type", "c"}, {"major", 1}, {"minor", 1}, {"access", "r"}}}}};
    b.args({"sleep", "1000"});
    REQUIRE(b.create(id).status == 0);
    std::string dev = dir_of(pid_of(id), "devices");
    auto list = lines(read_file(dev + "/devices.list"));
    CHECK(std::find(list.begin(), list.end(), "c 1:3 rwm") != list.end());  // runc's defaults
    CHECK(std::find(list.begin(), list.end(), "c 136:* rwm") != list.end());
    CHECK(std::find(list.begin(), list.end(), "c 1:1 r") == list.end());    // allowed, then denied
    CHECK(std::find(list.begin(), list.end(), "a *:* rwm") == list.end());  // not everything
    CHECK(rt({"delete", "--force", id}).status == 0);
}

TEST_CASE("cgroup2 only (a private cgroup2 mount): eBPF device rules, hugetlb, pause", "[cgroups]") {
    if (!unified_host() && !hybrid_host()) {
        WARN("skipped: this host has no cgroup2 hierarchy");
        return;
    }
    // In a mount namespace of its own, rt sees cgroup2 on /sys/fs/cgroup: a pure v2 host. Its
    // container cgroup is /sys/fs/cgroup/<id> there, i.e. <v2 mount>/<id> on the host.
    const std::string v2_mount = unified_host() ? kRoot : kRoot + "/unified";
    auto controllers = read_file(v2_mount + "/cgroup.controllers");
    if (controllers.find("memory") == std::string::npos)
        WARN("note: no memory controller in cgroup2 here: v2 memory limits are not tested on this host");
    Bundle b;
    const std::string id = unique_id("cgv2");
    add_caps(b, {"CAP_MKNOD"});
    json res = {{"devices",
                 {{{"allow", false}, {"access", "rwm"}},
                  {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 1}, {"access", "rwm"}},
                  {{"allow", false}, {"type", "c"}, {"major", 1}, {"minor", 1}, {"access", "w"}}}}};
    bool hugetlb = controllers.find("hugetlb") != std::string::npos &&
                   exists(v2_mount + "/cgroup.subtree_control") &&
                   exists("/sys/kernel/mm/hugepages/hugepages-2048kB");
    std::string subtree_before = read_file(v2_mount + "/cgroup.subtree_control");
    if (hugetlb) res["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 4 << 21}}};
    b.config()["linux"]["resources"] = res;
    // c 1:1 (/dev/mem, absent from this kernel or not) may be opened for reading (allowed) but not
    // for writing (the later deny); c 1:2 is not listed: denied. A device the rules let through
    // but the kernel lacks fails with ENXIO, one the program refuses with EPERM.
    auto probe = [](const std::string& name, const std::string& cmd) {
        return "(" + cmd + ") 2>&1 | grep -q 'not permitted' && echo " + name + "-denied || echo " + name +
               "-allowed; ";
    };
    b.args({"sh", "-c",
            "mknod /tmp/mem c 1 1; mknod /tmp/kmem c 1 2; " + probe("read-mem", "head -c 1 /tmp/mem") +
                probe("write-mem", "echo x > /tmp/mem") + probe("read-kmem", "head -c 1 /tmp/kmem") +
                "head -c 3 /dev/zero | wc -c; grep '^0::' /proc/self/cgroup; "
                "cat /sys/fs/cgroup/hugetlb.2MB.max 2>/dev/null; sleep 1000"});
    b.add_mount(cgroup_mount());
    b.config()["linux"]["namespaces"].push_back({{"type", "cgroup"}});
    b.save();
    TempDir out;
    std::string script = "mount -t cgroup2 cgroup2 /sys/fs/cgroup && " +
                         shell_quote(rt_argv({"run", "--bundle", b.dir(), id})) + " > " + out.path() +
                         "/out 2> " + out.path() + "/err";
    b.track(id);
    Process run = spawn({"unshare", "-m", "sh", "-c", script});
    std::string host_dir = v2_mount + "/" + id;
    // rt in the same mount namespace as the run (nsenter into unshare's namespace).
    auto rt_ns = [&](const std::vector<std::string>& args, const std::string& input = "") {
        std::vector<std::string> argv = {"nsenter", "-t", std::to_string(run.pid()), "-m", "--"};
        for (const auto& a : rt_argv(args)) argv.push_back(a);
        return run_argv(argv, input);
    };
    // Whatever fails below: the container is killed, its cgroup gone, the host's subtree_control
    // as it was.
    struct Cleanup {
        std::function<void()> fn;
        ~Cleanup() { fn(); }
    } cleanup{[&] {
        if (run.running()) {
            rt_ns({"kill", id, "KILL"});
            run.wait(30);
        }
        rmdir(host_dir.c_str());
        if (hugetlb && subtree_before.find("hugetlb") == std::string::npos)
            write_file(v2_mount + "/cgroup.subtree_control", "-hugetlb");
    }};
    REQUIRE(wait_for([&] { return read_file(out.path() + "/out").find("0::") != std::string::npos; }, 20));
    INFO(read_file(out.path() + "/err"));
    auto got = lines(read_file(out.path() + "/out"));
    REQUIRE(got.size() >= 5);
    CHECK(got[0] == "read-mem-allowed");
    CHECK(got[1] == "write-mem-denied");
    CHECK(got[2] == "read-kmem-denied");
    CHECK(got[3] == "3");
    CHECK(got[4] == "0::/");  // its own cgroup namespace root
    CHECK(exists(host_dir));
    if (hugetlb) {
        CHECK(value(host_dir, "hugetlb.2MB.max") == std::to_string(4 << 21));
        REQUIRE(wait_for([&] { return lines(read_file(out.path() + "/out")).size() >= 6; }));
        CHECK(lines(read_file(out.path() + "/out"))[5] == std::to_string(4 << 21));
    }
    // The container's processes, then pause through cgroup.freeze, seen in cgroup.events.
    auto procs = lines(read_file(host_dir + "/cgroup.procs"));
    CHECK(procs.size() == 1);  // sh exec'd its last command
    // ps and events read the cgroup2 files; update writes them.
    Result ps = rt_ns({"ps", "--format", "json", id});
    INFO(ps.err);
    REQUIRE(ps.status == 0);
    CHECK(json::parse(ps.out).size() == procs.size());
    Result ev = rt_ns({"events", "--stats", id});
    REQUIRE(ev.status == 0);
    json stats = json::parse(ev.out)["data"];
    CHECK(stats["pids"] == json::object());  // no pids controller in this cgroup2 hierarchy
    if (hugetlb) {
        CHECK(stats["hugetlb"]["2MB"]["max"] == (4 << 21));
        Result u = rt_ns({"update", "--resources", "-", id},
                         R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]})");
        INFO(u.err);
        CHECK(u.status == 0);
        CHECK(value(host_dir, "hugetlb.2MB.max") == "4194304");
    }
    Result p = rt_ns({"pause", id});
    INFO(p.err);
    CHECK(p.status == 0);
    auto status_ns = [&] {
        Result s = rt_ns({"state", id});
        return s.status == 0 ? json::parse(s.out).value("status", "") : "";
    };
    CHECK(read_file(host_dir + "/cgroup.events").find("frozen 1") != std::string::npos);
    CHECK(status_ns() == "paused");
    CHECK(rt_ns({"resume", id}).status == 0);
    CHECK(read_file(host_dir + "/cgroup.events").find("frozen 0") != std::string::npos);
    CHECK(status_ns() == "running");

    CHECK(rt_ns({"kill", id, "KILL"}).status == 0);
    Result r = run.wait(30);
    CHECK(r.status == 128 + SIGKILL);  // rt run's status is the container's
    CHECK_FALSE(exists(host_dir));
}

TEST_CASE("update changes a running container's limits", "[cgroups]") {
    if (unified_host()) {
        WARN("skipped: the update test reads v1 files");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgupd");
    b.config()["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 100}}}};
    b.args({"sleep", "1000"});
    REQUIRE(b.create(id).status == 0);
    REQUIRE(b.start(id).status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string mem = dir_of(pid, "memory"), pd = dir_of(pid, "pids"), cpu = dir_of(pid, "cpu");

    Result u = rt({"update", "--memory", "128m", "--memory-swap", "256m", "--pids-limit", "10", "--cpu-share",
                   "256", "--cpu-quota", "20000", "--cpu-period", "50000", id});
    INFO(u.err);
    CHECK(u.status == 0);
    CHECK(value(mem, "memory.limit_in_bytes") == std::to_string(128 << 20));
    if (exists(mem + "/memory.memsw.limit_in_bytes"))
        CHECK(value(mem, "memory.memsw.limit_in_bytes") == std::to_string(256 << 20));
    CHECK(value(pd, "pids.max") == "10");
    CHECK(value(cpu, "cpu.shares") == "256");
    CHECK(value(cpu, "cpu.cfs_quota_us") == "20000");
    CHECK(value(cpu, "cpu.cfs_period_us") == "50000");

    // Shrinking memory below memory+swap: the order of the writes is rt's business.
    u = rt({"update", "--memory", "32m", "--memory-swap", "32m", id});
    INFO(u.err);
    CHECK(u.status == 0);
    CHECK(value(mem, "memory.limit_in_bytes") == std::to_string(32 << 20));

    // --resources from stdin; only what it sets changes.
    u = rt({"update", "--resources", "-", id}, R"({"pids": {"limit": 7}})");
    CHECK(u.status == 0);
    CHECK(value(pd, "pids.max") == "7");
    CHECK(value(mem, "memory.limit_in_bytes") == std::to_string(32 << 20));

    // A value the kernel rejects: file and value in one line, exit status 1.
    u = rt({"update", "--cpuset-cpus", "4095", id});
    CHECK(u.status == 1);
    CHECK(u.err.find("cpuset.cpus") != std::string::npos);
    CHECK(u.err.find("4095") != std::string::npos);
    CHECK(rt({"update", "--memory", "lots", id}).status == 1);

    CHECK(rt({"delete", "--force", id}).status == 0);
    check_gone(dirs);
}

TEST_CASE("pause freezes every process, resume thaws them; state says paused", "[cgroups]") {
    if (unified_host() || !exists(kRoot + "/freezer")) {
        WARN("skipped: no v1 freezer on this host (the cgroup2 test covers cgroup.freeze)");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgpause");
    b.args({"sh", "-c", "sleep 1000 & sleep 1000 & wait"});
    REQUIRE(b.create(id).status == 0);
    REQUIRE(b.start(id).status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string fz = dir_of(pid, "freezer");
    REQUIRE(wait_for([&] { return lines(read_file(fz + "/cgroup.procs")).size() == 3; }));

    Result p = rt({"pause", id});
    INFO(p.err);
    CHECK(p.status == 0);
    CHECK(status_of(id) == "paused");
    CHECK(value(fz, "freezer.state") == "FROZEN");
    // Every task is in the refrigerator: a signal is not acted on until thawed.
    for (const auto& t : lines(read_file(fz + "/tasks"))) {
        std::string st = read_file("/proc/" + t + "/stat");
        CHECK(st.substr(st.rfind(')') + 2, 1) == "D");
    }
    CHECK(rt({"pause", id}).status == 1);  // already paused

    CHECK(rt({"resume", id}).status == 0);
    CHECK(status_of(id) == "running");
    CHECK(value(fz, "freezer.state") == "THAWED");
    for (const auto& t : lines(read_file(fz + "/tasks"))) {
        std::string st = read_file("/proc/" + t + "/stat");
        CHECK(st.substr(st.rfind(')') + 2, 1) == "S");
    }
    CHECK(rt({"resume", id}).status == 1);  // not paused

    // A paused container is deleted with --force (killed, thawed, waited for).
    CHECK(rt({"pause", id}).status == 0);
    CHECK(rt({"delete", id}).status == 1);
    Result d = rt({"delete", "--force", id});
    INFO(d.err);
    CHECK(d.status == 0);
    check_gone(dirs);
}

TEST_CASE("ps lists exactly the container's processes", "[cgroups]") {
    Bundle b;
    const std::string id = unique_id("cgps");
    b.args({"sh", "-c", "sleep 1001 & sleep 1002 & wait"});
    REQUIRE(b.create(id).status == 0);
    REQUIRE(b.start(id).status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    std::string procs_file = dirs.begin()->second + "/cgroup.procs";
    REQUIRE(wait_for([&] { return lines(read_file(procs_file)).size() == 3; }));

    Result j = rt({"ps", "--format", "json", id});
    INFO(j.err);
    REQUIRE(j.status == 0);
    std::set<int> got, want;
    for (int p : json::parse(j.out)) got.insert(p);
    for (const auto& l : lines(read_file(procs_file))) want.insert(std::stoi(l));
    CHECK(got == want);
    CHECK(got.count(pid) == 1);

    Result t = rt({"ps", id});
    REQUIRE(t.status == 0);
    auto rows = lines(t.out);
    REQUIRE(rows.size() == 4);  // header + sh + two sleeps
    CHECK(rows[0].find("PID") != std::string::npos);
    CHECK(t.out.find("sleep 1001") != std::string::npos);
    CHECK(t.out.find("sleep 1002") != std::string::npos);

    // ps options after the id.
    t = rt({"ps", id, "-o", "pid,comm"});
    REQUIRE(t.status == 0);
    rows = lines(t.out);
    REQUIRE(rows.size() == 4);
    std::set<int> table;
    for (size_t i = 1; i < rows.size(); ++i) table.insert(std::stoi(rows[i]));
    CHECK(table == want);

    CHECK(rt({"ps", "--format", "yaml", id}).status == 1);
    CHECK(rt({"delete", "--force", id}).status == 0);
    check_gone(dirs);
}

TEST_CASE("events --stats prints one stats object in runc's shape", "[cgroups]") {
    if (unified_host()) {
        WARN("skipped: v1 statistics test");
        return;
    }
    Bundle b;
    const std::string id = unique_id("cgstat");
    b.config()["linux"]["resources"] = {{"memory", {{"limit", 48 << 20}}}, {"pids", {{"limit", 30}}}};
    b.args({"sh", "-c", "sleep 1000 & wait"});
    REQUIRE(b.create(id).status == 0);
    REQUIRE(b.start(id).status == 0);
    pid_t pid = pid_of(id);
    auto dirs = cgroup_dirs(pid);
    REQUIRE(wait_for([&] { return lines(read_file(dirs.begin()->second + "/cgroup.procs")).size() == 2; }));
    Result e = rt({"events", "--stats", id});
    INFO(e.err);
    REQUIRE(e.status == 0);
    REQUIRE(lines(e.out).size() == 1);
    json ev = json::parse(e.out);
    CHECK(ev["type"] == "stats");
    CHECK(ev["id"] == id);
    const json& d = ev["data"];
    CHECK(d["memory"]["usage"]["limit"] == (48 << 20));
    CHECK(d["memory"]["usage"]["usage"].get<uint64_t>() > 0);
    CHECK(d["pids"]["current"] == 2);
    CHECK(d["pids"]["limit"] == 30);
    CHECK(d["cpu"]["usage"]["total"].get<uint64_t>() > 0);
    CHECK(d["cpu"]["usage"]["percpu"].size() >= 1);
    CHECK(d.contains("blkio"));
    CHECK(d.contains("hugetlb"));
    CHECK(rt({"events", "--interval", "nonsense", id}).status == 1);
    CHECK(rt({"delete", "--force", id}).status == 0);
    check_gone(dirs);
    CHECK(rt({"events", "--stats", id}).status == 1);  // gone
}
