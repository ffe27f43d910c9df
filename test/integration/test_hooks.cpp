// Integration tests: OCI hooks (runtime-spec config.md "POSIX-platform Hooks", runtime.md
// "Lifecycle").
//
// Every hook here is a small /bin/sh script that records what it saw in a host temp dir:
// <kind>.json (the state on stdin), a line in `order`, its args/env, and its mount namespace.
//  - prestart, createRuntime, poststart, poststop: path resolves and runs in the runtime
//    namespace: the host's /bin/sh writes straight into the host dir.
//  - createContainer: path resolves in the runtime namespace, runs in the container namespace
//    before pivot_root: the host's /bin/sh, the host dir still reachable by its host path.
//  - startContainer: path resolves and runs in the container namespace (after pivot_root): the
//    rootfs's busybox /bin/sh, writing into the host dir bind-mounted at /hooks.
//
// runc 1.1 divergences from the spec (the checks are tagged [rt-only]):
//  - poststart hooks run at the end of `create` (status "created"), not during `start`;
//  - a failing poststart hook makes create/run fail and tears the container down (spec: warn
//    and carry on);
//  - after a failing poststop hook the remaining poststop hooks don't run (spec: they do);
//  - a failing startContainer hook stops the container but `runc start` exits 0 (spec: error).
//
// main() comes from harness_main.cpp (linked from the harness library).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

using json = nlohmann::json;

namespace {

const std::vector<std::string> kKinds = {"prestart",       "createRuntime", "createContainer",
                                         "startContainer", "poststart",     "poststop"};

const char* kHookPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

json hook(const std::string& path, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
          int timeout = 0) {
    json h = {{"path", path}, {"args", args}};
    if (!env.empty()) h["env"] = env;
    if (timeout > 0) h["timeout"] = timeout;
    return h;
}

// A /bin/sh hook running script, with two extra args ($0 = "a0", $1 = "a1") and RT_HOOK_VAR set.
json sh_hook(const std::string& script, const std::string& var = "set") {
    return hook("/bin/sh", {"sh", "-c", script, "a0", "a1"}, {kHookPath, "RT_HOOK_VAR=" + var});
}

// The recording hook for kind, writing into dir (as seen from where the hook runs).
json recorder(const std::string& kind, const std::string& dir) {
    const std::string d = dir + "/" + kind;
    return sh_hook("cat > " + d + ".json; echo " + kind + " >> " + dir + "/order; " +
                       "echo \"$0 $1 $RT_HOOK_VAR\" > " + d + ".args; env > " + d + ".env; " +
                       "readlink /proc/self/ns/mnt > " + d + ".mnt; readlink /proc/self/ns/pid > " + d +
                       ".pidns",
                   "v-" + kind);
}

// Bundle with every hook kind recording into host dir `rec` (bind-mounted at /hooks).
void add_recorders(th::Bundle& b, const std::string& rec) {
    b.add_mount({{"destination", "/hooks"}, {"type", "bind"}, {"source", rec}, {"options", {"rbind", "rw"}}});
    json hooks = json::object();
    for (const auto& k : kKinds) hooks[k] = json::array({recorder(k, k == "startContainer" ? "/hooks" : rec)});
    b.config()["hooks"] = hooks;
    b.config()["annotations"] = {{"com.example.rt-test", "hooks"}, {"com.example.empty", ""}};
}

std::vector<std::string> order(const std::string& rec) { return th::lines(th::read_file(rec + "/order")); }

json hook_state(const std::string& rec, const std::string& kind) {
    std::string s = th::read_file(rec + "/" + kind + ".json");
    try {
        return json::parse(s);
    } catch (const json::exception&) {
        return json();
    }
}

int count(const std::vector<std::string>& v, const std::string& x) {
    return static_cast<int>(std::count(v.begin(), v.end(), x));
}

// A unique cgroupsPath for a container, so a test can see whether its cgroup is left behind.
std::string unique_cgroup(const std::string& id) { return "/rt-test-hooks-" + id; }

// Directories of that cgroup that still exist under /sys/fs/cgroup (v1 hierarchies, v2, or both).
std::vector<std::string> cgroup_dirs(const std::string& cgpath) {
    std::vector<std::string> found;
    if (th::exists("/sys/fs/cgroup" + cgpath)) found.push_back("/sys/fs/cgroup" + cgpath);
    for (const auto& h : th::list_dir("/sys/fs/cgroup"))
        if (th::exists("/sys/fs/cgroup/" + h + cgpath)) found.push_back("/sys/fs/cgroup/" + h + cgpath);
    return found;
}

// Pids of processes whose argv is exactly argv.
std::vector<pid_t> pids_with_argv(const std::vector<std::string>& argv) {
    std::string want;
    for (const auto& a : argv) want += a + '\0';
    std::vector<pid_t> v;
    for (const auto& e : th::list_dir("/proc")) {
        if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos) continue;
        if (th::read_file("/proc/" + e + "/cmdline") == want) v.push_back(std::stoi(e));
    }
    return v;
}

// Pids of processes in cgroup cgpath (in any hierarchy).
std::vector<pid_t> pids_in_cgroup(const std::string& cgpath) {
    std::vector<pid_t> v;
    for (const auto& e : th::list_dir("/proc")) {
        if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos) continue;
        for (const auto& line : th::lines(th::read_file("/proc/" + e + "/cgroup"))) {
            // "N:controllers:/path" -- the path must be exactly cgpath.
            auto colon = line.find(':', line.find(':') + 1);
            if (colon != std::string::npos && line.substr(colon + 1) == cgpath) {
                v.push_back(std::stoi(e));
                break;
            }
        }
    }
    return v;
}

// "Nothing left behind" after a failed create: no state, not listed, no process in the
// container's cgroup, no cgroup.
void check_nothing_left(const std::string& id, const std::string& cgpath) {
    CHECK(th::state(id).is_null());
    CHECK_FALSE(th::exists(th::state_root() + "/" + id));
    auto l = th::rt({"list", "-q"});
    CHECK(count(th::lines(l.out), id) == 0);
    CHECK(th::wait_for([&] { return pids_in_cgroup(cgpath).empty(); }, 5));
    for (pid_t p : pids_in_cgroup(cgpath))
        UNSCOPED_INFO("left running: " << p << " " << th::read_file("/proc/" + std::to_string(p) + "/cmdline"));
    CHECK(th::wait_for([&] { return cgroup_dirs(cgpath).empty(); }, 5));
    for (const auto& d : cgroup_dirs(cgpath)) UNSCOPED_INFO("left behind: " << d);
}

// Sets an environment variable for the duration of a test (the runtime inherits it; hooks with
// an env list must not).
struct ScopedEnv {
    std::string name;
    ScopedEnv(const std::string& n, const std::string& v) : name(n) { setenv(n.c_str(), v.c_str(), 1); }
    ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("all six hook kinds run once, with the state on stdin, args and env", "[hooks]") {
    ScopedEnv leak("RT_TEST_LEAK", "from-the-test-process");
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    add_recorders(b, rec.path());
    const std::string id = th::unique_id("hk");
    b.args({"sleep", "1000"});

    auto c = b.create(id);
    INFO("create: " << c.err);
    REQUIRE(c.status == 0);
    json st = th::state(id);
    REQUIRE(st.is_object());
    const int pid = st["pid"].get<int>();
    REQUIRE(pid > 0);

    // create ran prestart, createRuntime, createContainer, in that order, and not startContainer.
    auto o = order(rec.path());
    INFO("order after create: " << th::read_file(rec.path() + "/order"));
    REQUIRE(o.size() >= 3);
    CHECK(std::vector<std::string>(o.begin(), o.begin() + 3) ==
          std::vector<std::string>{"prestart", "createRuntime", "createContainer"});
    CHECK(count(o, "startContainer") == 0);
    CHECK(count(o, "poststop") == 0);

    auto s = b.start(id);
    INFO("start: " << s.err);
    REQUIRE(s.status == 0);
    CHECK(th::wait_for([&] { return th::status_of(id) == "running"; }, 5));
    o = order(rec.path());
    CHECK(count(o, "startContainer") == 1);
    CHECK(count(o, "poststart") == 1);
    CHECK(count(o, "poststop") == 0);

    REQUIRE(th::rt({"kill", id, "KILL"}).status == 0);
    REQUIRE(th::wait_for([&] { return th::status_of(id) == "stopped"; }, 10));
    auto d = th::rt({"delete", id});
    INFO("delete: " << d.err);
    REQUIRE(d.status == 0);

    o = order(rec.path());
    for (const auto& k : kKinds) {
        INFO("hook " << k);
        CHECK(count(o, k) == 1);
    }
    REQUIRE(!o.empty());
    CHECK(o.back() == "poststop");

    const std::string host_mnt = th::ns_link(getpid(), "mnt");
    const std::string host_pidns = th::ns_link(getpid(), "pid");
    for (const auto& k : kKinds) {
        INFO("hook " << k);
        json hs = hook_state(rec.path(), k);
        REQUIRE(hs.is_object());
        CHECK(hs.value("id", "") == id);
        CHECK(hs.value("bundle", "") == b.dir());
        CHECK(hs.contains("ociVersion"));
        CHECK(hs["ociVersion"].is_string());
        CHECK(hs["annotations"] == json({{"com.example.rt-test", "hooks"}, {"com.example.empty", ""}}));

        // State each hook sees (runtime.md: creating until create is done, created until the
        // user process runs, stopped once it has exited).
        if (k == "prestart" || k == "createRuntime" || k == "createContainer") CHECK(hs.value("status", "") == "creating");
        if (k == "startContainer") CHECK(hs.value("status", "") == "created");
        if (k == "poststop") CHECK(hs.value("status", "") == "stopped");

        // pid: the host's view for hooks in the runtime namespace, the container's (1, in a new
        // pid namespace) for hooks in the container namespace; absent or 0 once stopped.
        if (k == "prestart" || k == "createRuntime" || k == "poststart") CHECK(hs.value("pid", -1) == pid);
        if (k == "createContainer" || k == "startContainer") CHECK(hs.value("pid", -1) == 1);
        if (k == "poststop") CHECK(hs.value("pid", 0) == 0);

        // args after the script and the hook's env reached it; the runtime's env did not.
        CHECK(th::trim(th::read_file(rec.path() + "/" + k + ".args")) == "a0 a1 v-" + k);
        std::string env = th::read_file(rec.path() + "/" + k + ".env");
        CHECK_THAT(env, Catch::Contains("RT_HOOK_VAR=v-" + k));
        CHECK_THAT(env, !Catch::Contains("RT_TEST_LEAK"));

        // Where it ran.
        std::string mnt = th::trim(th::read_file(rec.path() + "/" + k + ".mnt"));
        std::string pidns = th::trim(th::read_file(rec.path() + "/" + k + ".pidns"));
        if (k == "createContainer" || k == "startContainer") {
            CHECK(mnt != host_mnt);
            CHECK(pidns != host_pidns);
        } else {
            CHECK(mnt == host_mnt);
            CHECK(pidns == host_pidns);
        }
    }
    // Both container-namespace hooks ran in the same (the container's) namespaces.
    CHECK(th::read_file(rec.path() + "/createContainer.mnt") == th::read_file(rec.path() + "/startContainer.mnt"));
    CHECK(th::read_file(rec.path() + "/createContainer.pidns") ==
          th::read_file(rec.path() + "/startContainer.pidns"));
}

TEST_CASE("hooks follow the spec's order: poststart during start, after startContainer", "[hooks][rt-only]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    add_recorders(b, rec.path());
    const std::string id = th::unique_id("hk");
    b.args({"sleep", "1000"});

    auto c = b.create(id);
    INFO("create: " << c.err);
    REQUIRE(c.status == 0);
    CHECK(order(rec.path()) == std::vector<std::string>{"prestart", "createRuntime", "createContainer"});
    const int pid = th::state(id)["pid"].get<int>();

    auto s = b.start(id);
    INFO("start: " << s.err);
    REQUIRE(s.status == 0);
    // poststart has run by the time start returns.
    CHECK(order(rec.path()) == std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                        "startContainer", "poststart"});
    json ps = hook_state(rec.path(), "poststart");
    CHECK(ps.value("status", "") == "running");
    CHECK(ps.value("pid", -1) == pid);

    auto d = th::rt({"delete", "--force", id});
    INFO("delete: " << d.err);
    CHECK(d.status == 0);
    CHECK(order(rec.path()) == std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                        "startContainer", "poststart", "poststop"});
}

TEST_CASE("run: every hook runs and poststop comes last", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    add_recorders(b, rec.path());
    b.args({"sh", "-c", "echo user-process >> /hooks/order"});
    auto r = b.run(th::unique_id("hk"));
    INFO("run: " << r.err);
    REQUIRE(r.status == 0);
    auto o = order(rec.path());
    for (const auto& k : kKinds) {
        INFO("hook " << k);
        CHECK(count(o, k) == 1);
    }
    REQUIRE(o.size() == kKinds.size() + 1);
    CHECK(std::vector<std::string>(o.begin(), o.begin() + 3) ==
          std::vector<std::string>{"prestart", "createRuntime", "createContainer"});
    CHECK(o.back() == "poststop");
    // startContainer runs before the user process.
    auto pos = [&](const std::string& x) { return std::find(o.begin(), o.end(), x) - o.begin(); };
    CHECK(pos("startContainer") < pos("user-process"));
}

TEST_CASE("run: spec order, poststart after the user process started", "[hooks][rt-only]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    add_recorders(b, rec.path());
    b.args({"sh", "-c", "echo user-process >> /hooks/order"});
    auto r = b.run(th::unique_id("hk"));
    INFO("run: " << r.err);
    REQUIRE(r.status == 0);
    auto o = order(rec.path());
    auto pos = [&](const std::string& x) { return std::find(o.begin(), o.end(), x) - o.begin(); };
    REQUIRE(pos("user-process") < static_cast<long>(o.size()));
    CHECK(pos("startContainer") < pos("user-process"));
    // (The user process and poststart race each other: only the hooks' order is fixed.)
    o.erase(o.begin() + pos("user-process"));
    CHECK(o == std::vector<std::string>{"prestart", "createRuntime", "createContainer", "startContainer",
                                        "poststart", "poststop"});
}

TEST_CASE("multiple hooks of one kind run in the listed order", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    json list = json::array();
    for (int i = 1; i <= 3; ++i)
        list.push_back(sh_hook("echo createRuntime-" + std::to_string(i) + " >> " + rec.path() + "/order"));
    b.config()["hooks"] = {{"createRuntime", list}};
    auto r = b.run(th::unique_id("hk"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(order(rec.path()) == std::vector<std::string>{"createRuntime-1", "createRuntime-2", "createRuntime-3"});
}

TEST_CASE("a createRuntime hook past its timeout fails create and leaves nothing behind", "[hooks]") {
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    const std::string cg = unique_cgroup(id);
    b.config()["linux"]["cgroupsPath"] = cg;
    b.args({"sleep", "1000"});
    // A distinctive argv so a leftover hook process can be found.
    const std::vector<std::string> sleeper = {"sleep", "100." + std::to_string(getpid())};
    b.config()["hooks"] = {{"createRuntime", json::array({hook("/bin/sleep", sleeper, {kHookPath}, 1)})}};

    auto t0 = std::chrono::steady_clock::now();
    auto c = b.create(id);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("create: " << c.err);
    CHECK(c.status != 0);
    CHECK(secs < 15.0);
    CHECK_FALSE(c.err.empty());
    check_nothing_left(id, cg);
    CHECK(th::wait_for([&] { return pids_with_argv(sleeper).empty(); }, 5));
}

TEST_CASE("a failing createRuntime hook fails create, with its stderr, leaving nothing", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    const std::string cg = unique_cgroup(id);
    b.config()["linux"]["cgroupsPath"] = cg;
    b.args({"sleep", "1000"});
    b.config()["hooks"] = {
        {"createRuntime", json::array({sh_hook("echo hook-failed-on-purpose >&2; exit 1")})},
        {"createContainer", json::array({sh_hook("touch " + rec.path() + "/createContainer-ran")})},
    };
    auto c = b.create(id);
    INFO("create: " << c.err);
    CHECK(c.status != 0);
    CHECK_THAT(c.err, Catch::Contains("hook-failed-on-purpose"));
    CHECK_FALSE(th::exists(rec.path() + "/createContainer-ran"));
    check_nothing_left(id, cg);
}

TEST_CASE("a failing prestart or createContainer hook fails create, leaving nothing", "[hooks]") {
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    const std::string cg = unique_cgroup(id);
    b.config()["linux"]["cgroupsPath"] = cg;
    b.args({"sleep", "1000"});
    SECTION("prestart") { b.config()["hooks"] = {{"prestart", json::array({sh_hook("exit 3")})}}; }
    SECTION("createContainer") { b.config()["hooks"] = {{"createContainer", json::array({sh_hook("exit 3")})}}; }
    SECTION("a hook binary that doesn't exist") {
        b.config()["hooks"] = {{"createRuntime", json::array({hook("/nonexistent/rt-test-hook", {"x"})})}};
    }
    auto c = b.create(id);
    INFO("create: " << c.err);
    CHECK(c.status != 0);
    CHECK_FALSE(c.err.empty());
    check_nothing_left(id, cg);
}

TEST_CASE("a failing startContainer hook stops the container; the process never runs", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    b.add_mount({{"destination", "/hooks"}, {"type", "bind"}, {"source", rec.path()}, {"options", {"rbind", "rw"}}});
    b.args({"sh", "-c", "touch /hooks/user-process-ran; sleep 1000"});
    b.config()["hooks"] = {{"startContainer", json::array({sh_hook("echo start-hook-failed >&2; exit 1")})}};
    auto c = b.create(id);
    INFO("create: " << c.err);
    REQUIRE(c.status == 0);
    auto s = b.start(id);
    INFO("start: " << s.err);
    CHECK(th::wait_for([&] { return th::status_of(id) != "running" && th::status_of(id) != "created"; }, 10));
    CHECK_FALSE(th::exists(rec.path() + "/user-process-ran"));

    // The spec says "generate an error": rt's start fails with the hook's stderr. runc 1.1's
    // start exits 0 (the error only reaches the container's stderr), so this is rt-only.
    if (th::is_rt()) {
        CHECK(s.status != 0);
        CHECK_THAT(s.err, Catch::Contains("start-hook-failed"));
    }
}

TEST_CASE("a failing poststart hook: a warning, the container keeps running, later hooks run",
          "[hooks][rt-only]") {
    // runtime.md: "If any poststart hook fails, the runtime MUST log a warning, but the remaining
    // hooks and lifecycle continue as if the hook had succeeded." (runc 1.1 fails and kills.)
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    b.args({"sleep", "1000"});
    b.config()["hooks"] = {{"poststart", json::array({sh_hook("echo poststart-failed >&2; exit 1"),
                                                      sh_hook("touch " + rec.path() + "/second-ran")})}};
    auto c = b.create(id);
    INFO("create: " << c.err);
    REQUIRE(c.status == 0);
    auto s = b.start(id);
    INFO("start: " << s.err);
    CHECK(s.status == 0);
    CHECK_FALSE(s.err.empty());  // the warning
    CHECK(th::status_of(id) == "running");
    CHECK(th::exists(rec.path() + "/second-ran"));
}

TEST_CASE("a failing poststop hook: delete still succeeds, with a warning", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    const std::string id = th::unique_id("hk");
    const std::string cg = unique_cgroup(id);
    b.config()["linux"]["cgroupsPath"] = cg;
    b.config()["hooks"] = {{"poststop", json::array({sh_hook("echo poststop-failed >&2; exit 1"),
                                                     sh_hook("touch " + rec.path() + "/second-ran")})}};
    pid_t pid = th::start_sleeper(b, id);
    REQUIRE(pid > 0);

    SECTION("delete after the process was killed") {
        REQUIRE(th::rt({"kill", id, "KILL"}).status == 0);
        REQUIRE(th::wait_for([&] { return th::status_of(id) == "stopped"; }, 10));
        auto d = th::rt({"delete", id});
        INFO("delete: " << d.err);
        CHECK(d.status == 0);
        CHECK_THAT(d.err, Catch::Contains("poststop-failed"));
    }
    SECTION("delete --force of a running container") {
        auto d = th::rt({"delete", "--force", id});
        INFO("delete: " << d.err);
        CHECK(d.status == 0);
        CHECK_FALSE(d.err.empty());
        CHECK(th::wait_for([&] { return !th::pid_alive(pid); }, 5));
    }
    CHECK(th::state(id).is_null());
    CHECK_FALSE(th::exists(th::state_root() + "/" + id));
    CHECK(th::wait_for([&] { return cgroup_dirs(cg).empty(); }, 5));
}

TEST_CASE("after a failing poststop hook the remaining poststop hooks still run", "[hooks][rt-only]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    b.config()["hooks"] = {{"poststop", json::array({sh_hook("exit 1"), sh_hook("touch " + rec.path() + "/second-ran")})}};
    auto r = b.run(th::unique_id("hk"));
    INFO("run: " << r.err);
    CHECK(r.status == 0);
    CHECK(th::exists(rec.path() + "/second-ran"));
}

TEST_CASE("hook timeout that is not hit does not disturb the hook", "[hooks]") {
    th::TempDir rec("rt-test-hooks");
    th::Bundle b;
    json h = sh_hook("sleep 0.2; touch " + rec.path() + "/done");
    h["timeout"] = 10;
    b.config()["hooks"] = {{"createRuntime", json::array({h})}};
    auto r = b.run(th::unique_id("hk"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(th::exists(rec.path() + "/done"));
}
