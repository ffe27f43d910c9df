// Unit tests for ids, signals and the small helpers the state module relies on.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "rt/container.hpp"
#include "util.hpp"

TEST_CASE("container ids are validated before any path is built", "[util]") {
    CHECK_NOTHROW(rt::validate_id("web-1_a.b"));
    CHECK_THROWS_WITH(rt::validate_id(""), Catch::Contains("must not be empty"));
    CHECK_THROWS_WITH(rt::validate_id("a/b"), Catch::Contains("must not contain '/'"));
    CHECK_THROWS_WITH(rt::validate_id(".."), Catch::Contains("invalid container id"));
    CHECK_THROWS_WITH(rt::validate_id("."), Catch::Contains("invalid container id"));
    CHECK_THROWS_WITH(rt::validate_id("a b"), Catch::Contains("printable"));
    CHECK_THROWS(rt::validate_id(std::string(1025, 'x')));
}

TEST_CASE("signals parse as runc accepts them", "[util]") {
    CHECK(rt::parse_signal("SIGTERM") == SIGTERM);
    CHECK(rt::parse_signal("TERM") == SIGTERM);
    CHECK(rt::parse_signal("term") == SIGTERM);
    CHECK(rt::parse_signal("15") == SIGTERM);
    CHECK(rt::parse_signal("KILL") == SIGKILL);
    CHECK(rt::parse_signal("SIGUSR1") == SIGUSR1);
    CHECK(rt::parse_signal("RTMIN+1") == SIGRTMIN + 1);
    CHECK_THROWS_WITH(rt::parse_signal("SIGNOPE"), Catch::Contains("invalid signal \"SIGNOPE\""));
    CHECK_THROWS(rt::parse_signal("0"));
    CHECK_THROWS(rt::parse_signal("999"));
    CHECK_THROWS(rt::parse_signal(""));
}

TEST_CASE("a process is its pid plus its start time", "[util]") {
    auto mine = rt::process_start_time(::getpid());
    REQUIRE(mine);
    CHECK(rt::process_alive(::getpid(), *mine));
    CHECK_FALSE(rt::process_alive(::getpid(), *mine + 1));  // same pid, other start time: not it
    CHECK_FALSE(rt::process_start_time(0));
    CHECK_FALSE(rt::process_alive(-1, 0));
}

TEST_CASE("files are written atomically and trees removed without following links", "[util]") {
    char tmpl[] = "/tmp/rt-unit-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    rt::write_file_atomic(dir + "/state.json", "{\"a\":1}", 0600);
    CHECK(rt::read_file(dir + "/state.json") == "{\"a\":1}");
    struct stat st {};
    REQUIRE(::stat((dir + "/state.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK_FALSE(rt::read_file_if_exists(dir + "/.state.json.tmp"));
    CHECK_FALSE(rt::read_file_if_exists(dir + "/missing"));
    CHECK_THROWS_WITH(rt::read_file(dir + "/missing"), Catch::Contains("No such file"));

    // A symlink inside the tree pointing outside: remove_all deletes the link, not its target.
    std::string outside = dir + "-outside";
    rt::mkdir_all(outside + "/keep");
    rt::mkdir_all(dir + "/a/b/c");
    rt::write_file(dir + "/a/b/c/f", "x");
    REQUIRE(::symlink(outside.c_str(), (dir + "/a/link").c_str()) == 0);
    rt::remove_all(dir);
    CHECK(::access(dir.c_str(), F_OK) != 0);
    CHECK(::access((outside + "/keep").c_str(), F_OK) == 0);
    rt::remove_all(outside);
}

TEST_CASE("split keeps empty fields", "[util]") {
    CHECK(rt::split("a::b", ':') == std::vector<std::string>{"a", "", "b"});
    CHECK(rt::split("", ':') == std::vector<std::string>{""});
    CHECK(rt::rfc3339_now().size() == 30);
}
