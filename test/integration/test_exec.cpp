// rt exec: a process started in a running container sees what the container's init sees (pid 1,
// hostname, mounts, cgroup, namespaces), returns its exit code, gets a terminal or exactly the
// fds asked for, and leaves nothing behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

const char* kNamespaces[] = {"mnt", "pid", "net", "ipc", "uts", "user", "cgroup", "time"};

Result exec(const std::string& id, const std::vector<std::string>& cmd,
            const std::vector<std::string>& opts = {}) {
    std::vector<std::string> a = {"exec"};
    a.insert(a.end(), opts.begin(), opts.end());
    a.push_back(id);
    a.insert(a.end(), cmd.begin(), cmd.end());
    return rt(a);
}

pid_t read_pid_file(const std::string& path) {
    std::string s = trim(read_file(path));
    REQUIRE(!s.empty());
    return static_cast<pid_t>(std::stol(s));
}

// Processes whose parent is ppid, from /proc/<pid>/stat (field 4).
std::vector<pid_t> children_of(pid_t ppid) {
    std::vector<pid_t> out;
    for (const auto& name : list_dir("/proc")) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        std::string s = read_file("/proc/" + name + "/stat");
        auto close = s.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream in(s.substr(close + 1));
        std::string state, parent;
        in >> state >> parent;
        if (!parent.empty() && std::stol(parent) == ppid) out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

bool is_zombie(pid_t pid) {
    std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close = s.rfind(')');
    return close != std::string::npos && s.size() > close + 2 && s[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("exec sees the container's pid 1, hostname, mounts and namespaces", "[exec]") {
    Bundle b;
    const std::string id = unique_id("exec");
    pid_t init = start_sleeper(b, id);

    Result r = exec(id, {"cat", "/proc/1/cmdline"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == std::string("sleep\0"
                               "1000\0",
                               11));

    r = exec(id, {"hostname"});
    CHECK(r.status == 0);
    CHECK(trim(r.out) == b.config()["hostname"].get<std::string>());

    // The same mount namespace and root: the same mount table, seen from the same root.
    r = exec(id, {"cat", "/proc/self/mountinfo"});
    CHECK(r.status == 0);
    CHECK(r.out == read_file("/proc/" + std::to_string(init) + "/mountinfo"));

    // Its pid inside is not 1 and not the host's: it is in the container's pid namespace.
    r = exec(id, {"sh", "-c", "echo $$"});
    CHECK(r.status == 0);
    CHECK(trim(r.out) != "1");

    for (const char* ns : kNamespaces) {
        if (!exists("/proc/self/ns/" + std::string(ns))) continue;
        Result l = exec(id, {"readlink", "/proc/self/ns/" + std::string(ns)});
        INFO(ns << ": " << l.err);
        CHECK(l.status == 0);
        CHECK(trim(l.out) == ns_link(init, ns));
    }
}

TEST_CASE("exec --detach --pid-file: the process is in the container's cgroup and namespaces", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execd");
    b.config()["linux"]["namespaces"].push_back({{"type", "cgroup"}});
    pid_t init = start_sleeper(b, id);
    TempDir t;
    const std::string pid_file = t.path() + "/exec.pid";
    Result r = exec(id, {"sleep", "1000"}, {"--detach", "--pid-file", pid_file});
    INFO(r.err);
    REQUIRE(r.status == 0);
    pid_t p = read_pid_file(pid_file);
    CHECK(pid_alive(p));
    CHECK(read_file("/proc/" + std::to_string(p) + "/cgroup") ==
          read_file("/proc/" + std::to_string(init) + "/cgroup"));
    for (const char* ns : kNamespaces)
        if (exists("/proc/self/ns/" + std::string(ns))) CHECK(ns_link(p, ns) == ns_link(init, ns));
    // Its cgroup namespace's root is the container's cgroup.
    Result cg = exec(id, {"cat", "/proc/self/cgroup"});
    CHECK(cg.status == 0);
    for (const auto& line : lines(cg.out)) {
        INFO(line);
        CHECK(line.substr(line.rfind(':') + 1) == "/");
    }
    // rt exited: the process is nobody's zombie and is killed with the container.
    REQUIRE(rt({"kill", id, "KILL"}).status == 0);
    CHECK(wait_for([&] { return !pid_alive(p); }, 10));
}

TEST_CASE("exec returns the process's exit code, 128+N for signal N", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execrc");
    start_sleeper(b, id);
    CHECK(exec(id, {"true"}).status == 0);
    CHECK(exec(id, {"sh", "-c", "exit 42"}).status == 42);
    CHECK(exec(id, {"sh", "-c", "kill -KILL $$"}).status == 128 + SIGKILL);
    CHECK(exec(id, {"sh", "-c", "kill -TERM $$"}).status == 128 + SIGTERM);
    // Options end at the container id: the command's own dashes are its own.
    Result r = exec(id, {"sh", "-c", "echo \"$0 $1\"", "-x", "--tty"});
    CHECK(r.status == 0);
    CHECK(r.out == "-x --tty\n");
}

TEST_CASE("exec forwards signals to the process", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execsig");
    start_sleeper(b, id);
    Process p = rt_bg({"exec", id, "sh", "-c",
                       "trap 'echo got-usr1; exit 5' USR1; echo ready; while :; do sleep 0.05; done"});
    REQUIRE(p.wait_output("ready", 10));
    p.signal(SIGUSR1);
    Result r = p.wait(10);
    INFO(r.out << r.err);
    CHECK(r.status == 5);
    CHECK(r.out.find("got-usr1") != std::string::npos);
}

TEST_CASE("exec flags: --env, --cwd, --user, --additional-gids, --no-new-privs", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execfl");
    b.env("FOO=from-config");
    start_sleeper(b, id);
    Result r = exec(
        id, {"sh", "-c", "echo \"$FOO $BAR\"; pwd; id -u; id -g; id -G; grep NoNewPrivs /proc/self/status"},
        {"--env", "FOO=from-exec", "--env", "BAR=x", "--cwd", "/tmp", "--user", "1000:1001",
         "--additional-gids", "7", "--no-new-privs"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 6);
    CHECK(l[0] == "from-exec x");
    CHECK(l[1] == "/tmp");
    CHECK(l[2] == "1000");
    CHECK(l[3] == "1001");
    CHECK(l[4].find('7') != std::string::npos);
    CHECK(l[5].find('1') != std::string::npos);
    // Without flags the container's own process settings hold.
    r = exec(id, {"sh", "-c", "echo \"$FOO\"; id -u; pwd; grep NoNewPrivs /proc/self/status"});
    l = lines(r.out);
    REQUIRE(l.size() == 4);
    CHECK(l[0] == "from-config");
    CHECK(l[1] == "0");
    CHECK(l[2] == "/");
}

TEST_CASE("exec --cap adds a capability", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execcap");
    start_sleeper(b, id);
    auto cap_eff = [&](const std::vector<std::string>& opts) {
        Result r = exec(id, {"grep", "CapEff", "/proc/self/status"}, opts);
        INFO(r.err);
        REQUIRE(r.status == 0);
        return std::stoull(trim(r.out.substr(r.out.find(':') + 1)), nullptr, 16);
    };
    const unsigned long long sys_admin = 1ULL << 21;
    CHECK((cap_eff({}) & sys_admin) == 0);
    CHECK((cap_eff({"--cap", "CAP_SYS_ADMIN"}) & sys_admin) != 0);
}

TEST_CASE("exec --cgroup runs in a sub-cgroup of the container's", "[exec][cgroup]") {
    Bundle b;
    const std::string id = unique_id("execcg");
    pid_t init = start_sleeper(b, id);
    std::string rel;
    for (const auto& line : lines(read_file("/proc/" + std::to_string(init) + "/cgroup")))
        if (line.find(":pids:") != std::string::npos) rel = line.substr(line.rfind(':') + 1);
    if (rel.empty() || !exists("/sys/fs/cgroup/pids/tasks")) {
        WARN("skipped: no cgroup v1 pids hierarchy on this host");
        return;
    }
    const std::string sub = "/sys/fs/cgroup/pids" + rel + "/sub";
    REQUIRE(mkdir(sub.c_str(), 0755) == 0);
    Result r = exec(id, {"cat", "/proc/self/cgroup"}, {"--cgroup", "pids:sub"});
    Result other = exec(id, {"cat", "/proc/self/cgroup"});
    rmdir(sub.c_str());
    INFO(r.err);
    REQUIRE(r.status == 0);
    bool in_sub = false, mem_in_sub = false;
    for (const auto& line : lines(r.out)) {
        if (line.find(":pids:") != std::string::npos) in_sub = line.ends_with("/sub");
        if (line.find(":memory:") != std::string::npos) mem_in_sub = line.ends_with("/sub");
    }
    CHECK(in_sub);
    CHECK(!mem_in_sub);  // only the named controller's hierarchy
    CHECK(other.out.find("/sub") == std::string::npos);
}

TEST_CASE("exec --process FILE", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execp");
    start_sleeper(b, id);
    TempDir t;
    json p = {{"args", {"sh", "-c", "echo \"$ONLY\"; pwd; id -u"}},
              {"env", {"PATH=/bin:/usr/bin", "ONLY=from-process-json"}},
              {"cwd", "/etc"},
              {"user", {{"uid", 42}, {"gid", 42}}}};
    write_file(t.path() + "/process.json", p.dump());
    Result r = exec(id, {}, {"--process", t.path() + "/process.json"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out == "from-process-json\n/etc\n42\n");
}

TEST_CASE("exec --process with a bad process.json: one line naming the file and the field",
          "[exec][errors][rt-only]") {
    Bundle b;
    const std::string id = unique_id("execpb");
    start_sleeper(b, id);
    TempDir t;
    write_file(t.path() + "/process.json", json{{"args", json::array()}, {"cwd", "/"}}.dump());
    Result r = exec(id, {}, {"--process", t.path() + "/process.json"});
    CHECK(r.status != 0);
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.find(t.path() + "/process.json: args:") != std::string::npos);
}

TEST_CASE("exec --tty hands the pty to --console-socket; input is echoed back", "[exec][terminal]") {
    TempDir t;
    Process rv = spawn({tools_dir() + "/recvtty", "--ready-file", t.path() + "/ready", "--echo-input",
                        "hello\n", "--output", t.path() + "/out", t.path() + "/sock"});
    REQUIRE(wait_for([&] { return exists(t.path() + "/ready"); }));
    Bundle b;
    const std::string id = unique_id("exectty");
    start_sleeper(b, id);
    Result r = exec(
        id, {"sh", "-c", "tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; read x; echo \"got:$x\""},
        {"--tty", "--detach", "--console-socket", t.path() + "/sock"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    Result rr = rv.wait(10);
    CHECK(rr.status == 0);
    std::string out = read_file(t.path() + "/out");
    INFO(out);
    CHECK(out.find("/dev/pts/") != std::string::npos);
    CHECK(out.find("all-tty") != std::string::npos);
    CHECK(out.find("hello") != std::string::npos);  // the pty's echo of what recvtty typed
    CHECK(out.find("got:hello") != std::string::npos);
}

TEST_CASE("exec --tty in the foreground relays the terminal", "[exec][terminal]") {
    Bundle b;
    const std::string id = unique_id("exectfg");
    start_sleeper(b, id);
    Result r = run_in_terminal(
        {"exec", "--tty", id, "sh", "-c", "tty; echo ready; read x; echo \"got:$x\"; exit 3"});
    INFO(r.out << r.err);
    REQUIRE(r.out.find("ready") != std::string::npos);
    CHECK(r.status == 3);
    CHECK(r.out.find("/dev/pts/") != std::string::npos);
    CHECK(r.out.find("got:hello") != std::string::npos);
}

TEST_CASE("exec --tty --detach without --console-socket is an error", "[exec][terminal][errors]") {
    Bundle b;
    const std::string id = unique_id("exectno");
    start_sleeper(b, id);
    Result r = exec(id, {"true"}, {"--tty", "--detach"});
    CHECK(r.status != 0);
    CHECK(r.err.find("console socket") != std::string::npos);
}

TEST_CASE("exec --preserve-fds passes exactly those fds", "[exec]") {
    Bundle b;
    const std::string id = unique_id("execfd");
    start_sleeper(b, id);
    TempDir t;
    const std::string pid_file = t.path() + "/pid";
    // fds 3, 4 and 5 open in the caller; 3 and 4 are passed, 5 is not.
    std::string cmd = "exec 3</etc/hostname 4</etc/passwd 5</etc/group; exec " +
                      shell_quote(rt_argv({"exec", "--preserve-fds", "2", "--detach", "--pid-file", pid_file,
                                           id, "sleep", "1000"}));
    Result r = sh(cmd);
    INFO(r.err);
    REQUIRE(r.status == 0);
    pid_t p = read_pid_file(pid_file);
    auto fds = list_dir("/proc/" + std::to_string(p) + "/fd");
    CHECK(fds == std::vector<std::string>{"0", "1", "2", "3", "4"});
    char buf[256] = {};
    std::string fd3 = "/proc/" + std::to_string(p) + "/fd/3";
    ssize_t n = readlink(fd3.c_str(), buf, sizeof buf - 1);
    CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "/etc/hostname");

    // Without --preserve-fds only stdio cross.
    r = sh("exec 3</etc/hostname; exec " +
           shell_quote(rt_argv({"exec", "--detach", "--pid-file", pid_file, id, "sleep", "1000"})));
    REQUIRE(r.status == 0);
    p = read_pid_file(pid_file);
    CHECK(list_dir("/proc/" + std::to_string(p) + "/fd") == std::vector<std::string>{"0", "1", "2"});
}

TEST_CASE("50 concurrent execs into one container: all succeed, no zombie, no leaked fd", "[exec]") {
    Bundle b;
    const std::string id = unique_id("exec50");
    pid_t init = start_sleeper(b, id);
    auto init_fds = list_dir("/proc/" + std::to_string(init) + "/fd");
    std::vector<Process> ps;
    for (int i = 0; i < 50; ++i)
        ps.push_back(rt_bg({"exec", id, "sh", "-c", "ls /proc/$$/fd; echo n=" + std::to_string(i)}));
    std::set<std::string> seen;
    for (size_t i = 0; i < ps.size(); ++i) {
        Result r = ps[i].wait(60);
        INFO("exec " << i << ": " << r.err);
        CHECK(r.status == 0);
        auto l = lines(r.out);
        REQUIRE(!l.empty());
        seen.insert(l.back());
        // The shell's fds: stdio, and 10+ that busybox sh keeps for itself; nothing of rt's.
        for (size_t k = 0; k + 1 < l.size(); ++k) {
            INFO("fd " << l[k]);
            int fd = std::stoi(l[k]);
            CHECK((fd <= 2 || fd >= 10));
        }
    }
    CHECK(seen.size() == 50);
    // Nothing is left: no exec process or zombie under the container's init or this test, and the
    // init holds the same fds as before.
    CHECK(children_of(init).empty());
    for (pid_t c : children_of(getpid())) {
        INFO("child " << c);
        CHECK(!is_zombie(c));
    }
    CHECK(list_dir("/proc/" + std::to_string(init) + "/fd") == init_fds);
    CHECK(pid_alive(init));
    Result r = exec(id, {"ps", "-o", "pid,comm"});
    INFO(r.out);
    CHECK(lines(r.out).size() == 3);  // header, sleep, ps
}

TEST_CASE("exec into a stopped or unknown container fails with a clear message", "[exec][errors]") {
    Bundle b;
    SECTION("stopped") {
        const std::string id = unique_id("execst");
        b.args({"true"});
        REQUIRE(b.create(id).status == 0);
        REQUIRE(b.start(id).status == 0);
        REQUIRE(wait_for([&] { return status_of(id) == "stopped"; }, 10));
        Result r = exec(id, {"true"});
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("stopped") != std::string::npos);
        CHECK(lines(r.err).size() == 1);
    }
    SECTION("unknown") {
        const std::string id = unique_id("execno");
        Result r = exec(id, {"true"});
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("does not exist") != std::string::npos);
        CHECK(lines(r.err).size() == 1);
        CHECK(!exists(state_root() + "/" + id));
    }
    SECTION("not found in the container") {
        const std::string id = unique_id("execnf");
        start_sleeper(b, id);
        Result r = exec(id, {"no-such-program"});
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("no-such-program") != std::string::npos);
        CHECK(status_of(id) == "running");
    }
}

TEST_CASE("exec into a container with a user namespace", "[exec][userns]") {
    Bundle b;
    const std::string id = unique_id("execu");
    auto& lx = b.config()["linux"];
    lx["namespaces"].push_back({{"type", "user"}});
    lx["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
    lx["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", 200000}, {"size", 65536}}});
    // sysfs cannot be mounted from a user namespace without a network namespace of its own: bind it.
    for (auto& m : b.config()["mounts"])
        if (m["destination"] == "/sys")
            m = {{"destination", "/sys"},
                 {"type", "none"},
                 {"source", "/sys"},
                 {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
    pid_t init = 0;
    try {
        init = start_sleeper(b, id);
    } catch (const std::exception& e) {
        WARN("skipped: a user-namespace container does not start here: " << e.what());
        return;
    }
    Result r = exec(id, {"sh", "-c", "id -u; cat /proc/self/uid_map"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 2);
    CHECK(l[0] == "0");
    CHECK(l[1].find("200000") != std::string::npos);
    Result u = exec(id, {"readlink", "/proc/self/ns/user"});
    CHECK(trim(u.out) == ns_link(init, "user"));
}

// Item 2 of the exec issue for run and create: socket activation as runc passes it.
TEST_CASE("run passes LISTEN_FDS sockets into the container, before --preserve-fds", "[stdio]") {
    Bundle b;
    const std::string id = unique_id("listen");
    // Not ls as the last command: busybox sh would exec it, and ls would list its own fds.
    b.args({"sh", "-c", "echo \"$LISTEN_FDS $LISTEN_PID\"; ls /proc/$$/fd; echo end"});
    b.save();
    b.track(id);
    // `exec` keeps the shell's pid, so LISTEN_PID names the runtime, as systemd would set it.
    Result r =
        sh("exec 3</etc/hostname 4</etc/passwd 5</etc/group 6</etc/group; LISTEN_FDS=2 LISTEN_PID=$$ exec " +
           shell_quote(rt_argv({"run", "--preserve-fds", "1", "--bundle", b.dir(), id})));
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() >= 2);
    CHECK(l[0] == "2 1");
    CHECK(l.back() == "end");
    std::vector<std::string> fds(l.begin() + 1, l.end() - 1);
    std::vector<std::string> low;
    for (const auto& f : fds)
        if (std::stoi(f) < 10) low.push_back(f);  // busybox sh keeps 10+ for itself
    CHECK(low == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});
}
