// Unit tests for the state directory (ids, O_EXCL-like create, lock, atomic state.json, status)
// and the parent/child sync protocol.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "state.hpp"
#include "sync.hpp"
#include "util.hpp"

namespace {
struct TempRoot {
    std::string path;
    TempRoot() {
        char tmpl[] = "/tmp/rt-unit-state-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempRoot() { rt::remove_all(path); }
};
}  // namespace

TEST_CASE("a state directory is made once and rolled back unless kept", "[state]") {
    TempRoot root;
    {
        auto d = rt::state::StateDir::create(root.path, "c1");
        CHECK_THROWS_WITH(rt::state::StateDir::create(root.path, "c1"), Catch::Contains("already exists"));
    }  // not kept: removed
    CHECK(::access((root.path + "/c1").c_str(), F_OK) != 0);
    CHECK_THROWS_WITH(rt::state::StateDir::open(root.path, "c1", false), Catch::Contains("does not exist"));
    CHECK_THROWS_WITH(rt::state::StateDir::create(root.path, "../x"),
                      Catch::Contains("invalid container id"));
}

TEST_CASE("state.json round-trips and the status follows the process", "[state]") {
    TempRoot root;
    rt::state::Record r;
    r.state.ociVersion = "1.1.0";
    r.state.id = "c2";
    r.state.bundle = "/b";
    r.state.rootfs = "/b/rootfs";
    r.state.annotations = {{"k", "v"}};
    r.state.pid = ::getpid();
    r.state.init_start_time = *rt::process_start_time(::getpid());
    r.cgroup = {{"dirs", {"/sys/fs/cgroup/pids/c2"}}};
    {
        auto d = rt::state::StateDir::create(root.path, "c2");
        d.write(r);
        d.keep();
    }
    auto d = rt::state::StateDir::open(root.path, "c2", false);
    auto back = d.read();
    CHECK(back.state.id == "c2");
    CHECK(back.state.annotations == r.state.annotations);
    CHECK(back.cgroup == r.cgroup);
    rt::state::refresh(back, d);
    CHECK(back.state.status == rt::Status::Running);  // alive, no exec socket
    back.state.init_start_time += 1;                  // same pid, another process
    rt::state::refresh(back, d);
    CHECK(back.state.status == rt::Status::Stopped);
    CHECK(back.state.pid == 0);
    CHECK(::access((root.path + "/c2/.state.json.tmp").c_str(), F_OK) != 0);
}

TEST_CASE("sync messages carry payloads and fds; EOF is reported", "[sync]") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    rt::UniqueFd a(sv[0]), b(sv[1]);
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    rt::UniqueFd pr(p[0]), pw(p[1]);
    rt::sync::send(a.get(), rt::sync::Msg::PtyMaster, "/dev/pts/7", pw.get());
    rt::sync::send(a.get(), rt::sync::Msg::Error, "mount proc: Operation not permitted");
    auto m1 = rt::sync::recv(b.get());
    CHECK(m1.type == rt::sync::Msg::PtyMaster);
    CHECK(m1.payload == "/dev/pts/7");
    REQUIRE(m1.fd);
    CHECK(::write(m1.fd.get(), "x", 1) == 1);  // the passed fd is the pipe's write end
    char c = 0;
    CHECK(::read(pr.get(), &c, 1) == 1);
    CHECK(c == 'x');
    auto m2 = rt::sync::recv(b.get());
    CHECK(m2.type == rt::sync::Msg::Error);
    CHECK(m2.payload == "mount proc: Operation not permitted");
    a.reset();
    rt::sync::Message m3;
    CHECK_FALSE(rt::sync::try_recv(b.get(), m3));
    CHECK_THROWS_WITH(rt::sync::recv(b.get()), Catch::Contains("exited"));
}
