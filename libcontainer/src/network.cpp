#include "network.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <set>

#include "rt/error.hpp"
#include "util.hpp"

namespace rt::network {

namespace {

using netlink::ipv4_text;
using netlink::Ipv4Net;

constexpr const char* kPrefix = "rt.network.";
constexpr Ipv4Net kDefaultGateway{0xac110001u, 16};  // 172.17.0.1/16

[[noreturn]] void bad(const std::string& key, const std::string& why) {
    throw Error("config.json: annotations[\"" + std::string(kPrefix) + key + "\"]: " + why);
}

uint32_t mask(int prefix) { return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix); }
uint32_t network_of(const Ipv4Net& n) { return n.addr & mask(n.prefix); }
uint32_t broadcast_of(const Ipv4Net& n) { return network_of(n) | ~mask(n.prefix); }
bool in_subnet(uint32_t a, const Ipv4Net& n) { return (a & mask(n.prefix)) == network_of(n); }
std::string text(const Ipv4Net& n) { return ipv4_text(n.addr) + "/" + std::to_string(n.prefix); }
std::string subnet_text(const Ipv4Net& n) { return text({network_of(n), n.prefix}); }

std::optional<int> parse_uint(const std::string& s, int max) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    int v = std::stoi(s);
    if (v > max) return std::nullopt;
    return v;
}

// "a.b.c.d/len"; with prefix_optional, "a.b.c.d" too (prefix -1).
std::optional<Ipv4Net> parse_cidr(const std::string& s, bool prefix_optional) {
    auto slash = s.find('/');
    if (slash == std::string::npos && !prefix_optional) return std::nullopt;
    auto addr = netlink::parse_ipv4(s.substr(0, slash));
    if (!addr) return std::nullopt;
    if (slash == std::string::npos) return Ipv4Net{*addr, -1};
    auto prefix = parse_uint(s.substr(slash + 1), 32);
    if (!prefix) return std::nullopt;
    return Ipv4Net{*addr, *prefix};
}

// Link names: 1..15 bytes, no '/', ':' or white space, not "." or "..".
void check_ifname(const std::string& key, const std::string& name) {
    if (name.empty() || name.size() >= 16 || name == "." || name == ".." ||
        name.find_first_of("/: \t\n\r\v\f") != std::string::npos)
        bad(key,
            "\"" + name + "\" is not a valid interface name (1 to 15 characters, no '/', ':' or spaces)");
}

// A usable host address of subnet n: not its network or broadcast address.
void check_host_address(const std::string& key, uint32_t a, const Ipv4Net& n) {
    if (a == network_of(n) || a == broadcast_of(n))
        bad(key, ipv4_text(a) + " is the " + (a == network_of(n) ? "network" : "broadcast") + " address of " +
                     subnet_text(n));
}

std::string alias_for(const std::string& id) { return ("rt:" + id).substr(0, 255); }

std::string current_netns() {
    char buf[64] = {};
    ssize_t n = ::readlink("/proc/self/ns/net", buf, sizeof buf - 1);
    if (n < 0) throw_errno("readlink /proc/self/ns/net");
    return std::string(buf, static_cast<size_t>(n));
}

// A netlink socket inside the network namespace netns_fd. rt is single-threaded: it enters the
// namespace only to make the socket (which stays bound to it) and returns at once.
netlink::Socket socket_in(int netns_fd) {
    UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!self) throw_errno("open /proc/self/ns/net");
    if (::setns(netns_fd, CLONE_NEWNET) < 0) throw_errno("enter the container's network namespace");
    std::optional<netlink::Socket> s;
    int err = 0;
    std::string what;
    try {
        s.emplace();
    } catch (const Error& e) {
        err = e.errnum();
        what = e.what();
    }
    if (::setns(self.get(), CLONE_NEWNET) < 0) throw_errno("return to rt's network namespace");
    if (!s) throw Error(what, err);
    return std::move(*s);
}

// <root>/.network/<bridge>, made when missing.
UniqueFd open_lease_dir(const std::string& root, const std::string& bridge) {
    std::string path = root + "/.network/" + bridge;
    mkdir_all(path, 0700);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path);
    return fd;
}

std::string read_at(int dirfd, const std::string& name) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return "";
    char buf[1100];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return "";
    std::string s(buf, static_cast<size_t>(n));
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

// The lease file names (addresses) in a lease directory.
std::set<std::string> leases_in(int dirfd) {
    std::set<std::string> out;
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
    if (!d) {
        if (dup >= 0) ::close(dup);
        throw_errno("read lease directory");
    }
    ::rewinddir(d);
    while (struct dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') out.insert(e->d_name);
    ::closedir(d);
    return out;
}

// Take the lease file for a: false when it is taken already.
bool take_lease(int dirfd, uint32_t a, const std::string& id) {
    std::string name = ipv4_text(a);
    UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
        if (errno == EEXIST) return false;
        throw_errno("lease " + name);
    }
    if (!write_all(fd.get(), id + "\n")) {
        int err = errno;
        ::unlinkat(dirfd, name.c_str(), 0);
        throw_errno("write lease " + name, err);
    }
    return true;
}

// Delete the host veth `name` if it carries rt's alias for id.
void delete_veth(netlink::Socket& s, const std::string& name, const std::string& id,
                 std::vector<std::string>& warnings) {
    auto link = s.get_link(name);
    if (!link) return;
    if (link->alias != alias_for(id)) {
        warnings.push_back("link " + name + " was not made by rt for container \"" + id + "\": left alone");
        return;
    }
    s.delete_link(name);
}

}  // namespace

std::optional<Plan> parse(const std::map<std::string, std::string>& annotations, bool new_netns) {
    std::map<std::string, std::string> a;
    for (const auto& [k, v] : annotations)
        if (k.rfind(kPrefix, 0) == 0) a[k.substr(std::string(kPrefix).size())] = v;
    if (a.empty()) return std::nullopt;
    for (const auto& [k, v] : a)
        if (k != "bridge" && k != "address" && k != "gateway" && k != "mtu" && k != "interface" && k != "dns")
            bad(k, "unknown network annotation (known: bridge, address, gateway, mtu, interface, dns)");
    if (!a.count("bridge"))
        bad(a.begin()->first, "set without rt.network.bridge (no network is set up without a bridge)");
    Plan p;
    p.bridge = a["bridge"];
    check_ifname("bridge", p.bridge);
    if (!new_netns)
        bad("bridge",
            "a network needs a new network namespace (linux.namespaces has no \"network\" entry without a "
            "path)");
    if (a.count("interface")) {
        p.interface = a["interface"];
        check_ifname("interface", p.interface);
    }
    if (a.count("mtu")) {
        auto m = parse_uint(a["mtu"], 65535);
        if (!m || *m < 68) bad("mtu", "\"" + a["mtu"] + "\" is not an MTU (an integer from 68 to 65535)");
        p.mtu = static_cast<unsigned>(*m);
    }
    if (a.count("address") && a["address"] != "auto") {
        auto n = parse_cidr(a["address"], false);
        if (!n)
            bad("address",
                "\"" + a["address"] + "\" is not an IPv4 address in CIDR form (a.b.c.d/len) or auto");
        if (n->prefix > 30)
            bad("address", "/" + std::to_string(n->prefix) + " leaves no room for a gateway and a container");
        check_host_address("address", n->addr, *n);
        p.address = n;
    }
    if (a.count("gateway")) {
        auto g = parse_cidr(a["gateway"], true);
        if (!g) bad("gateway", "\"" + a["gateway"] + "\" is not an IPv4 address (a.b.c.d or a.b.c.d/len)");
        p.gateway = g->addr;
        if (g->prefix >= 0) {
            if (g->prefix > 30)
                bad("gateway",
                    "/" + std::to_string(g->prefix) + " leaves no room for a gateway and a container");
            p.gateway_prefix = g->prefix;
            check_host_address("gateway", g->addr, *g);
        }
    }
    if (p.address) {
        const Ipv4Net& n = *p.address;
        if (p.gateway_prefix && *p.gateway_prefix != n.prefix)
            bad("gateway", a["gateway"] + " has another prefix than the address " + text(n));
        if (p.gateway) {
            if (!in_subnet(*p.gateway, n))
                bad("gateway", ipv4_text(*p.gateway) + " is outside the subnet " + subnet_text(n));
            check_host_address("gateway", *p.gateway, n);
        }
        uint32_t gw = p.gateway ? *p.gateway : network_of(n) + 1;
        if (gw == n.addr)
            bad("address", ipv4_text(n.addr) + " is the gateway's address" +
                               (p.gateway ? "" : " (by default the subnet's first address)"));
    }
    if (a.count("dns")) {
        for (const auto& server : split(a["dns"], ',')) {
            std::string s = server;
            while (!s.empty() && s.front() == ' ') s.erase(s.begin());
            while (!s.empty() && s.back() == ' ') s.pop_back();
            unsigned char buf[16];
            if (::inet_pton(AF_INET, s.c_str(), buf) != 1 && ::inet_pton(AF_INET6, s.c_str(), buf) != 1)
                bad("dns", "\"" + s + "\" is not an IP address");
            p.dns.push_back(s);
        }
    }
    return p;
}

std::string host_veth_name(const std::string& id) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : id) h = (h ^ c) * 16777619u;
    std::string readable;
    for (char c : id) {
        if (readable.size() == 5) break;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) readable += c;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "%06x", h & 0xffffffu);
    return "veth" + readable + hex;
}

Attachment::Attachment(const Plan& plan, const std::string& root, const std::string& id)
    : plan_(plan), id_(id), veth_(host_veth_name(id)), netns_(current_netns()) {
    lease_dir_ = open_lease_dir(root, plan.bridge);
    UniqueFd lock(::openat(lease_dir_.get(), ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock) throw_errno("open lease lock");
    while (::flock(lock.get(), LOCK_EX) < 0)
        if (errno != EINTR) throw_errno("lock leases of bridge " + plan.bridge);

    // The bridge as it is: its kind and IPv4 addresses.
    auto bridge = host_.get_link(plan.bridge);
    std::vector<Ipv4Net> bridge_addrs;
    if (bridge) {
        if (bridge->kind != "bridge")
            bad("bridge", "link " + plan.bridge + " exists and is not a bridge (" +
                              (bridge->kind.empty() ? std::string("a plain device") : bridge->kind) + ")");
        bridge_addrs = host_.addresses(bridge->index);
    }

    // The subnet and gateway: from the address, a gateway with prefix, the bridge, the default.
    std::string blame = plan.gateway ? "gateway" : "address";
    Ipv4Net gw;
    if (plan.address) {
        gw = {plan.gateway ? *plan.gateway : network_of(*plan.address) + 1, plan.address->prefix};
    } else if (plan.gateway_prefix) {
        gw = {*plan.gateway, *plan.gateway_prefix};
    } else if (!bridge_addrs.empty()) {
        gw = bridge_addrs.front();
        if (plan.gateway && *plan.gateway != gw.addr)
            bad("gateway",
                "bridge " + plan.bridge + " has " + text(gw) + ", not " + ipv4_text(*plan.gateway));
    } else if (plan.gateway) {
        bad("gateway", ipv4_text(*plan.gateway) + " needs a prefix (" + ipv4_text(*plan.gateway) +
                           "/len): the bridge has no address and the container address is auto");
    } else {
        gw = kDefaultGateway;
    }
    if (!bridge_addrs.empty()) {
        bool found = false;
        for (const auto& b : bridge_addrs) found = found || (b.addr == gw.addr && b.prefix == gw.prefix);
        if (!found)
            bad(blame, "bridge " + plan.bridge + " has " + text(bridge_addrs.front()) + ", not the gateway " +
                           text(gw));
    }
    gateway_ = gw.addr;

    // The lease.
    if (plan.address) {
        address_ = *plan.address;
        if (!take_lease(lease_dir_.get(), address_.addr, id))
            bad("address", ipv4_text(address_.addr) + " is in use by container \"" +
                               read_at(lease_dir_.get(), ipv4_text(address_.addr)) + "\"");
    } else {
        std::set<std::string> taken = leases_in(lease_dir_.get());
        address_ = {0, gw.prefix};
        for (uint32_t a = network_of(gw) + 1; a < broadcast_of(gw); ++a) {
            if (a == gw.addr || taken.count(ipv4_text(a))) continue;
            if (take_lease(lease_dir_.get(), a, id)) {
                address_.addr = a;
                break;
            }
        }
        if (!address_.addr)
            bad("address", "auto: no free address left in " + subnet_text(gw) + " on bridge " + plan.bridge);
    }

    // The bridge, made when missing, with the gateway address. (A throwing constructor gets no
    // destructor call: the lease is given back here.)
    try {
        with_context("bridge " + plan.bridge, [&] {
            if (!bridge) {
                host_.create_bridge(plan.bridge);
                bridge = host_.get_link(plan.bridge);
                if (!bridge) throw Error("vanished after it was made");
            }
            if (bridge_addrs.empty()) host_.add_address(bridge->index, gw);
            if (!(bridge->flags & IFF_UP)) host_.set_up(bridge->index);
        });
    } catch (...) {
        ::unlinkat(lease_dir_.get(), ipv4_text(address_.addr).c_str(), 0);
        throw;
    }
    leased_ = true;
}

Attachment::~Attachment() {
    if (committed_) return;
    if (veth_made_) {
        try {
            host_.delete_link(veth_);
        } catch (...) {
        }
    }
    if (leased_) ::unlinkat(lease_dir_.get(), ipv4_text(address_.addr).c_str(), 0);
}

void Attachment::attach(pid_t pid) {
    std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
    UniqueFd netns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw_errno("open " + ns_path);
    auto bridge = host_.get_link(plan_.bridge);
    if (!bridge) throw Error("bridge " + plan_.bridge + " vanished");

    netlink::VethSpec v{veth_, plan_.interface, plan_.mtu, bridge->index, netns.get()};
    host_.create_veth(v);
    veth_made_ = true;
    auto host_end = host_.get_link(veth_);
    if (!host_end) throw Error("veth " + veth_ + " vanished after it was made");
    host_.set_alias(host_end->index, alias_for(id_));

    with_context("in the container's network namespace", [&] {
        netlink::Socket inner = socket_in(netns.get());
        auto lo = inner.get_link("lo");
        if (lo) inner.set_up(lo->index);
        auto dev = inner.get_link(plan_.interface);
        if (!dev) throw Error("interface " + plan_.interface + " missing after it was made");
        inner.add_address(dev->index, address_);
        inner.set_up(dev->index);
        inner.add_default_route(gateway_, dev->index);
    });
}

nlohmann::json Attachment::record() const {
    return {{"bridge", plan_.bridge},         {"veth", veth_},
            {"address", text(address_)},      {"lease", ipv4_text(address_.addr)},
            {"gateway", ipv4_text(gateway_)}, {"netns", netns_}};
}

std::vector<spec::Mount> write_etc_files(const Plan& plan, const Attachment& a, const spec::Spec& s,
                                         const std::string& state_dir) {
    std::vector<spec::Mount> out;
    struct stat st {};
    if (::lstat((s.root.path + "/etc").c_str(), &st) < 0) return out;
    auto mounted = [&](const std::string& dest) {
        for (const auto& m : s.mounts) {
            std::string d = m.destination;
            while (d.size() > 1 && d.back() == '/') d.pop_back();
            if (d == dest || d == "/etc" || d == dest.substr(1) || d == "etc") return true;
        }
        return false;
    };
    auto add = [&](const std::string& name, const std::string& content) {
        std::string dest = "/etc/" + name;
        if (mounted(dest)) return;
        std::string path = state_dir + "/" + name;
        write_file(path, content, 0644);
        spec::Mount m;
        m.destination = dest;
        m.type = "bind";
        m.source = path;
        m.options = {"bind", "ro", "nosuid", "nodev", "noexec"};
        out.push_back(std::move(m));
    };
    if (!s.hostname.empty()) add("hostname", s.hostname + "\n");
    std::string hosts =
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    if (!s.hostname.empty()) hosts += ipv4_text(a.address().addr) + "\t" + s.hostname + "\n";
    add("hosts", hosts);
    std::string resolv;
    if (plan.dns.empty()) {
        resolv = read_file_if_exists("/etc/resolv.conf").value_or("");
    } else {
        for (const auto& d : plan.dns) resolv += "nameserver " + d + "\n";
    }
    add("resolv.conf", resolv);
    return out;
}

std::vector<std::string> release(const std::string& root, const std::string& id,
                                 const nlohmann::json& record) {
    std::vector<std::string> warnings;
    if (!record.is_object()) return warnings;
    std::string bridge = record.value("bridge", ""), veth = record.value("veth", ""),
                lease = record.value("lease", ""), netns = record.value("netns", "");
    if (!veth.empty()) {
        if (netns == current_netns()) {
            netlink::Socket s;
            with_context("delete veth " + veth, [&] { delete_veth(s, veth, id, warnings); });
        } else {
            warnings.push_back("veth " + veth + " was made in network namespace " + netns +
                               ", not this one (" + current_netns() + "): left alone");
        }
    }
    if (!bridge.empty() && !lease.empty() && bridge.find('/') == std::string::npos &&
        lease.find('/') == std::string::npos) {
        std::string dir = root + "/.network/" + bridge;
        UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (fd && read_at(fd.get(), lease) == id && ::unlinkat(fd.get(), lease.c_str(), 0) < 0 &&
            errno != ENOENT)
            throw_errno("remove lease " + dir + "/" + lease);
    }
    return warnings;
}

std::vector<std::string> release_by_id(const std::string& root, const std::string& id) {
    std::vector<std::string> warnings;
    std::string base = root + "/.network";
    UniqueFd basefd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (basefd) {
        for (const auto& bridge : leases_in(basefd.get())) {
            UniqueFd dir(
                ::openat(basefd.get(), bridge.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
            if (!dir) continue;
            for (const auto& lease : leases_in(dir.get()))
                if (read_at(dir.get(), lease) == id && ::unlinkat(dir.get(), lease.c_str(), 0) < 0 &&
                    errno != ENOENT)
                    throw_errno("remove lease " + base + "/" + bridge + "/" + lease);
        }
    }
    netlink::Socket s;
    delete_veth(s, host_veth_name(id), id, warnings);
    return warnings;
}

}  // namespace rt::network
