// Integration tests: bridge networking from the rt.network.* annotations (design.md section 4)
// and the rt-network-hook under runc.
//
// No test touches this machine's own network: each one first makes a network namespace of its
// own (`ip netns add rt-test-<pid>-<n>`) and moves this test process into it (setns), so every rt,
// runc, ip and nsenter it spawns, and every bridge and veth they make, lives there. On the way
// out (also when a check fails) the containers are deleted, the test process returns to its own
// network namespace and the namespace is deleted.
//
// main() comes from harness_main.cpp (linked from the harness library).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.hpp"

using json = nlohmann::json;

namespace {

// A named network namespace this test process runs in while the object lives.
class TestNetns {
public:
    TestNetns() {
        static std::atomic<int> n{0};
        name_ = "rt-test-" + std::to_string(getpid()) + "-" + std::to_string(++n);
        auto r = th::run_argv({"ip", "netns", "add", name_});
        if (r.status != 0) throw std::runtime_error("ip netns add " + name_ + ": " + r.err);
        self_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
        if (self_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            if (fd >= 0) close(fd);
            cleanup();
            throw std::runtime_error("enter network namespace " + name_);
        }
        close(fd);
    }
    ~TestNetns() { cleanup(); }
    TestNetns(const TestNetns&) = delete;
    TestNetns& operator=(const TestNetns&) = delete;

private:
    void cleanup() {
        if (self_ >= 0) {
            setns(self_, CLONE_NEWNET);
            close(self_);
            self_ = -1;
        }
        th::run_argv({"ip", "netns", "delete", name_});
    }
    std::string name_;
    int self_ = -1;
};

// A bundle whose container joins a bridge: the annotations given, CAP_NET_RAW for ping.
void network(th::Bundle& b, const json& annotations) {
    b.config()["annotations"] = annotations;
    for (const char* set : {"bounding", "effective", "permitted", "ambient"})
        b.config()["process"]["capabilities"][set].push_back("CAP_NET_RAW");
}

// Links in the current (test) network namespace.
std::vector<std::string> links(const std::string& filter = "") {
    auto r = th::sh("ip -o link show " + filter + " | cut -d: -f2 | cut -d@ -f1");
    std::vector<std::string> out;
    for (const auto& l : th::lines(r.out))
        if (!th::trim(l).empty()) out.push_back(th::trim(l));
    return out;
}
std::vector<std::string> veths() { return links("type veth"); }
std::vector<std::string> ports(const std::string& bridge) { return links("master " + bridge); }
bool link_exists(const std::string& name) { return th::run_argv({"ip", "link", "show", name}).status == 0; }

// Lease files (addresses) of a bridge under the state root.
std::vector<std::string> leases(const std::string& bridge) {
    return th::list_dir(th::state_root() + "/.network/" + bridge);
}
std::vector<std::string> leases_without_lock(const std::string& bridge) {
    std::vector<std::string> out;
    for (const auto& l : leases(bridge))
        if (l != ".lock") out.push_back(l);
    return out;
}

// Run a command in the network namespace of pid (host binaries: ip).
th::Result in_netns(pid_t pid, const std::vector<std::string>& cmd) {
    std::vector<std::string> argv = {"nsenter", "--net=/proc/" + std::to_string(pid) + "/ns/net", "--"};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return th::run_argv(argv);
}

// "10.200.0.2/24", the IPv4 address of dev in the network namespace of pid ("" when none).
std::string address_of(pid_t pid, const std::string& dev = "eth0") {
    auto r = in_netns(pid, {"ip", "-4", "-o", "addr", "show", "dev", dev});
    auto pos = r.out.find("inet ");
    if (pos == std::string::npos) return "";
    auto end = r.out.find(' ', pos + 5);
    return r.out.substr(pos + 5, end - pos - 5);
}
std::string host_part(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }

pid_t pid_of(const std::string& id) {
    json st = th::state(id);
    return st.is_object() ? st.value("pid", 0) : 0;
}

bool has_state_dir(const std::string& id) {
    for (const auto& e : th::list_dir(th::state_root()))
        if (e == id) return true;
    return false;
}

}  // namespace

TEST_CASE(
    "a container on a bridge: address, routes, lo, /etc files; two containers ping each other and "
    "the gateway; delete leaves nothing",
    "[network]") {
    TestNetns ns;
    th::Bundle b;
    const std::string br = "rtbr-ping";
    network(b,
            {{"rt.network.bridge", br}, {"rt.network.gateway", "10.200.0.1/24"}, {"rt.network.mtu", "1400"}});
    std::string c1 = th::unique_id("net");
    pid_t pid = th::start_sleeper(b, c1);

    // The container's side: eth0 with the first free address, MTU, up, default route, lo up.
    std::string a1 = address_of(pid);
    CHECK(a1 == "10.200.0.2/24");
    auto link = in_netns(pid, {"ip", "-o", "link", "show", "dev", "eth0"});
    CHECK(link.out.find("mtu 1400") != std::string::npos);
    CHECK(link.out.find(",UP") != std::string::npos);
    CHECK(in_netns(pid, {"ip", "route", "show", "default"}).out.find("default via 10.200.0.1 dev eth0") !=
          std::string::npos);
    CHECK(in_netns(pid, {"ip", "-o", "link", "show", "dev", "lo"}).out.find(",UP") != std::string::npos);

    // The host's side: the bridge with the gateway address, one port (the veth, alias rt:<id>).
    CHECK(th::sh("ip -4 -o addr show dev " + br).out.find("inet 10.200.0.1/24") != std::string::npos);
    auto p = ports(br);
    REQUIRE(p.size() == 1);
    CHECK(th::sh("ip -o link show dev " + p[0]).out.find("mtu 1400") != std::string::npos);
    CHECK(th::sh("ip -d link show dev " + p[0]).out.find("alias rt:" + c1) != std::string::npos);
    CHECK(leases_without_lock(br) == std::vector<std::string>{"10.200.0.2"});
    CHECK(th::read_file(th::state_root() + "/.network/" + br + "/10.200.0.2") == c1 + "\n");

    // A second container (rt run, foreground) pings the first and the gateway, and sees its own
    // /etc files, read-only.
    th::Bundle b2;
    network(b2, {{"rt.network.bridge", br}, {"rt.network.dns", "192.0.2.53, 2001:db8::53"}});
    b2.config()["hostname"] = "second";
    b2.args({"sh", "-c",
             "ping -c1 -W5 " + host_part(a1) +
                 " >/dev/null && ping -c1 -W5 10.200.0.1 >/dev/null && echo pings-ok; "
                 "ip -4 -o addr show dev eth0; cat /etc/hostname /etc/hosts /etc/resolv.conf; "
                 "echo x > /etc/hosts 2>/dev/null || echo hosts-read-only"});
    std::string c2 = th::unique_id("net");
    auto r = b2.run(c2);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("pings-ok") != std::string::npos);
    CHECK(r.out.find("inet 10.200.0.3/24") != std::string::npos);
    CHECK(r.out.find("second\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n") !=
          std::string::npos);
    CHECK(r.out.find("10.200.0.3\tsecond\n") != std::string::npos);
    CHECK(r.out.find("nameserver 192.0.2.53\nnameserver 2001:db8::53\n") != std::string::npos);
    CHECK(r.out.find("hosts-read-only") != std::string::npos);
    // rt run removed the second container: its lease and port are gone, the first's remain.
    CHECK(leases_without_lock(br) == std::vector<std::string>{"10.200.0.2"});
    CHECK(ports(br).size() == 1);

    // The first container's /etc/hosts names it too.
    CHECK(th::read_file(b.rootfs() + "/etc/hosts").find("10.200.0.2") ==
          std::string::npos);  // not written into the rootfs
    CHECK(th::read_file("/proc/" + std::to_string(pid) + "/root/etc/hosts").find("10.200.0.2\trt-test\n") !=
          std::string::npos);

    // delete: no veth, no lease, no bridge port; the bridge itself stays.
    CHECK(th::rt({"delete", "--force", c1}).status == 0);
    CHECK(veths().empty());
    CHECK(ports(br).empty());
    CHECK(leases_without_lock(br).empty());
    CHECK(link_exists(br));
}

TEST_CASE("20 concurrent creates get 20 distinct addresses; delete gives them all back", "[network]") {
    TestNetns ns;
    th::Bundle b;
    const std::string br = "rtbr-many";
    network(
        b,
        {{"rt.network.bridge", br}, {"rt.network.address", "auto"}, {"rt.network.gateway", "10.201.0.1/24"}});
    b.args({"sleep", "1000"});
    b.save();
    std::vector<std::string> ids;
    std::vector<th::Process> creates;
    for (int i = 0; i < 20; ++i) {
        ids.push_back(th::unique_id("many"));
        b.track(ids.back());
        creates.push_back(th::rt_bg({"create", "--bundle", b.dir(), ids.back()}));
    }
    for (auto& c : creates) {
        auto r = c.wait(120);
        INFO(r.err);
        CHECK(r.status == 0);
    }
    std::set<std::string> addresses;
    for (const auto& id : ids) {
        pid_t pid = pid_of(id);
        REQUIRE(pid > 0);
        std::string a = address_of(pid);
        CHECK(a.rfind("10.201.0.", 0) == 0);
        CHECK(a != "10.201.0.1/24");
        addresses.insert(a);
    }
    CHECK(addresses.size() == 20);
    CHECK(leases_without_lock(br).size() == 20);
    CHECK(ports(br).size() == 20);

    for (const auto& id : ids) CHECK(th::rt({"delete", "--force", id}).status == 0);
    CHECK(veths().empty());
    CHECK(ports(br).empty());
    CHECK(leases_without_lock(br).empty());
}

TEST_CASE("delete gives the lease back after the container died, and after rt was killed mid-create",
          "[network]") {
    TestNetns ns;
    const std::string br = "rtbr-gone";

    // The init was killed: its network namespace (and veth) went with it; delete frees the lease.
    th::Bundle b;
    network(b, {{"rt.network.bridge", br}, {"rt.network.gateway", "10.202.0.1/24"}});
    std::string c1 = th::unique_id("dead");
    pid_t pid = th::start_sleeper(b, c1);
    REQUIRE(leases_without_lock(br).size() == 1);
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK(th::wait_for([&] { return th::status_of(c1) == "stopped"; }));
    CHECK(th::rt({"delete", c1}).status == 0);
    CHECK(leases_without_lock(br).empty());
    CHECK(veths().empty());

    // rt itself killed during create, after the network was set up (a createRuntime hook kills
    // its parent, rt): a state dir without state.json and a lease are left; delete --force
    // removes both.
    th::Bundle b2;
    network(b2, {{"rt.network.bridge", br}});
    b2.config()["hooks"] = {
        {"createRuntime", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat >/dev/null; kill -9 $PPID"}}}}}};
    std::string c2 = th::unique_id("killed");
    auto r = b2.create(c2);
    CHECK(r.status == 137);
    CHECK(has_state_dir(c2));
    CHECK(leases_without_lock(br).size() == 1);
    CHECK(th::rt({"delete", "--force", c2}).status == 0);
    CHECK_FALSE(has_state_dir(c2));
    // Nor a cgroup, in any hierarchy.
    CHECK(th::sh("find /sys/fs/cgroup -maxdepth 6 -type d -name '" + c2 + "'").out == "");
    CHECK(leases_without_lock(br).empty());
    CHECK(veths().empty());
    CHECK(ports(br).empty());
}

TEST_CASE("config.json mounting /etc/hosts itself keeps it, the other /etc files are rt's; no /etc, no files",
          "[network]") {
    TestNetns ns;
    th::Bundle b;
    th::TempDir t;
    th::write_file(t.path() + "/hosts", "192.0.2.9 mine\n");
    network(b, {{"rt.network.bridge", "rtbr-etc"}, {"rt.network.gateway", "10.203.0.1/24"}});
    b.add_mount({{"destination", "/etc/hosts"},
                 {"type", "bind"},
                 {"source", t.path() + "/hosts"},
                 {"options", {"bind", "ro"}}});
    b.args({"sh", "-c", "cat /etc/hosts /etc/hostname"});
    auto r = b.run(th::unique_id("etc"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "192.0.2.9 mine\nrt-test\n");

    // A rootfs without /etc gets none of the files (rt does not make /etc for them).
    th::Bundle b2;
    network(b2, {{"rt.network.bridge", "rtbr-etc"}});
    REQUIRE(th::sh("rm -rf '" + b2.rootfs() + "/etc'").status == 0);
    b2.args({"sh", "-c", "ip -4 -o addr show dev eth0; test -e /etc && echo has-etc || echo no-etc"});
    r = b2.run(th::unique_id("noetc"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("inet 10.203.0.2/24") != std::string::npos);
    CHECK(r.out.find("no-etc") != std::string::npos);
}

TEST_CASE("every bad network annotation is a one-line error with nothing left behind", "[network]") {
    TestNetns ns;
    struct Case {
        const char* what;
        json annotations;
        std::string error;
        bool new_netns = true;
    };
    const std::vector<Case> cases = {
        {"malformed CIDR",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.address", "10.210.0/24"}},
         "config.json: annotations[\"rt.network.address\"]: \"10.210.0/24\" is not an IPv4 address in CIDR "
         "form"},
        {"address out of range",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.address", "10.210.0.300/24"}},
         "annotations[\"rt.network.address\"]: \"10.210.0.300/24\" is not an IPv4 address in CIDR form"},
        {"prefix out of range",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.address", "10.210.0.5/33"}},
         "annotations[\"rt.network.address\"]: \"10.210.0.5/33\" is not an IPv4 address in CIDR form"},
        {"gateway outside the subnet",
         {{"rt.network.bridge", "rtbr-bad"},
          {"rt.network.address", "10.210.0.5/24"},
          {"rt.network.gateway", "10.211.0.1"}},
         "annotations[\"rt.network.gateway\"]: 10.211.0.1 is outside the subnet 10.210.0.0/24"},
        {"malformed gateway",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.gateway", "gw"}},
         "annotations[\"rt.network.gateway\"]: \"gw\" is not an IPv4 address"},
        {"address is the gateway",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.address", "10.210.0.1/24"}},
         "annotations[\"rt.network.address\"]: 10.210.0.1 is the gateway's address"},
        {"network address",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.address", "10.210.0.0/24"}},
         "annotations[\"rt.network.address\"]: 10.210.0.0 is the network address of 10.210.0.0/24"},
        {"bad MTU",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.mtu", "lots"}},
         "annotations[\"rt.network.mtu\"]: \"lots\" is not an MTU"},
        {"bad interface name",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.interface", "a-very-long-interface"}},
         "annotations[\"rt.network.interface\"]: \"a-very-long-interface\" is not a valid interface name"},
        {"bad bridge name",
         {{"rt.network.bridge", "br/0"}},
         "annotations[\"rt.network.bridge\"]: \"br/0\" is not a valid interface name"},
        {"bad DNS server",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.dns", "1.1.1.1,dns.example"}},
         "annotations[\"rt.network.dns\"]: \"dns.example\" is not an IP address"},
        {"unknown annotation",
         {{"rt.network.bridge", "rtbr-bad"}, {"rt.network.adress", "auto"}},
         "annotations[\"rt.network.adress\"]: unknown network annotation"},
        {"no bridge",
         {{"rt.network.address", "10.210.0.5/24"}},
         "annotations[\"rt.network.address\"]: set without rt.network.bridge"},
        {"no new network namespace",
         {{"rt.network.bridge", "rtbr-bad"}},
         "annotations[\"rt.network.bridge\"]: a network needs a new network namespace",
         false},
    };
    for (const auto& c : cases) {
        SECTION(c.what) {
            th::Bundle b;
            network(b, c.annotations);
            if (!c.new_netns) b.remove_namespace("network");
            std::string id = th::unique_id("bad");
            auto r = b.create(id);
            INFO(r.err);
            CHECK(r.status != 0);
            CHECK(th::lines(r.err).size() == 1);
            CHECK(r.err.find(c.error) != std::string::npos);
            CHECK_FALSE(has_state_dir(id));
            CHECK_FALSE(link_exists("rtbr-bad"));
            CHECK(veths().empty());
            CHECK(leases_without_lock("rtbr-bad").empty());
        }
    }

    SECTION(
        "a failure while attaching (the interface name is taken in the container) undoes the veth and "
        "lease") {
        th::Bundle b;
        network(b, {{"rt.network.bridge", "rtbr-undo"},
                    {"rt.network.gateway", "10.214.0.1/24"},
                    {"rt.network.interface", "lo"}});
        std::string id = th::unique_id("undo");
        auto r = b.create(id);
        INFO(r.err);
        CHECK(r.status != 0);
        CHECK(th::lines(r.err).size() == 1);
        CHECK(r.err.find("network: create veth pair veth") != std::string::npos);
        CHECK(r.err.find("/lo: File exists") != std::string::npos);
        CHECK_FALSE(has_state_dir(id));
        CHECK(veths().empty());
        CHECK(ports("rtbr-undo").empty());
        CHECK(leases_without_lock("rtbr-undo").empty());
    }

    SECTION("address in use, full subnet, bridge with another address, a link that is not a bridge") {
        th::Bundle b;
        network(b, {{"rt.network.bridge", "rtbr-full"}, {"rt.network.address", "10.212.0.2/30"}});
        std::string c1 = th::unique_id("full");
        th::start_sleeper(b, c1);
        const std::vector<std::string> before = {"10.212.0.2"};
        REQUIRE(leases_without_lock("rtbr-full") == before);

        auto expect_error = [&](const json& annotations, const std::string& error,
                                const std::string& bridge) {
            th::Bundle b2;
            network(b2, annotations);
            std::string id = th::unique_id("bad");
            auto r = b2.create(id);
            INFO(r.err);
            CHECK(r.status != 0);
            CHECK(th::lines(r.err).size() == 1);
            CHECK(r.err.find(error) != std::string::npos);
            CHECK_FALSE(has_state_dir(id));
            CHECK(ports(bridge).size() == (bridge == "rtbr-full" ? 1u : 0u));
            CHECK(veths().size() == 1);
        };
        expect_error({{"rt.network.bridge", "rtbr-full"}, {"rt.network.address", "10.212.0.2/30"}},
                     "annotations[\"rt.network.address\"]: 10.212.0.2 is in use by container \"" + c1 + "\"",
                     "rtbr-full");
        expect_error(
            {{"rt.network.bridge", "rtbr-full"}},
            "annotations[\"rt.network.address\"]: auto: no free address left in 10.212.0.0/30 on bridge "
            "rtbr-full",
            "rtbr-full");
        expect_error(
            {{"rt.network.bridge", "rtbr-full"}, {"rt.network.gateway", "10.213.0.1/24"}},
            "annotations[\"rt.network.gateway\"]: bridge rtbr-full has 10.212.0.1/30, not the gateway "
            "10.213.0.1/24",
            "rtbr-full");
        CHECK(leases_without_lock("rtbr-full") == before);

        REQUIRE(th::sh("ip tuntap add rtdummy0 mode tap").status == 0);
        expect_error({{"rt.network.bridge", "rtdummy0"}},
                     "annotations[\"rt.network.bridge\"]: link rtdummy0 exists and is not a bridge (tun)",
                     "rtdummy0");
        CHECK(leases_without_lock("rtdummy0").empty());
        CHECK(th::rt({"delete", "--force", c1}).status == 0);
        CHECK(leases_without_lock("rtbr-full").empty());
    }
}

TEST_CASE("rt-network-hook puts a runc container on an rt bridge (createRuntime attach, poststop detach)",
          "[network]") {
    const std::string runc = "/usr/sbin/runc";
    const char* hook_env = getenv("RT_NETWORK_HOOK");
    if (access(runc.c_str(), X_OK) != 0 || !hook_env || access(hook_env, X_OK) != 0) {
        WARN("skipped: needs " + runc + " and $RT_NETWORK_HOOK (the built rt-network-hook)");
        return;
    }
    const std::string hook = hook_env;
    TestNetns ns;
    const std::string br = "rtbr-hook";

    // An rt container on the bridge...
    th::Bundle b;
    network(b, {{"rt.network.bridge", br}, {"rt.network.gateway", "10.220.0.1/24"}});
    std::string c1 = th::unique_id("hook");
    pid_t pid = th::start_sleeper(b, c1);
    std::string a1 = address_of(pid);
    REQUIRE(a1 == "10.220.0.2/24");

    // ...and a runc container that joins it through the hook (same leases: --root), pings it and
    // the gateway.
    th::Bundle b2;
    network(b2, {{"rt.network.bridge", br}});
    json attach = {{"path", hook}, {"args", {"rt-network-hook", "--root", th::state_root(), "attach"}}};
    json detach = {{"path", hook}, {"args", {"rt-network-hook", "--root", th::state_root(), "detach"}}};
    b2.config()["hooks"] = {{"createRuntime", {attach}}, {"poststop", {detach}}};
    b2.args({"sh", "-c",
             "ip -4 -o addr show dev eth0; ip route show default; ping -c1 -W5 10.220.0.2 >/dev/null && "
             "ping -c1 -W5 10.220.0.1 >/dev/null && echo pings-ok"});
    b2.save();
    th::TempDir runc_root;
    std::string c2 = th::unique_id("runc");
    auto r = th::run_argv({runc, "--root", runc_root.path(), "run", "--bundle", b2.dir(), c2});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("inet 10.220.0.3/24") != std::string::npos);
    CHECK(r.out.find("default via 10.220.0.1 dev eth0") != std::string::npos);
    CHECK(r.out.find("pings-ok") != std::string::npos);
    // runc ran the poststop hook: the runc container's lease is back, its veth gone.
    CHECK(leases_without_lock(br) == std::vector<std::string>{"10.220.0.2"});
    CHECK(ports(br).size() == 1);
    th::run_argv({runc, "--root", runc_root.path(), "delete", "--force", c2});

    // A bad annotation fails the hook, and so runc's create, with the hook's one-line error.
    th::Bundle b3;
    network(b3, {{"rt.network.bridge", br}, {"rt.network.mtu", "9"}});
    b3.config()["hooks"] = {{"createRuntime", {attach}}, {"poststop", {detach}}};
    b3.save();
    std::string c3 = th::unique_id("runc");
    r = th::run_argv({runc, "--root", runc_root.path(), "run", "--bundle", b3.dir(), c3});
    CHECK(r.status != 0);
    // (runc quotes the hook's stderr: its '"' arrive as '\\"')
    CHECK(r.err.find("rt-network-hook: attach: config.json: annotations[") != std::string::npos);
    CHECK(r.err.find("rt.network.mtu") != std::string::npos);
    CHECK(r.err.find("is not an MTU (an integer from 68 to 65535)") != std::string::npos);
    th::run_argv({runc, "--root", runc_root.path(), "delete", "--force", c3});
    CHECK(leases_without_lock(br) == std::vector<std::string>{"10.220.0.2"});

    CHECK(th::rt({"delete", "--force", c1}).status == 0);
    CHECK(veths().empty());
    CHECK(leases_without_lock(br).empty());
}
