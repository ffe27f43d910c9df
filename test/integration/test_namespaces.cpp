// Integration tests: namespaces. Every namespace listed in linux.namespaces is a new one (the link
// /proc/<init>/ns/<type> differs from the test process's), the ones not listed are shared with the
// host, and a namespace given by path is joined (its inode is the container's).
//
// main() comes from harness_main.cpp (linked from the harness library).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

using json = nlohmann::json;

namespace {

// linux.namespaces type -> name under /proc/<pid>/ns/.
const std::map<std::string, std::string>& proc_ns_names() {
    static const std::map<std::string, std::string> m = {
        {"pid", "pid"}, {"network", "net"}, {"mount", "mnt"}, {"ipc", "ipc"},
        {"uts", "uts"}, {"user", "user"},   {"cgroup", "cgroup"}, {"time", "time"}};
    return m;
}

std::string host_ns(const std::string& proc_name) { return th::ns_link(getpid(), proc_name); }

bool kernel_has_ns(const std::string& proc_name) { return th::exists("/proc/self/ns/" + proc_name); }

void add_namespace(th::Bundle& b, const json& ns) {
    b.remove_namespace(ns.at("type").get<std::string>());
    b.config()["linux"]["namespaces"].push_back(ns);
}

void add_userns(th::Bundle& b, unsigned host_id = 100000, unsigned size = 65536) {
    add_namespace(b, {{"type", "user"}});
    b.config()["linux"]["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", host_id}, {"size", size}}});
    b.config()["linux"]["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", host_id}, {"size", size}}});
}

// "net:[4026532174]" for a namespace file (a bind mount of an nsfs inode, e.g. /var/run/netns/x).
std::string ns_file_link(const std::string& type_name, const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return "";
    return type_name + ":[" + std::to_string(st.st_ino) + "]";
}

// Whitespace-normalised text: "  0  100000  65536\n" -> "0 100000 65536".
std::string squeeze(const std::string& s) {
    std::istringstream in(s);
    std::string w, out;
    while (in >> w) out += (out.empty() ? "" : " ") + w;
    return out;
}

// The values of a "Key:\tv1\tv2..." line of /proc/<pid>/status.
std::vector<std::string> status_field(pid_t pid, const std::string& key) {
    for (const auto& line : th::lines(th::read_file("/proc/" + std::to_string(pid) + "/status"))) {
        if (line.rfind(key + ":", 0) != 0) continue;
        std::istringstream in(line.substr(key.size() + 1));
        std::vector<std::string> v;
        std::string w;
        while (in >> w) v.push_back(w);
        return v;
    }
    return {};
}

// A named network namespace (`ip netns add`), deleted again by the destructor.
class NetNs {
public:
    NetNs() {
        static std::atomic<int> n{0};
        name_ = "rt-test-" + std::to_string(getpid()) + "-" + std::to_string(++n);
        auto r = th::sh("ip netns add " + name_);
        if (r.status != 0) throw std::runtime_error("ip netns add " + name_ + " failed: " + r.err);
    }
    ~NetNs() { th::sh("ip netns delete " + name_ + " 2>/dev/null"); }
    NetNs(const NetNs&) = delete;
    NetNs& operator=(const NetNs&) = delete;

    const std::string& name() const { return name_; }
    std::string path() const { return "/var/run/netns/" + name_; }

private:
    std::string name_;
};

}  // namespace

TEST_CASE("listed namespaces are new, unlisted ones are the host's", "[namespaces]") {
    th::Bundle b;  // default: pid, network, ipc, uts, mount
    const std::string id = th::unique_id("ns");
    pid_t pid = th::start_sleeper(b, id);
    REQUIRE(pid > 0);

    for (const std::string type : {"pid", "network", "ipc", "uts", "mount"}) {
        const std::string n = proc_ns_names().at(type);
        INFO("namespace " << type);
        CHECK(th::ns_link(pid, n) != "");
        CHECK(th::ns_link(pid, n) != host_ns(n));
    }
    for (const std::string type : {"user", "cgroup", "time"}) {
        const std::string n = proc_ns_names().at(type);
        if (!kernel_has_ns(n)) continue;
        INFO("namespace " << type << " is not in the config: shared with the host");
        CHECK(th::ns_link(pid, n) == host_ns(n));
    }
}

TEST_CASE("namespaces left out of the config are shared with the host", "[namespaces]") {
    th::Bundle b;
    b.remove_namespace("pid").remove_namespace("network").remove_namespace("ipc").remove_namespace("uts");
    b.config().erase("hostname");  // a hostname needs a private uts namespace
    pid_t pid = th::start_sleeper(b, th::unique_id("ns"));
    REQUIRE(pid > 0);

    for (const std::string n : {"pid", "net", "ipc", "uts", "user", "cgroup"}) {
        INFO("namespace " << n);
        CHECK(th::ns_link(pid, n) == host_ns(n));
    }
    CHECK(th::ns_link(pid, "mnt") != host_ns("mnt"));
}

TEST_CASE("pid namespace: the container process is pid 1", "[namespaces]") {
    th::Bundle b;
    b.args({"sh", "-c", "echo $$; cat /proc/self/stat | cut -d' ' -f4"});
    auto r = b.run(th::unique_id("ns"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto l = th::lines(r.out);
    REQUIRE(l.size() == 2);
    CHECK(l[0] == "1");
    CHECK(l[1] == "1");  // the parent of `cat` is the shell, pid 1
}

TEST_CASE("uts namespace: the configured hostname is set inside, not on the host", "[namespaces]") {
    th::Bundle b;
    const std::string hostname = "rt-uts-" + std::to_string(getpid());
    b.config()["hostname"] = hostname;
    b.args({"hostname"});
    auto r = b.run(th::unique_id("ns"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(th::trim(r.out) == hostname);
    CHECK(th::trim(th::read_file("/proc/sys/kernel/hostname")) != hostname);
}

TEST_CASE("network namespace: a new one has only lo", "[namespaces]") {
    th::Bundle b;
    b.args({"ls", "/sys/class/net"});
    auto r = b.run(th::unique_id("ns"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(th::lines(r.out) == std::vector<std::string>{"lo"});
}

TEST_CASE("cgroup namespace: new, and the container's cgroups are its roots", "[namespaces]") {
    if (!kernel_has_ns("cgroup")) {
        WARN("skipped: the kernel has no cgroup namespaces");
        return;
    }
    th::Bundle b;
    add_namespace(b, {{"type", "cgroup"}});

    SECTION("the ns link differs from the host's") {
        pid_t pid = th::start_sleeper(b, th::unique_id("ns"));
        CHECK(th::ns_link(pid, "cgroup") != host_ns("cgroup"));
    }
    SECTION("every line of /proc/self/cgroup is \"/\" inside") {
        b.args({"cat", "/proc/self/cgroup"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        auto l = th::lines(r.out);
        CHECK(!l.empty());
        for (const auto& line : l) {
            INFO(line);
            CHECK(line.size() >= 2);
            CHECK(line.substr(line.size() - 2) == ":/");
        }
    }
}

TEST_CASE("user namespace with uid/gid mappings", "[namespaces][userns]") {
    if (!kernel_has_ns("user")) {
        WARN("skipped: the kernel has no user namespaces");
        return;
    }
    th::Bundle b;
    add_userns(b, 100000, 65536);
    // The busybox rootfs is world-readable and -executable, which is all the mapped root needs;
    // nothing is chown'ed.

    SECTION("inside: root, and uid_map/gid_map are the configured mapping") {
        b.args({"sh", "-c", "id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        auto l = th::lines(r.out);
        REQUIRE(l.size() == 4);
        CHECK(l[0] == "0");
        CHECK(l[1] == "0");
        CHECK(squeeze(l[2]) == "0 100000 65536");
        CHECK(squeeze(l[3]) == "0 100000 65536");
    }
    SECTION("the host sees the process as uid/gid 100000, in a new user namespace") {
        pid_t pid = th::start_sleeper(b, th::unique_id("ns"));
        CHECK(th::ns_link(pid, "user") != host_ns("user"));
        CHECK(status_field(pid, "Uid") == std::vector<std::string>(4, "100000"));
        CHECK(status_field(pid, "Gid") == std::vector<std::string>(4, "100000"));
        CHECK(squeeze(th::read_file("/proc/" + std::to_string(pid) + "/uid_map")) == "0 100000 65536");
        CHECK(squeeze(th::read_file("/proc/" + std::to_string(pid) + "/gid_map")) == "0 100000 65536");
    }
    SECTION("files the host's root owns are not the container root's") {
        // /root in the rootfs is 0700 root:root on the host: the mapped root (uid 100000 on the
        // host) has no access to it.
        b.args({"sh", "-c", "ls /root >/dev/null 2>&1 && echo can-read || echo denied"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        CHECK(th::trim(r.out) == "denied");
    }
}

// runc 1.1 doesn't know the time namespace ("namespace time does not exist").
TEST_CASE("time namespace: boottime offset shifts /proc/uptime", "[namespaces][rt-only]") {
    if (!kernel_has_ns("time")) {
        WARN("skipped: the kernel has no time namespaces (/proc/self/ns/time is missing)");
        return;
    }
    th::Bundle b;
    add_namespace(b, {{"type", "time"}});
    b.config()["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400 * 10}, {"nanosecs", 0}}},
                                          {"monotonic", {{"secs", 3600}, {"nanosecs", 0}}}};

    SECTION("uptime inside is at least the offset") {
        b.args({"cat", "/proc/uptime"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        double up = std::stod(th::trim(r.out));
        double host_up = std::stod(th::read_file("/proc/uptime"));
        CHECK(up >= 864000.0);
        CHECK(up >= host_up + 864000.0 - 60.0);
    }
    SECTION("the ns link differs from the host's and the offsets are the configured ones") {
        pid_t pid = th::start_sleeper(b, th::unique_id("ns"));
        CHECK(th::ns_link(pid, "time") != host_ns("time"));
        std::string offsets = th::read_file("/proc/" + std::to_string(pid) + "/timens_offsets");
        INFO(offsets);
        bool boot = false, mono = false;
        for (const auto& line : th::lines(offsets)) {
            if (squeeze(line) == "boottime 864000 0") boot = true;
            if (squeeze(line) == "monotonic 3600 0") mono = true;
        }
        CHECK(boot);
        CHECK(mono);
    }
}

TEST_CASE("join a named network namespace by path", "[namespaces]") {
    NetNs netns;
    // Mark the namespace so the container can tell it is in it: an unusual mtu on lo.
    auto r0 = th::sh("ip -n " + netns.name() + " link set lo mtu 12345");
    INFO(r0.err);
    REQUIRE(r0.status == 0);

    th::Bundle b;
    add_namespace(b, {{"type", "network"}, {"path", netns.path()}});

    SECTION("the container's net ns link is the netns's") {
        pid_t pid = th::start_sleeper(b, th::unique_id("ns"));
        const std::string want = ns_file_link("net", netns.path());
        REQUIRE(!want.empty());
        CHECK(th::ns_link(pid, "net") == want);
        CHECK(th::ns_link(pid, "net") != host_ns("net"));
    }
    SECTION("inside, lo has the mtu set in the netns") {
        b.args({"ip", "link", "show", "lo"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        CHECK_THAT(r.out, Catch::Contains("mtu 12345"));
    }
}

TEST_CASE("join another container's ipc, uts and network namespaces via /proc/<pid>/ns", "[namespaces]") {
    th::Bundle a;
    const std::string peer_host = "rt-peer-" + std::to_string(getpid());
    a.config()["hostname"] = peer_host;
    pid_t apid = th::start_sleeper(a, th::unique_id("peer"));
    REQUIRE(apid > 0);
    const std::string proc = "/proc/" + std::to_string(apid) + "/ns/";

    th::Bundle b;
    b.config().erase("hostname");  // joining a uts namespace: the hostname is the peer's
    add_namespace(b, {{"type", "ipc"}, {"path", proc + "ipc"}});
    add_namespace(b, {{"type", "uts"}, {"path", proc + "uts"}});
    add_namespace(b, {{"type", "network"}, {"path", proc + "net"}});

    SECTION("inside: the peer's hostname and namespace inodes") {
        b.args({"sh", "-c",
                "hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; "
                "readlink /proc/self/ns/net; readlink /proc/self/ns/pid"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
        auto l = th::lines(r.out);
        REQUIRE(l.size() == 5);
        CHECK(l[0] == peer_host);
        CHECK(l[1] == th::ns_link(apid, "ipc"));
        CHECK(l[2] == th::ns_link(apid, "uts"));
        CHECK(l[3] == th::ns_link(apid, "net"));
        CHECK(l[4] != th::ns_link(apid, "pid"));  // pid is still a new one
    }
    SECTION("seen from the host: same links as the peer, other namespaces new") {
        pid_t bpid = th::start_sleeper(b, th::unique_id("ns"));
        for (const std::string n : {"ipc", "uts", "net"}) {
            INFO("namespace " << n);
            CHECK(th::ns_link(bpid, n) == th::ns_link(apid, n));
            CHECK(th::ns_link(bpid, n) != host_ns(n));
        }
        for (const std::string n : {"pid", "mnt"}) {
            INFO("namespace " << n);
            CHECK(th::ns_link(bpid, n) != th::ns_link(apid, n));
            CHECK(th::ns_link(bpid, n) != host_ns(n));
        }
    }
}

TEST_CASE("joining a named netns leaves it in place after the container is gone", "[namespaces]") {
    NetNs netns;
    {
        th::Bundle b;
        add_namespace(b, {{"type", "network"}, {"path", netns.path()}});
        b.args({"true"});
        auto r = b.run(th::unique_id("ns"));
        INFO(r.err);
        REQUIRE(r.status == 0);
    }
    CHECK(th::exists(netns.path()));
    CHECK(th::sh("ip -n " + netns.name() + " link show lo").status == 0);
}
