// process.terminal: the pty master goes to --console-socket (create, run -d), or rt relays it in
// a foreground run and restores the caller's terminal afterwards.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

const char* kTtyScript = "tty; read x; echo \"got:$x\"";

std::string recvtty_path() {
    std::string p = tools_dir() + "/recvtty";
    INFO("RT_TOOLS_DIR=" << tools_dir());
    REQUIRE(exists(p));
    return p;
}

// recvtty listening on <dir>/sock, typing `input` into the pty, copying its output to <dir>/out.
Process start_recvtty(const TempDir& t, const std::string& input) {
    Process p = spawn({recvtty_path(), "--ready-file", t.path() + "/ready", "--echo-input", input, "--output",
                       t.path() + "/out", t.path() + "/sock"});
    REQUIRE(wait_for([&] { return exists(t.path() + "/ready"); }));
    return p;
}

void check_tty_output(const std::string& out) {
    INFO("pty output: " << out);
    CHECK((out.find("/dev/console") != std::string::npos || out.find("/dev/pts/") != std::string::npos));
    CHECK(out.find("not a tty") == std::string::npos);
    CHECK(out.find("got:hello") != std::string::npos);
}

}  // namespace

TEST_CASE("create with --console-socket hands the pty master over", "[terminal]") {
    TempDir t;
    Process rv = start_recvtty(t, "hello\n");
    Bundle b;
    const std::string id = unique_id("tty");
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", kTtyScript});
    Result c = b.create(id, {"--console-socket", t.path() + "/sock"});
    INFO(c.err);
    REQUIRE(c.status == 0);
    CHECK(status_of(id) == "created");
    Result s = b.start(id);
    INFO(s.err);
    REQUIRE(s.status == 0);
    // recvtty sees EOF once the container's last slave fd is closed, i.e. when it exits.
    Result r = rv.wait(10);
    INFO(r.err);
    CHECK(r.status == 0);
    check_tty_output(read_file(t.path() + "/out"));
    CHECK(wait_for([&] { return status_of(id) == "stopped"; }));
}

TEST_CASE("run --detach with --console-socket", "[terminal]") {
    TempDir t;
    Process rv = start_recvtty(t, "hello\n");
    Bundle b;
    const std::string id = unique_id("ttyd");
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", kTtyScript});
    Result r = b.run(id, {"--detach", "--console-socket", t.path() + "/sock"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    Result rr = rv.wait(10);
    CHECK(rr.status == 0);
    check_tty_output(read_file(t.path() + "/out"));
}

TEST_CASE("the container's stdio is the terminal", "[terminal]") {
    TempDir t;
    Process rv = start_recvtty(t, "");
    Bundle b;
    const std::string id = unique_id("ttyio");
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", "test -t 0 && echo in-tty; test -t 1 && echo out-tty; test -t 2 && echo err-tty"});
    REQUIRE(b.run(id, {"--detach", "--console-socket", t.path() + "/sock"}).status == 0);
    rv.wait(10);
    std::string out = read_file(t.path() + "/out");
    INFO(out);
    CHECK(out.find("in-tty") != std::string::npos);
    CHECK(out.find("out-tty") != std::string::npos);
    CHECK(out.find("err-tty") != std::string::npos);
}

TEST_CASE("terminal without --console-socket is an error when detaching", "[terminal][errors]") {
    Bundle b;
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", "exit 0"});
    auto before = list_dir(state_root());

    SECTION("create") {
        const std::string id = unique_id("notty");
        Result r = b.create(id);
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(!r.err.empty());
        CHECK(rt({"state", id}).status != 0);
        CHECK(list_dir(state_root()) == before);
    }
    SECTION("run --detach") {
        const std::string id = unique_id("notty");
        Result r = b.run(id, {"--detach"});
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(!r.err.empty());
        CHECK(rt({"state", id}).status != 0);
        CHECK(list_dir(state_root()) == before);
    }
}

TEST_CASE("--console-socket that nobody listens on fails the create", "[terminal][errors]") {
    TempDir t;
    Bundle b;
    const std::string id = unique_id("nosock");
    b.config()["process"]["terminal"] = true;
    auto before = list_dir(state_root());
    Result r = b.create(id, {"--console-socket", t.path() + "/nothing-here"});
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(rt({"state", id}).status != 0);
    CHECK(list_dir(state_root()) == before);
    // The container init (a copy of rt whose command line names the id) was killed and reaped.
    // ("[n]osock-..." so the pattern does not match the pgrep command line itself.)
    CHECK(sh("pgrep -f -- '[" + id.substr(0, 1) + "]" + id.substr(1) + "'").out.empty());
}

TEST_CASE("foreground run relays the terminal", "[terminal][run]") {
    Bundle b;
    const std::string id = unique_id("ttyfg");
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", "tty; echo ready; read x; echo \"got:$x\"; exit 3"});
    b.save();
    b.track(id);
    Result r = run_in_terminal({"run", "--bundle", b.dir(), id});
    INFO(r.out << r.err);
    REQUIRE(r.out.find("ready") != std::string::npos);
    CHECK(r.status == 3);
    CHECK((r.out.find("/dev/console") != std::string::npos || r.out.find("/dev/pts/") != std::string::npos));
    CHECK(r.out.find("got:hello") != std::string::npos);
    CHECK(rt({"state", id}).status != 0);  // removed after the run
}

TEST_CASE("foreground terminal run restores the caller's terminal mode", "[terminal][run]") {
    Bundle b;
    const std::string id = unique_id("ttymode");
    b.config()["process"]["terminal"] = true;
    b.args({"sh", "-c", "echo inside"});
    b.save();
    b.track(id);
    const std::string cmd = "stty -g; echo BEFORE-DONE; " +
                            shell_quote(rt_argv({"run", "--bundle", b.dir(), id})) +
                            "; echo \"rc=$?\"; stty -g";
    Process p = spawn({"script", "-qfec", cmd, "/dev/null"}, true);
    Result r = p.wait(20);
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::vector<std::string> ls;
    for (auto& l : lines(r.out))
        if (!l.empty()) ls.push_back(l);
    REQUIRE(ls.size() >= 4);
    CHECK(ls[1] == "BEFORE-DONE");
    CHECK(std::find(ls.begin(), ls.end(), "inside") != ls.end());
    CHECK(ls[ls.size() - 2] == "rc=0");
    const std::string before = ls.front(), after = ls.back();
    CHECK(before.find(':') != std::string::npos);  // looks like `stty -g` output
    CHECK(before == after);
}
