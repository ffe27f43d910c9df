// Lifecycle: create / start / state / kill / delete / list / run, the way runc does them.
#include <signal.h>

#include <algorithm>
#include <sstream>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

bool in_list_q(const std::string& id) {
    auto ids = lines(rt({"list", "-q"}).out);
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> w;
    std::string s;
    while (in >> s) w.push_back(s);
    return w;
}

// A container whose init traps `sig`, records it in /got and exits 0; /ready appears in the
// rootfs once the trap is set. Returns the init pid.
pid_t start_trapper(Bundle& b, const std::string& id, const std::string& sig) {
    b.args({"sh", "-c",
            "trap 'echo " + sig + " > /got; exit 0' " + sig +
                "; echo ready > /ready; while :; do sleep 0.1; done"});
    Result c = b.create(id);
    REQUIRE(c.status == 0);
    REQUIRE(b.start(id).status == 0);
    REQUIRE(wait_for([&] { return exists(b.rootfs() + "/ready"); }));
    return state(id)["pid"].get<pid_t>();
}

}  // namespace

TEST_CASE("create, start, kill, delete", "[lifecycle]") {
    Bundle b;
    const std::string id = unique_id("life");
    b.args({"sh", "-c", "echo started > /ran"});

    Result c = b.create(id);
    INFO(c.err);
    REQUIRE(c.status == 0);

    json st = state(id);
    REQUIRE(st.is_object());
    CHECK(st["status"] == "created");
    CHECK(st["id"] == id);
    pid_t pid = st["pid"].get<pid_t>();
    CHECK(pid > 0);
    CHECK(pid_alive(pid));
    CHECK(in_list_q(id));
    // Created means the user process has not run yet.
    CHECK_FALSE(exists(b.rootfs() + "/ran"));

    Result s = b.start(id);
    INFO(s.err);
    REQUIRE(s.status == 0);
    REQUIRE(wait_for([&] { return read_file(b.rootfs() + "/ran") == "started\n"; }));
    REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }));
    CHECK_FALSE(pid_alive(pid));

    Result d = rt({"delete", id});
    INFO(d.err);
    CHECK(d.status == 0);
    CHECK_FALSE(in_list_q(id));
    CHECK(rt({"state", id}).status != 0);
}

TEST_CASE("kill sends SIGTERM by default", "[lifecycle][kill]") {
    Bundle b;
    const std::string id = unique_id("killterm");
    pid_t pid = start_trapper(b, id, "TERM");
    CHECK(status_of(id) == "running");
    Result k = rt({"kill", id});
    INFO(k.err);
    REQUIRE(k.status == 0);
    CHECK(wait_for([&] { return status_of(id) == "stopped"; }));
    CHECK(trim(read_file(b.rootfs() + "/got")) == "TERM");
    CHECK_FALSE(pid_alive(pid));
}

TEST_CASE("kill accepts KILL, SIGKILL and 9", "[lifecycle][kill]") {
    for (std::string sig : {"KILL", "SIGKILL", "9"}) {
        DYNAMIC_SECTION("signal " << sig) {
            Bundle b;
            const std::string id = unique_id("kill");
            pid_t pid = start_sleeper(b, id);
            CHECK(status_of(id) == "running");
            Result k = rt({"kill", id, sig});
            INFO(k.err);
            REQUIRE(k.status == 0);
            CHECK(wait_for([&] { return status_of(id) == "stopped"; }));
            CHECK(wait_for([&] { return !pid_alive(pid); }));
            CHECK(rt({"delete", id}).status == 0);
            CHECK_FALSE(in_list_q(id));
        }
    }
}

TEST_CASE("kill with other signal names reaches the container", "[lifecycle][kill]") {
    for (std::string sig : {"USR1", "SIGHUP"}) {
        DYNAMIC_SECTION("signal " << sig) {
            Bundle b;
            const std::string id = unique_id("killsig");
            std::string bare = sig.rfind("SIG", 0) == 0 ? sig.substr(3) : sig;
            start_trapper(b, id, bare);
            Result k = rt({"kill", id, sig});
            INFO(k.err);
            REQUIRE(k.status == 0);
            CHECK(wait_for([&] { return status_of(id) == "stopped"; }));
            CHECK(trim(read_file(b.rootfs() + "/got")) == bare);
        }
    }
}

TEST_CASE("list formats", "[lifecycle][list]") {
    Bundle b;
    const std::string id = unique_id("list");
    b.args({"sleep", "1000"});
    REQUIRE(b.create(id).status == 0);
    pid_t pid = state(id)["pid"].get<pid_t>();

    SECTION("table") {
        Result r = rt({"list"});
        INFO(r.out << r.err);
        REQUIRE(r.status == 0);
        auto ls = lines(r.out);
        REQUIRE(!ls.empty());
        CHECK(words(ls[0]) == std::vector<std::string>{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
        bool found = false;
        for (size_t i = 1; i < ls.size(); ++i) {
            auto w = words(ls[i]);
            if (w.empty() || w[0] != id) continue;
            found = true;
            REQUIRE(w.size() == 6);
            CHECK(w[1] == std::to_string(pid));
            CHECK(w[2] == "created");
            CHECK(w[3] == b.dir());
            CHECK(w[4].find('T') != std::string::npos);
            CHECK(w[5] == "root");
        }
        CHECK(found);
    }
    SECTION("json") {
        Result r = rt({"list", "--format", "json"});
        INFO(r.out << r.err);
        REQUIRE(r.status == 0);
        json j = json::parse(r.out);
        REQUIRE(j.is_array());
        bool found = false;
        for (auto& c : j) {
            if (c["id"] != id) continue;
            found = true;
            CHECK(c["status"] == "created");
            CHECK(c["pid"] == pid);
            CHECK(c["bundle"] == b.dir());
            CHECK(c["rootfs"] == b.rootfs());
            CHECK(c.contains("created"));
        }
        CHECK(found);
    }
    SECTION("quiet") {
        Result r = rt({"list", "-q"});
        REQUIRE(r.status == 0);
        auto ls = lines(r.out);
        CHECK(std::find(ls.begin(), ls.end(), id) != ls.end());
        for (auto& l : ls) CHECK(words(l).size() == 1);  // ids only, no header
    }
}

TEST_CASE("run returns the container's exit code", "[lifecycle][run]") {
    for (int code : {0, 3, 42}) {
        DYNAMIC_SECTION("exit " << code) {
            Bundle b;
            const std::string id = unique_id("exit");
            b.args({"sh", "-c", "exit " + std::to_string(code)});
            Result r = b.run(id);
            INFO(r.err);
            CHECK(r.status == code);
            // run deletes the container once it exits
            CHECK(rt({"state", id}).status != 0);
            CHECK_FALSE(in_list_q(id));
        }
    }
}

TEST_CASE("run returns 128+N when the container dies of signal N", "[lifecycle][run]") {
    // The shell must not be the pid namespace's init: init ignores signals it sends itself.
    for (auto [sig, code] : {std::pair<std::string, int>{"-9", 137}, {"-TERM", 143}}) {
        DYNAMIC_SECTION("kill " << sig) {
            Bundle b;
            b.remove_namespace("pid");
            b.args({"sh", "-c", "kill " + sig + " $$; sleep 5"});
            Result r = b.run(unique_id("sig"));
            INFO(r.err);
            CHECK(r.status == code);
        }
    }
}

TEST_CASE("signals to a foreground run reach the container", "[lifecycle][run][signal]") {
    for (auto [sig, name] : {std::pair<int, std::string>{SIGTERM, "TERM"}, {SIGUSR1, "USR1"}, {SIGHUP, "HUP"}}) {
        DYNAMIC_SECTION("SIG" << name) {
            Bundle b;
            const std::string id = unique_id("fwd");
            b.args({"sh", "-c",
                    "trap 'echo got " + name + "; exit 7' " + name +
                        "; echo ready; while :; do sleep 0.1; done"});
            Process p = b.run_bg(id);
            REQUIRE(p.wait_output("ready\n", 10));
            p.signal(sig);
            Result r = p.wait(10);
            INFO(r.out << r.err);
            CHECK(r.status == 7);
            CHECK(r.out == "ready\ngot " + name + "\n");
            CHECK(rt({"state", id}).status != 0);  // removed after the run
        }
    }
}

TEST_CASE("run --keep keeps the stopped container", "[lifecycle][run]") {
    Bundle b;
    const std::string id = unique_id("keep");
    b.args({"sh", "-c", "exit 5"});
    Result r = b.run(id, {"--keep"});
    INFO(r.err);
    CHECK(r.status == 5);
    CHECK(status_of(id) == "stopped");
    CHECK(in_list_q(id));
    CHECK(rt({"delete", id}).status == 0);
    CHECK_FALSE(in_list_q(id));
}

TEST_CASE("run --detach returns with the container running", "[lifecycle][run]") {
    Bundle b;
    TempDir t;
    const std::string id = unique_id("detach");
    const std::string pidfile = t.path() + "/pid";
    b.args({"sleep", "1000"});
    Result r = b.run(id, {"--detach", "--pid-file", pidfile});
    INFO(r.err);
    REQUIRE(r.status == 0);
    json st = state(id);
    REQUIRE(st.is_object());
    CHECK(st["status"] == "running");
    pid_t pid = st["pid"].get<pid_t>();
    CHECK(pid_alive(pid));
    CHECK(trim(read_file(pidfile)) == std::to_string(pid));

    Result k = rt({"kill", id, "KILL"});
    CHECK(k.status == 0);
    CHECK(wait_for([&] { return status_of(id) == "stopped"; }));
    CHECK(rt({"delete", id}).status == 0);
}

TEST_CASE("create --pid-file holds the init pid", "[lifecycle]") {
    Bundle b;
    TempDir t;
    const std::string id = unique_id("pidfile");
    const std::string pidfile = t.path() + "/pid";
    b.args({"sleep", "1000"});
    Result c = b.create(id, {"--pid-file", pidfile});
    INFO(c.err);
    REQUIRE(c.status == 0);
    json st = state(id);
    REQUIRE(st.is_object());
    CHECK(trim(read_file(pidfile)) == std::to_string(st["pid"].get<int>()));
}

TEST_CASE("container stdout and stderr pass through run", "[lifecycle][run][stdio]") {
    Bundle b;
    b.args({"sh", "-c", "echo to-out; echo to-err >&2; echo more-out"});
    Result r = b.run(unique_id("stdio"));
    CHECK(r.status == 0);
    CHECK(r.out == "to-out\nmore-out\n");
    CHECK(r.err == "to-err\n");
}

TEST_CASE("large output through run does not block", "[lifecycle][run][stdio]") {
    Bundle b;
    // ~1 MiB on stdout and stderr at once: more than any pipe buffer.
    b.args({"sh", "-c", "yes 0123456789abcdef | head -c 1048576; yes err | head -c 1048576 >&2"});
    Result r = b.run(unique_id("big"));
    CHECK(r.status == 0);
    CHECK(r.out.size() == 1048576);
    CHECK(r.err.size() == 1048576);
}

TEST_CASE("stdin passes through run", "[lifecycle][run][stdio]") {
    Bundle b;
    b.args({"sh", "-c", "read x; echo \"in:$x\""});
    b.save();
    const std::string id = unique_id("stdin");
    b.track(id);
    Result r = rt({"run", "--bundle", b.dir(), id}, "hello\n");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "in:hello\n");
}

TEST_CASE("--version and --help", "[lifecycle][cli]") {
    Result v = rt_raw({"--version"});
    CHECK(v.status == 0);
    CHECK(v.out.find("spec: 1.") != std::string::npos);
    Result h = rt_raw({"--help"});
    CHECK(h.status == 0);
    CHECK(!h.out.empty());
}

TEST_CASE("--version names rt", "[lifecycle][cli][rt-only]") {
    Result v = rt_raw({"--version"});
    CHECK(v.status == 0);
    CHECK(v.out.find("rt version") != std::string::npos);
}

TEST_CASE("--log with --log-format json writes runc's JSON lines", "[lifecycle][cli]") {
    TempDir t;
    const std::string log = t.path() + "/rt.log";
    Result r = rt_raw({"--root", state_root(), "--log", log, "--log-format", "json", "state", "no-such-ctr"});
    CHECK(r.status != 0);
    auto ls = lines(read_file(log));
    REQUIRE(ls.size() >= 1);
    auto rec = nlohmann::json::parse(ls.back());
    CHECK(rec.value("level", "") == "error");
    CHECK(rec.value("msg", "").find("does not exist") != std::string::npos);
    std::string time = rec.value("time", "");
    CHECK(time.size() >= 20);
    CHECK(time[4] == '-');
    CHECK(time[10] == 'T');
}

TEST_CASE("--log in text format, and a bad --log-format", "[lifecycle][cli]") {
    TempDir t;
    const std::string log = t.path() + "/rt.log";
    Result r = rt_raw({"--root", state_root(), "--log", log, "state", "no-such-ctr"});
    CHECK(r.status != 0);
    std::string text = read_file(log);
    CHECK(text.find("level=error") != std::string::npos);
    CHECK(text.find("msg=") != std::string::npos);
    Result bad = rt_raw({"--root", state_root(), "--log-format", "xml", "list"});
    CHECK(bad.status != 0);
}

TEST_CASE("errors are one line on stderr naming what failed", "[lifecycle][cli][rt-only]") {
    Result r = rt({"state", "no-such-ctr"});
    CHECK(r.status == 1);
    CHECK(lines(r.err) == std::vector<std::string>{"rt: container \"no-such-ctr\" does not exist"});
    Result k = rt({"kill", "no-such-ctr", "SIGNOPE"});
    CHECK(k.status == 1);
    CHECK(lines(k.err).size() == 1);
    CHECK_THAT(k.err, Catch::Contains("SIGNOPE"));
    Result u = rt({"frobnicate"});
    CHECK(u.status == 1);
    CHECK_THAT(u.err, Catch::Contains("unknown command \"frobnicate\""));
}
