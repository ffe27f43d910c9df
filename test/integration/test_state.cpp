// `rt state`: the JSON it prints, unknown ids, pid reuse, concurrent use of one state root.
#include <signal.h>

#include <cctype>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM). (No std::regex: GCC 12 + ASan + -Werror
// trips over a maybe-uninitialized false positive in <regex>.)
bool rfc3339(const std::string& s) {
    auto digits = [&](size_t pos, size_t n) {
        if (pos + n > s.size()) return false;
        for (size_t i = pos; i < pos + n; ++i)
            if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        return true;
    };
    if (!(digits(0, 4) && s.size() > 19 && s[4] == '-' && digits(5, 2) && s[7] == '-' && digits(8, 2) &&
          s[10] == 'T' && digits(11, 2) && s[13] == ':' && digits(14, 2) && s[16] == ':' && digits(17, 2)))
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start || i - start > 9) return false;
    }
    if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
    return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2) && s[i + 3] == ':' &&
           digits(i + 4, 2);
}

// Replace every integer member whose key mentions "pid" and whose value is `from` by `to`,
// anywhere in j. rt keeps the init pid as "pid", runc as "init_process_pid"; start-time fields are
// left alone. Returns how many were replaced.
int replace_pid(json& j, int from, int to) {
    int n = 0;
    if (j.is_object()) {
        for (auto& [key, val] : j.items()) {
            if (val.is_number_integer() && val.get<long long>() == from &&
                key.find("pid") != std::string::npos) {
                val = to;
                ++n;
            } else {
                n += replace_pid(val, from, to);
            }
        }
    } else if (j.is_array()) {
        for (auto& v : j) n += replace_pid(v, from, to);
    }
    return n;
}

}  // namespace

TEST_CASE("state JSON", "[state]") {
    Bundle b;
    const std::string id = unique_id("state");
    b.config()["annotations"] = {{"org.example.key", "value"}, {"rt.test/second", "2"}};
    b.args({"sleep", "1000"});
    Result c = b.create(id);
    INFO(c.err);
    REQUIRE(c.status == 0);

    Result r = rt({"state", id});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    json st = json::parse(r.out);

    REQUIRE(st["ociVersion"].is_string());
    CHECK(st["ociVersion"].get<std::string>().rfind("1.", 0) == 0);
    CHECK(st["id"] == id);
    CHECK(st["status"] == "created");
    REQUIRE(st["pid"].is_number_integer());
    CHECK(pid_alive(st["pid"].get<pid_t>()));
    CHECK(st["bundle"] == b.dir());
    CHECK(st["bundle"].get<std::string>()[0] == '/');
    CHECK(st["rootfs"] == b.rootfs());
    REQUIRE(st["created"].is_string());
    CHECK(rfc3339(st["created"].get<std::string>()));
    REQUIRE(st["owner"].is_string());  // runc prints "" here (but "root" in `list`)
    CHECK(st["annotations"] == json({{"org.example.key", "value"}, {"rt.test/second", "2"}}));

    SECTION("running, then stopped") {
        REQUIRE(b.start(id).status == 0);
        CHECK(status_of(id) == "running");
        REQUIRE(rt({"kill", id, "KILL"}).status == 0);
        REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }));
        json s2 = state(id);
        CHECK(s2["pid"] == 0);
        CHECK(s2["created"] == st["created"]);
        CHECK(s2["annotations"] == st["annotations"]);
    }
}

TEST_CASE("state owner is the user name", "[state][rt-only]") {
    Bundle b;
    const std::string id = unique_id("owner");
    REQUIRE(b.create(id).status == 0);
    CHECK(state(id)["owner"] == "root");
}

TEST_CASE("state of an unknown id fails", "[state]") {
    const std::string id = unique_id("nosuch");
    Result r = rt({"state", id});
    CHECK(r.status != 0);
    CHECK(r.out.empty());
    CHECK(!r.err.empty());
    if (is_rt()) CHECK(r.err.find(id) != std::string::npos);  // runc: "container does not exist"
}

TEST_CASE("a reused pid is not taken for the container", "[state][pid-reuse]") {
    Bundle b;
    const std::string id = unique_id("reuse");
    pid_t pid = start_sleeper(b, id);
    // The state file as it was while the container ran (a runtime may rewrite it once it notices
    // the container stopped).
    const std::string path = state_root() + "/" + id + "/state.json";
    REQUIRE(exists(path));
    json saved = json::parse(read_file(path));
    INFO(saved.dump());
    REQUIRE(rt({"kill", id, "KILL"}).status == 0);
    REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }));

    // An unrelated process now "has" the container's pid in the state file; its start time does
    // not match the recorded one (which is kept).
    Process other = spawn({"sleep", "1000"});
    REQUIRE(other.running());
    REQUIRE(replace_pid(saved, pid, other.pid()) > 0);
    write_file(path, saved.dump());

    CHECK(status_of(id) == "stopped");
    rt({"kill", id, "KILL"});  // may fail ("not running"), must not hit the other process
    rt({"kill", id, "TERM"});
    CHECK(other.running());
    CHECK(pid_alive(other.pid()));
    Result d = rt({"delete", id});
    INFO(d.err);
    CHECK(d.status == 0);
    CHECK(other.running());
}

TEST_CASE("parallel state calls", "[state][concurrency]") {
    Bundle b;
    const std::string id = unique_id("par");
    start_sleeper(b, id);
    std::vector<Process> ps;
    for (int i = 0; i < 10; ++i) ps.push_back(rt_bg({"state", id}));
    for (auto& p : ps) {
        Result r = p.wait(30);
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(json::parse(r.out)["status"] == "running");
    }
}

// rt-only: runc 1.1.5 fails this. Racing creates of one id either both fail ("exec fifo ... already
// exists" / "unable to store init state") or the loser's cleanup removes the winner's state dir,
// leaving an orphaned `runc init` and its cgroups behind.
TEST_CASE("concurrent create of the same id: exactly one wins", "[state][concurrency][rt-only]") {
    for (int round = 0; round < 5; ++round) {
        DYNAMIC_SECTION("round " << round) {
            Bundle b;
            b.args({"sleep", "1000"});
            b.save();
            const std::string id = unique_id("race");
            b.track(id);
            Process p1 = rt_bg({"create", "--bundle", b.dir(), id});
            Process p2 = rt_bg({"create", "--bundle", b.dir(), id});
            Result r1 = p1.wait(30), r2 = p2.wait(30);
            INFO("1: " << r1.status << " " << r1.err << "2: " << r2.status << " " << r2.err);
            REQUIRE(((r1.status == 0) != (r2.status == 0)));
            const Result& loser = r1.status == 0 ? r2 : r1;
            // rt: container "x" already exists; runc: container with given ID already exists
            CHECK(loser.err.find("exist") != std::string::npos);
            json st = state(id);
            REQUIRE(st.is_object());
            CHECK(st["status"] == "created");
            CHECK(pid_alive(st["pid"].get<pid_t>()));
            CHECK(b.start(id).status == 0);
            CHECK(status_of(id) == "running");
        }
    }
}

TEST_CASE("create of an existing id fails and leaves it alone", "[state]") {
    Bundle b;
    const std::string id = unique_id("dup");
    pid_t pid = start_sleeper(b, id);
    Result r = b.create(id);
    CHECK(r.status != 0);
    CHECK(r.err.find("exist") != std::string::npos);
    if (is_rt()) CHECK(r.err.find(id) != std::string::npos);
    CHECK(status_of(id) == "running");
    CHECK(state(id)["pid"] == pid);
}
