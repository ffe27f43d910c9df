// Failures: clear one-line errors, and a failed create leaves nothing behind (no state dir, no
// process, no cgroup).
#include <algorithm>
#include <filesystem>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Directories named like (containing) needle under the v1 memory and pids hierarchies and the
// cgroup2 mount, at any depth (runc nests v1 memory under the caller's own cgroup).
std::vector<std::string> cgroup_dirs_matching(const std::string& needle) {
    std::vector<std::string> found;
    for (const char* top : {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"}) {
        std::error_code ec;
        fs::recursive_directory_iterator it(top, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            if (it.depth() > 6) {
                it.disable_recursion_pending();
                continue;
            }
            std::error_code ec2;
            if (!it->is_directory(ec2) || it->is_symlink(ec2)) continue;
            if (it->path().filename().string().find(needle) != std::string::npos)
                found.push_back(it->path().string());
        }
    }
    return found;
}

// Processes (other than this one) whose command line, environment or cgroup mentions needle.
std::vector<pid_t> pids_matching(const std::string& needle) {
    std::vector<pid_t> pids;
    for (const auto& name : list_dir("/proc")) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        pid_t pid = std::stoi(name);
        if (pid == getpid() || !pid_alive(pid)) continue;
        const std::string base = "/proc/" + name;
        for (const char* f : {"/cmdline", "/environ", "/cgroup"}) {
            if (read_file(base + f).find(needle) != std::string::npos) {
                pids.push_back(pid);
                break;
            }
        }
    }
    return pids;
}

// Everything a failed create of `id` from bundle b could have left behind.
void check_nothing_left(const std::string& id, const std::vector<std::string>& root_before) {
    INFO("id " << id);
    CHECK_FALSE(exists(state_root() + "/" + id));
    CHECK(list_dir(state_root()) == root_before);
    auto ids = lines(rt({"list", "-q"}).out);
    CHECK(std::find(ids.begin(), ids.end(), id) == ids.end());
    CHECK(rt({"state", id}).status != 0);
    // The runtime has returned; a leftover container process would be reparented and linger.
    std::vector<pid_t> left;
    wait_for([&] { return (left = pids_matching(id)).empty(); }, 2);
    CHECK(left == std::vector<pid_t>{});
    CHECK(cgroup_dirs_matching(id) == std::vector<std::string>{});
}

// A bundle whose processes carry the id in their environment, so pids_matching() finds them.
void mark(Bundle& b, const std::string& id) { b.env("RT_TEST_MARKER=" + id); }

void check_one_line(const Result& r) {
    if (!is_rt()) return;  // runc prefixes logrus fields and may add warnings
    INFO("stderr: " << r.err);
    CHECK(!r.err.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.back() == '\n');
}

}  // namespace

TEST_CASE("config.json with a type error", "[errors]") {
    Bundle b;
    const std::string id = unique_id("typeerr");
    auto before = list_dir(state_root());
    b.config()["process"]["args"] = "sh";
    Result r = b.create(id);
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find("process.args") != std::string::npos);
    check_one_line(r);
    check_nothing_left(id, before);
}

TEST_CASE("missing config.json", "[errors]") {
    Bundle b;
    const std::string id = unique_id("noconfig");
    auto before = list_dir(state_root());
    fs::remove(b.dir() + "/config.json");
    b.track(id);
    Result r = rt({"create", "--bundle", b.dir(), id});
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find("config.json") != std::string::npos);
    check_one_line(r);
    check_nothing_left(id, before);
}

TEST_CASE("args[0] not found in the container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("noexec");
    mark(b, id);
    b.args({"/nonexistent", "arg"});
    auto before = list_dir(state_root());

    SECTION("create reports it") {
        Result r = b.create(id);
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("nonexistent") != std::string::npos);
        check_one_line(r);
        check_nothing_left(id, before);
    }
    SECTION("run reports it") {
        Result r = b.run(id);
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("nonexistent") != std::string::npos);
        check_one_line(r);
        check_nothing_left(id, before);
    }
    SECTION("not found through PATH either") {
        b.args({"no-such-command-here"});
        Result r = b.create(id);
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("no-such-command-here") != std::string::npos);
        check_nothing_left(id, before);
    }
}

TEST_CASE("bind mount of a nonexistent source", "[errors]") {
    Bundle b;
    TempDir t;
    const std::string id = unique_id("badbind");
    const std::string src = t.path() + "/does-not-exist";
    mark(b, id);
    b.add_mount({{"destination", "/mnt/x"}, {"type", "bind"}, {"source", src}, {"options", {"rbind"}}});
    auto before = list_dir(state_root());
    Result r = b.create(id);
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find(src) != std::string::npos);
    check_one_line(r);
    check_nothing_left(id, before);
}

TEST_CASE("invalid container ids", "[errors]") {
    Bundle b;
    auto before = list_dir(state_root());
    auto parent_before = list_dir(fs::path(state_root()).parent_path().string());
    for (std::string id : {"a/b", "..", "", "."}) {
        DYNAMIC_SECTION("id '" << id << "'") {
            Result r = b.create(id);
            INFO(r.err);
            CHECK(r.status != 0);
            CHECK(!r.err.empty());
            check_one_line(r);
            CHECK(list_dir(state_root()) == before);
            CHECK(list_dir(fs::path(state_root()).parent_path().string()) == parent_before);
            CHECK_FALSE(exists(state_root() + "/a"));
            CHECK(lines(rt({"list", "-q"}).out).size() == before.size());
        }
    }
}

TEST_CASE("invalid id in other commands", "[errors]") {
    for (std::string id : {"a/b", ".."}) {
        DYNAMIC_SECTION("id '" << id << "'") {
            for (auto verb : {"state", "start", "kill", "delete"}) {
                Result r = rt({verb, id});
                INFO(verb << ": " << r.err);
                CHECK(r.status != 0);
            }
        }
    }
}

TEST_CASE("delete of a running container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("delrun");
    pid_t pid = start_sleeper(b, id);

    Result d = rt({"delete", id});
    INFO(d.err);
    CHECK(d.status != 0);
    check_one_line(d);
    CHECK(status_of(id) == "running");
    CHECK(pid_alive(pid));

    Result f = rt({"delete", "--force", id});
    INFO(f.err);
    CHECK(f.status == 0);
    CHECK(rt({"state", id}).status != 0);
    CHECK(wait_for([&] { return !pid_alive(pid); }));
    CHECK_FALSE(exists(state_root() + "/" + id));
    CHECK(cgroup_dirs_matching(id) == std::vector<std::string>{});
}

TEST_CASE("delete --force of a created container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("delcreated");
    b.args({"sleep", "1000"});
    REQUIRE(b.create(id).status == 0);
    pid_t pid = state(id)["pid"].get<pid_t>();
    CHECK(rt({"delete", "--force", id}).status == 0);
    CHECK(rt({"state", id}).status != 0);
    CHECK(wait_for([&] { return !pid_alive(pid); }));
    CHECK(cgroup_dirs_matching(id) == std::vector<std::string>{});
}

TEST_CASE("start of an already started container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("start2");
    start_sleeper(b, id);
    Result r = b.start(id);
    INFO(r.err);
    CHECK(r.status != 0);
    check_one_line(r);
    CHECK(status_of(id) == "running");
}

TEST_CASE("start of a stopped container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("startstopped");
    start_sleeper(b, id);
    REQUIRE(rt({"kill", id, "KILL"}).status == 0);
    REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }));
    Result r = b.start(id);
    INFO(r.err);
    CHECK(r.status != 0);
    check_one_line(r);
}

TEST_CASE("kill of a stopped container", "[errors]") {
    Bundle b;
    const std::string id = unique_id("killstopped");
    start_sleeper(b, id);
    REQUIRE(rt({"kill", id, "KILL"}).status == 0);
    REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }));
    Result r = rt({"kill", id});
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find("not running") != std::string::npos);
    check_one_line(r);
}

TEST_CASE("commands on an unknown container", "[errors]") {
    const std::string id = unique_id("unknown");
    for (auto verb : {"state", "start", "kill", "delete"}) {
        Result r = rt({verb, id});
        INFO(verb << ": " << r.err);
        CHECK(r.status != 0);
        check_one_line(r);
        if (is_rt()) CHECK(r.err.find(id) != std::string::npos);
    }
}

TEST_CASE("kill with an invalid signal", "[errors]") {
    Bundle b;
    const std::string id = unique_id("badsig");
    pid_t pid = start_sleeper(b, id);
    Result r = rt({"kill", id, "NOTASIGNAL"});
    INFO(r.err);
    CHECK(r.status != 0);
    check_one_line(r);
    CHECK(pid_alive(pid));
    CHECK(status_of(id) == "running");
}

TEST_CASE("delete --force removes what an rt killed in the middle of create left", "[errors][rt-only]") {
    Bundle b;
    const std::string id = unique_id("half");
    // What a SIGKILLed `rt create` leaves before state.json exists: the bare state directory.
    REQUIRE(sh("mkdir '" + state_root() + "/" + id + "'").status == 0);
    Result c = b.create(id);
    CHECK(c.status != 0);
    CHECK_THAT(c.err, Catch::Contains("already exists"));
    Result d = rt({"delete", "--force", id});
    INFO(d.err);
    CHECK(d.status == 0);
    CHECK_FALSE(exists(state_root() + "/" + id));
    Result again = b.create(id);
    INFO(again.err);
    CHECK(again.status == 0);
    CHECK(status_of(id) == "created");
}
