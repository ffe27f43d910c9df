// The process section of config.json: args, env, cwd, user, umask, rlimits, capabilities, plus
// hostname/domainname.
#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

// Run `sh -c script` in b's container (foreground run), return what it printed.
Result run_sh(Bundle& b, const std::string& script) {
    b.args({"sh", "-c", script});
    return b.run(unique_id("proc"));
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    std::string x;
    while (in >> x) w.push_back(x);
    return w;
}

}  // namespace

TEST_CASE("args are passed verbatim", "[process]") {
    Bundle b;
    b.args({"sh", "-c", "printf '%s|' \"$@\"", "sh", "a", "b c", "", "$HOME", "'q'"});
    Result r = b.run(unique_id("args"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "a|b c||$HOME|'q'|");
}

TEST_CASE("env reaches the process, and only env", "[process]") {
    Bundle b;
    b.env("FOO=bar baz");
    b.env("EMPTY=");
    Result r = run_sh(b, "echo \"$FOO\"; echo \"[$EMPTY]\"; env");
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto ls = lines(r.out);
    REQUIRE(ls.size() >= 2);
    CHECK(ls[0] == "bar baz");
    CHECK(ls[1] == "[]");
    CHECK(r.out.find("\nTERM=xterm\n") != std::string::npos);
    CHECK(r.out.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") != std::string::npos);
    // Nothing of the caller's environment leaks in.
    CHECK(r.out.find("RT_BINARY") == std::string::npos);
    CHECK(r.out.find("RT_ROOTFS") == std::string::npos);
}

TEST_CASE("cwd", "[process]") {
    Bundle b;
    b.config()["process"]["cwd"] = "/tmp";
    Result r = run_sh(b, "pwd");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "/tmp\n");
}

TEST_CASE("user uid, gid and additionalGids", "[process][user]") {
    Bundle b;
    b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config()["process"]["cwd"] = "/tmp";

    SECTION("uid and gid") {
        Result r = run_sh(b, "id -u; id -g; id -un");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "1000\n1000\ntester\n");
    }
    SECTION("additionalGids") {
        b.config()["process"]["user"]["additionalGids"] = {5, 100, 65534};
        Result r = run_sh(b, "id -G");
        INFO(r.err);
        CHECK(r.status == 0);
        auto gids = words(r.out);
        for (std::string g : {"1000", "5", "100", "65534"})
            CHECK(std::find(gids.begin(), gids.end(), g) != gids.end());
        CHECK(std::find(gids.begin(), gids.end(), "0") == gids.end());  // root's group is dropped
    }
    SECTION("no additionalGids: no supplementary groups") {
        Result r = run_sh(b, "id -G");
        CHECK(r.status == 0);
        CHECK(trim(r.out) == "1000");
    }
    SECTION("files are created with the user's ids") {
        Result r = run_sh(b, "touch /tmp/owned");
        INFO(r.err);
        CHECK(r.status == 0);
        struct stat st {};
        REQUIRE(::stat((b.rootfs() + "/tmp/owned").c_str(), &st) == 0);
        CHECK(st.st_uid == 1000u);
        CHECK(st.st_gid == 1000u);
    }
}

TEST_CASE("umask", "[process]") {
    Bundle b;
    SECTION("set to 077") {
        b.config()["process"]["user"]["umask"] = 077;
        Result r = run_sh(b, "touch /tmp/f && mkdir /tmp/d && stat -c %a /tmp/f /tmp/d");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "600\n700\n");
    }
    SECTION("set to 0") {
        b.config()["process"]["user"]["umask"] = 0;
        Result r = run_sh(b, "touch /tmp/f && stat -c %a /tmp/f; umask");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "666\n0000\n");
    }
    SECTION("default is 022") {
        Result r = run_sh(b, "touch /tmp/f && stat -c %a /tmp/f; umask");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "644\n0022\n");
    }
}

TEST_CASE("hostname", "[process][uts]") {
    Bundle b;
    Result r = run_sh(b, "hostname; cat /proc/sys/kernel/hostname");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "rt-test\nrt-test\n");
}

// rt-only: runc 1.1 ignores "domainname" (support came with runc 1.2); it prints "(none)".
TEST_CASE("domainname", "[process][uts][rt-only]") {
    Bundle b;
    b.config()["domainname"] = "example.org";
    Result r = run_sh(b, "hostname; cat /proc/sys/kernel/domainname");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "rt-test\nexample.org\n");
}

TEST_CASE("exit code of false", "[process]") {
    Bundle b;
    b.args({"false"});
    Result r = b.run(unique_id("false"));
    INFO(r.err);
    CHECK(r.status == 1);
}

TEST_CASE("args[0] is resolved through the container's PATH", "[process][path]") {
    Bundle b;
    std::filesystem::create_directories(b.rootfs() + "/opt/tools");
    write_file(b.rootfs() + "/opt/tools/hello-from-path", "#!/bin/sh\necho \"via path: $0 $1\"\n");
    chmod((b.rootfs() + "/opt/tools/hello-from-path").c_str(), 0755);
    b.config()["process"]["env"] = {"PATH=/opt/tools:/bin", "TERM=xterm"};
    b.args({"hello-from-path", "x"});
    Result r = b.run(unique_id("path"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "via path: /opt/tools/hello-from-path x\n");
}

TEST_CASE("args[0] with a relative directory is not looked up in PATH", "[process][path]") {
    Bundle b;
    std::filesystem::create_directories(b.rootfs() + "/opt/tools");
    write_file(b.rootfs() + "/opt/tools/prog", "#!/bin/sh\necho ran-prog\n");
    chmod((b.rootfs() + "/opt/tools/prog").c_str(), 0755);
    b.config()["process"]["cwd"] = "/opt";
    b.args({"tools/prog"});
    Result r = b.run(unique_id("relpath"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "ran-prog\n");
}

TEST_CASE("rlimits", "[process]") {
    Bundle b;
    b.config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 1000}, {"soft", 500}}};
    Result r = run_sh(b, "ulimit -n; ulimit -Hn");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "500\n1000\n");
}

TEST_CASE("default capabilities and noNewPrivileges", "[process][security]") {
    Bundle b;
    Result r = run_sh(b, "grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|CapInh|NoNewPrivs):' /proc/self/status");
    INFO(r.err);
    REQUIRE(r.status == 0);
    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
    const std::string mask = "0000000020000420";
    auto ls = lines(r.out);
    std::map<std::string, std::string> f;
    for (auto& l : ls) {
        auto w = words(l);
        if (w.size() == 2) f[w[0]] = w[1];
    }
    CHECK(f["CapEff:"] == mask);
    CHECK(f["CapPrm:"] == mask);
    CHECK(f["CapBnd:"] == mask);
    // (CapAmb is not checked for root: execve as uid 0 treats the file as privileged and the
    // kernel clears the ambient set; runc shows 0 here.)
    CHECK(f["NoNewPrivs:"] == "1");
}

TEST_CASE("ambient capabilities survive for a non-root user", "[process][security]") {
    Bundle b;
    b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    SECTION("with inheritable ones") {
        // An ambient capability must also be permitted and inheritable.
        b.config()["process"]["capabilities"]["inheritable"] = b.config()["process"]["capabilities"]["ambient"];
        Result r = run_sh(b, "grep -E '^(CapEff|CapAmb):' /proc/self/status");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(lines(r.out) == std::vector<std::string>{"CapEff:\t0000000020000420", "CapAmb:\t0000000020000420"});
    }
    SECTION("without inheritable ones (runc's default spec) they can't be raised, silently") {
        Result r = run_sh(b, "grep -E '^(CapEff|CapAmb):' /proc/self/status");
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(lines(r.out) == std::vector<std::string>{"CapEff:\t0000000000000000", "CapAmb:\t0000000000000000"});
    }
}

TEST_CASE("non-root user keeps no capabilities without ambient ones", "[process][security]") {
    Bundle b;
    b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config()["process"]["capabilities"]["ambient"] = json::array();
    Result r = run_sh(b, "grep '^CapEff:' /proc/self/status");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(words(r.out) == std::vector<std::string>{"CapEff:", "0000000000000000"});
}

TEST_CASE("only stdio and --preserve-fds cross into the container", "[process][security]") {
    Bundle b;
    // ls lists the fds of the shell ($$), not its own. No pipeline: the shell holds a pipe's fds
    // while it forks the pipeline's commands, and ls could see them.
    b.args({"sh", "-c", "ls /proc/$$/fd; { cat <&3; } 2>/dev/null; true"});
    b.save();
    const std::string id = unique_id("fds");
    b.track(id);
    SECTION("the caller's fds 3 and 4 stay out without --preserve-fds") {
        Result r = sh("exec 3</etc/hostname 4</etc/hostname; " + shell_quote(rt_argv({"run", "-b", b.dir(), id})));
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(r.out == "0\n1\n2\n");
    }
    SECTION("--preserve-fds 2 passes exactly fds 3 and 4") {
        write_file(b.dir() + "/fd3", "from-fd-3\n");
        Result r = sh("exec 3<'" + b.dir() + "/fd3' 4</etc/hostname 5</etc/hostname; " +
                      shell_quote(rt_argv({"run", "-b", b.dir(), "--preserve-fds", "2", id})));
        INFO(r.err);
        INFO(r.out);
        CHECK(r.status == 0);
        CHECK(r.out == "0\n1\n2\n3\n4\nfrom-fd-3\n");
    }
}
