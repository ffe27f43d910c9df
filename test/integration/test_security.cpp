// Privilege reduction and the escape defenses: seccomp (every action, argument filters, notify
// with a listener, rt's default profile, the filter cache), masked and read-only paths, sysctl
// namespace checks, scheduler, ioPriority, personality, LSM labels, and the attacks of
// CVE-2019-5736 and CVE-2024-21626 tried for real.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

Result run_sh(Bundle& b, const std::string& script, const std::string& prefix = "sec") {
    b.args({"sh", "-c", script});
    return b.run(unique_id(prefix));
}

json rule(std::vector<std::string> names, const std::string& action, json extra = json::object()) {
    json r = {{"names", names}, {"action", action}};
    for (auto& [k, v] : extra.items()) r[k] = v;
    return r;
}

json allow_all(json rules) { return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", rules}}; }

// A failed create/run must leave no state directory behind.
void check_nothing_left(const std::string& id) {
    CHECK(!exists(state_root() + "/" + id));
    CHECK(rt({"state", id}).status != 0);
}

// b's container fails to run with an error containing needle, and leaves nothing behind.
void expect_refused(Bundle& b, const std::string& needle, const std::string& prefix = "refused") {
    const std::string id = unique_id(prefix);
    Result r = b.run(id);
    INFO(b.config().dump());
    INFO(r.err);
    CHECK(r.status != 0);
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(lines(r.err).size() == 1);
    check_nothing_left(id);
}

// The process's /proc/self/stat fields after the command name: index 0 is field 3 (state).
std::vector<std::string> stat_fields(const std::string& stat) {
    std::vector<std::string> f;
    std::string rest = stat.substr(stat.rfind(')') + 2);
    size_t p = 0;
    while (p < rest.size()) {
        size_t e = rest.find(' ', p);
        if (e == std::string::npos) e = rest.size();
        f.push_back(rest.substr(p, e - p));
        p = e + 1;
    }
    return f;
}

}  // namespace

// [rt-only] marks what runc 1.1 (Debian's, used to validate these tests) does not do or words
// differently: scheduler, ioPriority and personality are newer than it, and error texts are rt's.

// ---- seccomp ------------------------------------------------------------------------------

TEST_CASE("seccomp: SCMP_ACT_ERRNO with errnoRet", "[seccomp]") {
    Bundle b;
    b.config()["linux"]["seccomp"] =
        allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 28}})});
    Result r = run_sh(b, "mkdir /tmp/x 2>&1; echo rc=$?; touch /tmp/y && echo touched");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("No space left on device") != std::string::npos);
    CHECK(r.out.find("rc=1") != std::string::npos);
    CHECK(r.out.find("touched") != std::string::npos);
}

TEST_CASE("seccomp: default action errno without errnoRet is EPERM", "[seccomp]") {
    Bundle b;
    json s = {{"defaultAction", "SCMP_ACT_ALLOW"},
              {"syscalls", {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO")}}};
    b.config()["linux"]["seccomp"] = s;
    Result r = run_sh(b, "mkdir /tmp/x 2>&1; true");
    CHECK(r.out.find("Operation not permitted") != std::string::npos);
}

TEST_CASE("seccomp: argument conditions (EQ, MASKED_EQ)", "[seccomp]") {
    Bundle b;
    // kill(pid, sig): deny SIGUSR1 (10) exactly, and any signal whose low 4 bits are 12 (SIGUSR2).
    json r1 =
        rule({"kill"}, "SCMP_ACT_ERRNO", {{"args", {{{"index", 1}, {"value", 10}, {"op", "SCMP_CMP_EQ"}}}}});
    json r2 =
        rule({"kill"}, "SCMP_ACT_ERRNO",
             {{"args", {{{"index", 1}, {"value", 15}, {"valueTwo", 12}, {"op", "SCMP_CMP_MASKED_EQ"}}}}});
    b.config()["linux"]["seccomp"] = allow_all({r1, r2});
    Result r = run_sh(b,
                      "trap '' USR1 USR2 HUP; kill -USR1 $$ 2>/dev/null; echo usr1=$?; "
                      "kill -USR2 $$ 2>/dev/null; echo usr2=$?; kill -HUP $$; echo hup=$?; "
                      "kill -0 $$; echo zero=$?");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "usr1=1\nusr2=1\nhup=0\nzero=0\n");
}

TEST_CASE("seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS", "[seccomp]") {
    Bundle b;
    b.config()["linux"]["seccomp"] = allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_KILL_PROCESS")});
    Result r = run_sh(b, "(mkdir /tmp/k); echo after=$?");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "after=159\n");  // 128 + SIGSYS
}

TEST_CASE("seccomp: SCMP_ACT_KILL of the container process is its exit code", "[seccomp]") {
    Bundle b;
    b.config()["linux"]["seccomp"] = allow_all({rule({"uname"}, "SCMP_ACT_KILL")});
    b.args({"uname"});
    Result r = b.run(unique_id("kill"));
    CHECK(r.status == 128 + 31);
}

TEST_CASE("seccomp: SCMP_ACT_TRAP, SCMP_ACT_LOG and SCMP_ACT_TRACE", "[seccomp]") {
    Bundle b;
    json rules = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_TRAP"), rule({"getcwd"}, "SCMP_ACT_LOG"),
                  rule({"sethostname"}, "SCMP_ACT_TRACE", {{"errnoRet", 1}})};
    b.config()["linux"]["seccomp"] = allow_all(rules);
    // TRAP raises SIGSYS; LOG allows; TRACE without a tracer fails the call with ENOSYS.
    // (Subshells: busybox may run an applet inside the shell process itself.)
    Result r = run_sh(b, "(mkdir /tmp/a); echo trap=$?; cd /tmp && pwd; (hostname foo 2>&1); echo trace=$?");
    INFO(r.err);
    CHECK(r.out.find("trap=159") != std::string::npos);
    CHECK(r.out.find("/tmp\n") != std::string::npos);
    CHECK(r.out.find("Function not implemented") != std::string::npos);
    CHECK(r.out.find("trace=1") != std::string::npos);
}

TEST_CASE("seccomp: an allow-list default denies everything else", "[seccomp][rt-only]") {
    Bundle b;
    TempDir t;
    Result s = rt({"spec", "--bundle", t.path(), "--seccomp", "default"});
    REQUIRE(s.status == 0);
    json profile = json::parse(read_file(t.path() + "/config.json"))["linux"]["seccomp"];
    REQUIRE(profile["defaultAction"] == "SCMP_ACT_ERRNO");
    b.config()["linux"]["seccomp"] = profile;
    // Even with CAP_SYS_ADMIN the profile keeps mount(2) and unshare(2) out.
    for (auto set : {"bounding", "effective", "permitted"})
        b.config()["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
    Result r = run_sh(b,
                      "echo hello | cat | tr a-z A-Z; ls / >/dev/null && echo ls-ok; "
                      "mount -t tmpfs none /tmp 2>&1; echo mount=$?; unshare -n true 2>&1; echo unshare=$?");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("HELLO\n") != std::string::npos);
    CHECK(r.out.find("ls-ok\n") != std::string::npos);
    CHECK(r.out.find("mount=") != std::string::npos);
    CHECK(r.out.find("mount=0") == std::string::npos);
    CHECK(r.out.find("unshare=0") == std::string::npos);

    SECTION("without the profile the same container may mount") {
        b.config()["linux"].erase("seccomp");
        Result r2 = run_sh(b, "mount -t tmpfs none /tmp 2>&1; echo mount=$?");
        INFO(r2.err);
        CHECK(r2.out.find("mount=0") != std::string::npos);
    }
}

TEST_CASE("seccomp: loaded with and without noNewPrivileges, for a non-root user", "[seccomp]") {
    Bundle b;
    b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    b.config()["linux"]["seccomp"] =
        allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 28}})});
    for (bool nnp : {true, false}) {
        b.config()["process"]["noNewPrivileges"] = nnp;
        Result r =
            run_sh(b, "id -u; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/q 2>&1; true");
        INFO("noNewPrivileges " << nnp << ": " << r.err);
        CHECK(r.status == 0);
        CHECK(r.out.find("1000\n") == 0);
        CHECK(r.out.find("Seccomp:\t2") != std::string::npos);
        CHECK(r.out.find(std::string("NoNewPrivs:\t") + (nnp ? "1" : "0")) != std::string::npos);
        CHECK(r.out.find("No space left on device") != std::string::npos);
    }
}

TEST_CASE("seccomp: unknown syscall names are skipped", "[seccomp]") {
    Bundle b;
    b.config()["linux"]["seccomp"] = allow_all(
        {rule({"no_such_syscall_at_all", "mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 28}})});
    Result r = run_sh(b, "mkdir /tmp/x 2>&1; true");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("No space left on device") != std::string::npos);
}

TEST_CASE("seccomp: bad profiles are one-line errors naming the JSON path; nothing is left",
          "[seccomp][rt-only]") {
    struct Case {
        json seccomp;
        std::string needle;
    };
    std::vector<Case> cases = {
        {allow_all({rule({"mkdir"}, "SCMP_ACT_EXPLODE")}),
         "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_EXPLODE\""},
        {allow_all({rule({"kill"}, "SCMP_ACT_ERRNO",
                         {{"args", {{{"index", 1}, {"value", 1}, {"op", "SCMP_CMP_ALMOST"}}}}})}),
         "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ALMOST\""},
        {allow_all({rule({"kill"}, "SCMP_ACT_ERRNO",
                         {{"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}})}),
         "linux.seccomp.syscalls[0].args[0].index: must be 0 to 5"},
        {allow_all({rule({"mkdir"}, "SCMP_ACT_NOTIFY")}),
         "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
        {{{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}},
         "linux.seccomp.architectures[0]: unknown architecture"},
        {{{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_MAGIC"}}},
         "linux.seccomp.flags[0]: unknown flag"},
        {{{"syscalls", json::array()}}, "linux.seccomp.defaultAction: required"},
        {allow_all({rule({"mkdir"}, "SCMP_ACT_ALLOW", {{"errnoRet", 1}})}), "errnoRet is only valid with"},
    };
    for (const auto& c : cases) {
        Bundle b;
        b.config()["linux"]["seccomp"] = c.seccomp;
        expect_refused(b, c.needle, "badsec");
    }
}

TEST_CASE("seccomp: SCMP_ACT_NOTIFY hands the listener fd and the state to listenerPath",
          "[seccomp][notify][rt-only]") {
    TempDir t;
    const std::string sock = t.path() + "/agent.sock", out = t.path() + "/state.json";
    Process agent = spawn({tools_dir() + "/seccomp-agent", sock, out, "28"});
    REQUIRE(agent.wait_output("ready"));

    Bundle b;
    json s = allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_NOTIFY")});
    s["listenerPath"] = sock;
    s["listenerMetadata"] = "meta-for-agent";
    b.config()["linux"]["seccomp"] = s;
    const std::string id = unique_id("notify");
    b.args({"sh", "-c", "mkdir /tmp/n 2>&1; echo rc=$?; test -d /tmp/n || echo absent"});
    Result r = b.run(id);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("No space left on device") != std::string::npos);  // the agent's answer
    CHECK(r.out.find("absent") != std::string::npos);

    Result a = agent.wait(10);
    INFO(a.err);
    CHECK(a.status == 0);
    json st = json::parse(read_file(out));
    CHECK(st["fds"] == json::array({"seccompFd"}));
    CHECK(st["metadata"] == "meta-for-agent");
    CHECK(st["pid"].get<int>() > 0);
    CHECK(st["state"]["id"] == id);
    CHECK(st["state"]["pid"] == st["pid"]);
    CHECK(st.contains("ociVersion"));
    CHECK(read_file(out + ".log").find("syscall ") != std::string::npos);
}

TEST_CASE("seccomp: an unreachable listener fails start with a clear error", "[seccomp][notify][rt-only]") {
    TempDir t;
    Bundle b;
    json s = allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_NOTIFY")});
    s["listenerPath"] = t.path() + "/nobody.sock";
    b.config()["linux"]["seccomp"] = s;
    const std::string id = unique_id("nolisten");
    Result r = b.run(id);
    CHECK(r.status != 0);
    CHECK(r.err.find("seccomp listener " + t.path() + "/nobody.sock") != std::string::npos);
    check_nothing_left(id);
}

TEST_CASE("seccomp: the compiled filter is cached under the state root", "[seccomp][rt-only]") {
    Bundle b;
    json s = allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 28}}),
                        rule({"acct"}, "SCMP_ACT_ERRNO", {{"errnoRet", 1}})});
    s["syscalls"][1]["names"].push_back("cache-test-" + unique_id());  // a profile no test used before
    b.config()["linux"]["seccomp"] = s;
    b.args({"true"});
    b.save();
    Result r1 = rt({"--debug", "run", "--bundle", b.dir(), unique_id("cache")});
    Result r2 = rt({"--debug", "run", "--bundle", b.dir(), unique_id("cache")});
    INFO(r1.err);
    INFO(r2.err);
    CHECK(r1.status == 0);
    CHECK(r2.status == 0);
    CHECK(r1.err.find("seccomp: filter compiled and cached") != std::string::npos);
    CHECK(r2.err.find("seccomp: filter loaded from the cache") != std::string::npos);
    auto files = list_dir(state_root() + "/seccomp");
    CHECK(!files.empty());

    SECTION("a corrupted cache file is a miss, not a wrong filter") {
        for (const auto& f : files) write_file(state_root() + "/seccomp/" + f, "garbage");
        b.args({"sh", "-c", "mkdir /tmp/x 2>&1; true"});
        b.save();
        Result r3 = rt({"--debug", "run", "--bundle", b.dir(), unique_id("cache")});
        CHECK(r3.err.find("seccomp: filter compiled and cached") != std::string::npos);
        CHECK(r3.out.find("No space left on device") != std::string::npos);
    }
}

// ---- masked and read-only paths -------------------------------------------------------------

TEST_CASE("default masked paths are empty and /proc/sys, /proc/sysrq-trigger are read-only", "[paths]") {
    Bundle b;
    // Each masked file that exists on this kernel reads as empty; each masked directory is empty.
    Result r =
        run_sh(b,
               "for f in /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats "
               "/proc/sched_debug; do [ -e $f ] && echo \"$f $(wc -c < $f)\"; done; "
               "for d in /proc/acpi /proc/scsi /sys/firmware; do [ -d $d ] && echo \"$d $(ls -A $d | wc "
               "-l)\"; done; "
               "grep -E ' /proc/(sys|sysrq-trigger|bus|irq|fs) ' /proc/self/mountinfo");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    int masked = 0, ro = 0, mounts = 0;
    for (const auto& l : lines(r.out)) {
        INFO(l);
        if (l.rfind("/proc/", 0) == 0 || l.rfind("/sys/", 0) == 0) {
            CHECK(l.substr(l.rfind(' ') + 1) == "0");
            ++masked;
        } else {
            ++mounts;
            CHECK(l.find(" ro,") != std::string::npos);
            ro += l.find(" /proc/sysrq-trigger ") != std::string::npos ||
                  l.find(" /proc/sys ") != std::string::npos;
        }
    }
    CHECK(masked >= 2);  // /proc/keys and /proc/timer_list exist on every kernel rt supports
    CHECK(mounts >= 2);
    CHECK(ro == (exists("/proc/sysrq-trigger") ? 2 : 1));  // this kernel may lack sysrq
}

TEST_CASE("maskedPaths: a file shows /dev/null, a directory an empty read-only tmpfs", "[paths]") {
    Bundle b;
    ::mkdir((b.rootfs() + "/secret-dir").c_str(), 0755);
    write_file(b.rootfs() + "/secret-dir/key", "dir-secret");
    write_file(b.rootfs() + "/secret-file", "file-secret");
    b.config()["linux"]["maskedPaths"] = {"/secret-dir", "/secret-file", "/does/not/exist"};
    Result r = run_sh(
        b, "cat /secret-file; ls -A /secret-dir; touch /secret-dir/x 2>/dev/null || echo ro; echo end");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "ro\nend\n");
}

TEST_CASE("readonlyPaths: writes fail, reads work", "[paths]") {
    Bundle b;
    ::mkdir((b.rootfs() + "/data").c_str(), 0755);
    write_file(b.rootfs() + "/data/f", "content\n");
    b.config()["linux"]["readonlyPaths"] = {"/data"};
    Result r = run_sh(
        b, "cat /data/f; echo x > /data/f 2>/dev/null || echo ro; touch /data/new 2>/dev/null || echo ro2");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "content\nro\nro2\n");
}

TEST_CASE("masked and read-only paths behind rootfs symlinks resolve inside the rootfs", "[paths][escape]") {
    Bundle b;
    // /escape -> /etc inside the rootfs: under chroot rules that is <rootfs>/etc, never the host's.
    ::symlink("/etc", (b.rootfs() + "/escape").c_str());
    ::symlink("../../../../../../etc", (b.rootfs() + "/escape2").c_str());
    write_file(b.rootfs() + "/etc/rt-masked", "inside-secret");
    write_file(b.rootfs() + "/etc/rt-ro", "inside-ro\n");
    b.config()["linux"]["maskedPaths"] = {"/escape/rt-masked"};
    b.config()["linux"]["readonlyPaths"] = {"/escape2/rt-ro"};
    Result r =
        run_sh(b, "cat /etc/rt-masked; echo; cat /etc/rt-ro; (echo >> /etc/rt-ro) 2>/dev/null || echo ro");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "\ninside-ro\nro\n");
    CHECK(!exists("/etc/rt-masked"));
    CHECK(!exists("/etc/rt-ro"));
}

// ---- sysctl -----------------------------------------------------------------------------------

TEST_CASE("sysctl: namespaced keys are set inside", "[sysctl]") {
    Bundle b;
    b.config()["linux"]["sysctl"] = {
        {"net.ipv4.ip_forward", "1"}, {"kernel.shmmni", "1234"}, {"fs.mqueue.msg_max", "42"}};
    Result r =
        run_sh(b, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/fs/mqueue/msg_max");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "1\n1234\n42\n");
}

TEST_CASE("sysctl: keys outside the container's namespaces are refused", "[sysctl][rt-only]") {
    struct Case {
        std::string key;
        std::string remove_ns;
        std::string needle;
    };
    for (const Case& c : std::vector<Case>{
             {"vm.swappiness", "", "not namespaced"},
             {"net.ipv4.ip_forward", "network", "needs a private network namespace"},
             {"kernel.msgmax", "ipc", "needs a private IPC namespace"},
             {"kernel.domainname", "uts", "needs a private UTS namespace"},
         }) {
        Bundle b;
        if (!c.remove_ns.empty()) b.remove_namespace(c.remove_ns);
        if (c.remove_ns == "uts") b.config().erase("hostname");
        b.config()["linux"]["sysctl"] = {{c.key, "1"}};
        expect_refused(b, "linux.sysctl: \"" + c.key + "\": " + c.needle, "sysctl");
    }
}

// ---- scheduler, ioPriority, personality, LSM ---------------------------------------------------

TEST_CASE("process.scheduler: policy and nice", "[sched][rt-only]") {
    Bundle b;
    b.config()["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 7}};
    Result r = run_sh(b, "cat /proc/self/stat");
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto f = stat_fields(trim(r.out));
    REQUIRE(f.size() > 38);
    CHECK(f[19 - 3] == "7");  // nice
    CHECK(f[41 - 3] == "3");  // policy: SCHED_BATCH
}

TEST_CASE("process.scheduler: bad values are errors with the path", "[sched][rt-only]") {
    Bundle b;
    b.config()["process"]["scheduler"] = {{"policy", "SCHED_FASTEST"}};
    expect_refused(b, "process.scheduler.policy: unknown policy \"SCHED_FASTEST\"", "sched");
}

TEST_CASE("process.ioPriority is the container process's I/O priority", "[ioprio][rt-only]") {
    Bundle b;
    b.config()["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
    Result r = run_sh(b, "ionice");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("prio 6") != std::string::npos);
    CHECK(r.out.find("best") != std::string::npos);
}

TEST_CASE("linux.personality LINUX32", "[personality][rt-only]") {
    struct utsname u {};
    ::uname(&u);
    if (std::string(u.machine) != "x86_64") {
        WARN("SKIP: LINUX32 personality test needs an x86_64 host, this is " << u.machine);
        return;
    }
    Bundle b;
    b.config()["linux"]["personality"] = {{"domain", "LINUX32"}};
    Result r = run_sh(b, "uname -m");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "i686\n");
}

TEST_CASE("LSM labels: a clear error when the LSM is not active", "[lsm][rt-only]") {
    bool apparmor = read_file("/sys/module/apparmor/parameters/enabled").rfind("Y", 0) == 0;
    bool selinux = exists("/sys/fs/selinux/enforce");
    if (apparmor || selinux) {
        WARN("SKIP: this host has " << (apparmor ? "AppArmor" : "SELinux")
                                    << " active; applying labels needs a profile loaded for the test");
        return;
    }
    struct Case {
        std::string where, field, value, needle;
    };
    for (const Case& c : std::vector<Case>{
             {"process", "apparmorProfile", "rt-test",
              "process.apparmorProfile: AppArmor is not enabled on this host"},
             {"process", "selinuxLabel", "system_u:system_r:container_t:s0",
              "process.selinuxLabel: SELinux is not enabled"},
             {"linux", "mountLabel", "system_u:object_r:container_file_t:s0",
              "linux.mountLabel: SELinux is not enabled"},
         }) {
        Bundle b;
        b.config()[c.where][c.field] = c.value;
        expect_refused(b, c.needle, "lsm");
    }
}

// ---- escape defenses ------------------------------------------------------------------------

TEST_CASE("CVE-2019-5736: the runtime's binary is never executed in the container", "[escape][rt-only]") {
    Bundle b;
    write_file(b.rootfs() + "/evil", "#!/proc/self/exe\n");
    ::chmod((b.rootfs() + "/evil").c_str(), 0755);
    write_file(b.rootfs() + "/evil2", "#!/evil\n");
    ::chmod((b.rootfs() + "/evil2").c_str(), 0755);
    ::symlink("/proc/self/exe", (b.rootfs() + "/evil3").c_str());
    for (std::string target : {"/proc/self/exe", "/evil", "/evil2", "/evil3"}) {
        b.args({target});
        expect_refused(b, "refusing to run the runtime's own binary", "cve5736");
    }
}

TEST_CASE("CVE-2019-5736: a waiting init can't be reopened through /proc/<pid>/exe", "[escape][rt-only]") {
    Bundle a;
    a.args({"true"});
    const std::string ida = unique_id("victim");
    Result c = a.create(ida);
    REQUIRE(c.status == 0);
    int pid = state(ida)["pid"].get<int>();
    // A second container in the first one's pid namespace, without CAP_SYS_PTRACE, tries to read
    // its pid 1 (the runtime's init, waiting for start).
    Bundle b;
    for (auto& ns : b.config()["linux"]["namespaces"])
        if (ns["type"] == "pid") ns["path"] = "/proc/" + std::to_string(pid) + "/ns/pid";
    Result r =
        run_sh(b, "readlink /proc/1/exe; echo link=$?; cat /proc/1/exe > /dev/null 2>&1; echo open=$?");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("link=0") == std::string::npos);
    CHECK(r.out.find("open=1") != std::string::npos);
}

TEST_CASE("CVE-2024-21626: process.cwd can't reach the host through a leaked fd", "[escape]") {
    Bundle b;
    b.args({"sh", "-c", "pwd; ls"});
    for (int fd = 3; fd <= 12; ++fd) {
        b.config()["process"]["cwd"] = "/proc/self/fd/" + std::to_string(fd);
        const std::string id = unique_id("cve21626");
        Result r = b.run(id);
        INFO("cwd /proc/self/fd/" << fd << ": " << r.out << r.err);
        CHECK(r.status != 0);
    }
}

TEST_CASE("seccomp: rt exec runs under the container's profile", "[seccomp][exec]") {
    Bundle b;
    b.config()["linux"]["seccomp"] =
        allow_all({rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", {{"errnoRet", 28}})});
    const std::string id = unique_id("secexec");
    start_sleeper(b, id);
    Result r = rt({"exec", id, "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/e 2>&1; true"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("Seccomp:\t2") != std::string::npos);
    CHECK(r.out.find("No space left on device") != std::string::npos);
}

TEST_CASE("CVE-2019-5736: rt exec refuses the runtime's binary too", "[escape][exec][rt-only]") {
    Bundle b;
    write_file(b.rootfs() + "/evil", "#!/proc/self/exe\n");
    ::chmod((b.rootfs() + "/evil").c_str(), 0755);
    const std::string id = unique_id("cveexec");
    start_sleeper(b, id);
    for (std::string target : {"/proc/self/exe", "/evil"}) {
        Result r = rt({"exec", id, target});
        INFO(target << ": " << r.err);
        CHECK(r.status != 0);
        CHECK(r.err.find("refusing to run the runtime's own binary") != std::string::npos);
    }
}
