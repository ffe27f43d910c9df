#include "netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "rt/error.hpp"

namespace rt::netlink {

// One request under construction: nlmsghdr, the fixed family header, then attributes (nests
// are opened with begin() and sized by end()).
class Socket::Request {
public:
    Request(uint16_t type, uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
        hdr()->nlmsg_type = type;
        hdr()->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    }
    template <typename T>
    void put(const T& v) {
        append(&v, sizeof v);
    }
    void attr(uint16_t type, const void* data, size_t len) {
        align();
        struct rtattr a {};
        a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
        a.rta_type = type;
        append(&a, sizeof a);
        append(data, len);
        align();
    }
    void attr_u32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
    void attr_str(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
    size_t begin(uint16_t type) {
        align();
        size_t off = buf_.size();
        struct rtattr a {};
        a.rta_type = type;
        append(&a, sizeof a);
        return off;
    }
    void end(size_t off) {
        uint16_t len = static_cast<uint16_t>(buf_.size() - off);
        std::memcpy(buf_.data() + off + offsetof(struct rtattr, rta_len), &len, sizeof len);
    }
    bool wants_ack() const { return hdr_const()->nlmsg_flags & NLM_F_ACK; }
    bool is_dump() const { return (hdr_const()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP; }
    std::vector<char>& finish(uint32_t seq) {
        align();
        hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
        hdr()->nlmsg_seq = seq;
        return buf_;
    }

private:
    struct nlmsghdr* hdr() {
        return reinterpret_cast<struct nlmsghdr*>(buf_.data());
    }
    const struct nlmsghdr* hdr_const() const { return reinterpret_cast<const struct nlmsghdr*>(buf_.data()); }
    void align() { buf_.resize(NLMSG_ALIGN(buf_.size()), 0); }
    void append(const void* p, size_t n) {
        const char* c = static_cast<const char*>(p);
        buf_.insert(buf_.end(), c, c + n);
    }
    std::vector<char> buf_;
};

namespace {

// Walk the attributes that follow a fixed header of hdr_len bytes in message h.
template <typename Fn>
void for_each_attr(const struct nlmsghdr* h, size_t hdr_len, Fn&& fn) {
    const char* start = reinterpret_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(hdr_len);
    int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(NLMSG_ALIGN(hdr_len)));
    for (auto* a = reinterpret_cast<const struct rtattr*>(start); RTA_OK(a, len); a = RTA_NEXT(a, len)) fn(a);
}

template <typename Fn>
void for_each_nested(const struct rtattr* nest, Fn&& fn) {
    int len = static_cast<int>(RTA_PAYLOAD(nest));
    for (auto* a = static_cast<const struct rtattr*>(RTA_DATA(nest)); RTA_OK(a, len); a = RTA_NEXT(a, len))
        fn(a);
}

std::string attr_string(const struct rtattr* a) {
    const char* p = static_cast<const char*>(RTA_DATA(a));
    return std::string(p, ::strnlen(p, RTA_PAYLOAD(a)));
}

uint32_t attr_u32(const struct rtattr* a) {
    uint32_t v = 0;
    std::memcpy(&v, RTA_DATA(a), std::min<size_t>(sizeof v, RTA_PAYLOAD(a)));
    return v;
}

Link parse_link(const struct nlmsghdr* h) {
    const auto* ifi = static_cast<const struct ifinfomsg*>(NLMSG_DATA(h));
    Link l;
    l.index = ifi->ifi_index;
    l.flags = ifi->ifi_flags;
    for_each_attr(h, sizeof *ifi, [&](const struct rtattr* a) {
        switch (a->rta_type) {
            case IFLA_IFNAME:
                l.name = attr_string(a);
                break;
            case IFLA_MTU:
                l.mtu = attr_u32(a);
                break;
            case IFLA_MASTER:
                l.master = static_cast<int>(attr_u32(a));
                break;
            case IFLA_IFALIAS:
                l.alias = attr_string(a);
                break;
            case IFLA_LINKINFO:
                for_each_nested(a, [&](const struct rtattr* n) {
                    if (n->rta_type == IFLA_INFO_KIND) l.kind = attr_string(n);
                });
                break;
            default:
                break;
        }
    });
    return l;
}

struct ifinfomsg link_header(int index = 0, unsigned up = 0) {
    struct ifinfomsg ifi {};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = up;
    ifi.ifi_change = up;
    return ifi;
}

}  // namespace

std::string ipv4_text(uint32_t addr) {
    struct in_addr in {};
    in.s_addr = htonl(addr);
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &in, buf, sizeof buf);
    return buf;
}

std::optional<uint32_t> parse_ipv4(const std::string& s) {
    struct in_addr in {};
    if (::inet_pton(AF_INET, s.c_str(), &in) != 1) return std::nullopt;
    return ntohl(in.s_addr);
}

Socket::Socket() {
    fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd_) throw_errno("netlink socket");
    struct sockaddr_nl sa {};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd_.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0)
        throw_errno("bind netlink socket");
    // Acks without a copy of the request: replies stay small.
    int one = 1;
    ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
}

int Socket::transact(Request& r, const std::function<void(const nlmsghdr*)>& on_reply) {
    uint32_t seq = ++seq_;
    const std::vector<char>& msg = r.finish(seq);
    struct sockaddr_nl kernel {};
    kernel.nl_family = AF_NETLINK;
    ssize_t n;
    do
        n = ::sendto(fd_.get(), msg.data(), msg.size(), 0, reinterpret_cast<struct sockaddr*>(&kernel),
                     sizeof kernel);
    while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("netlink send");
    alignas(struct nlmsghdr) char buf[32768];
    for (;;) {
        do n = ::recv(fd_.get(), buf, sizeof buf, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) throw_errno("netlink receive");
        if (n == 0) throw Error("netlink receive: connection closed");
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<struct nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_seq != seq) continue;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const auto* e = static_cast<const struct nlmsgerr*>(NLMSG_DATA(h));
                return -e->error;
            }
            if (h->nlmsg_type == NLMSG_DONE) return 0;
            if (on_reply) on_reply(h);
            if (!(h->nlmsg_flags & NLM_F_MULTI) && !r.wants_ack()) return 0;
        }
    }
}

void Socket::must(Request& r, const std::string& what) {
    int err = transact(r);
    if (err) throw_errno(what, err);
}

std::optional<Link> Socket::get_link(const std::string& name) {
    Request r(RTM_GETLINK, 0);
    r.put(link_header());
    r.attr_str(IFLA_IFNAME, name);
    std::optional<Link> out;
    int err = transact(r, [&](const nlmsghdr* h) {
        if (h->nlmsg_type == RTM_NEWLINK) out = parse_link(h);
    });
    if (err == ENODEV) return std::nullopt;
    if (err) throw_errno("look up link " + name, err);
    return out;
}

std::vector<Link> Socket::bridge_ports(int bridge_index) {
    Request r(RTM_GETLINK, NLM_F_DUMP);
    r.put(link_header());
    std::vector<Link> out;
    int err = transact(r, [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        Link l = parse_link(h);
        if (l.master == bridge_index) out.push_back(std::move(l));
    });
    if (err) throw_errno("list links", err);
    return out;
}

std::vector<Ipv4Net> Socket::addresses(int index) {
    Request r(RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg ifa {};
    ifa.ifa_family = AF_INET;
    r.put(ifa);
    std::vector<Ipv4Net> out;
    int err = transact(r, [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWADDR) return;
        const auto* m = static_cast<const struct ifaddrmsg*>(NLMSG_DATA(h));
        if (static_cast<int>(m->ifa_index) != index || m->ifa_family != AF_INET) return;
        for_each_attr(h, sizeof *m, [&](const struct rtattr* a) {
            if (a->rta_type == IFA_LOCAL) out.push_back({ntohl(attr_u32(a)), m->ifa_prefixlen});
        });
    });
    if (err) throw_errno("list addresses", err);
    return out;
}

void Socket::create_bridge(const std::string& name) {
    Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    r.put(link_header(0, IFF_UP));
    r.attr_str(IFLA_IFNAME, name);
    size_t info = r.begin(IFLA_LINKINFO);
    r.attr_str(IFLA_INFO_KIND, "bridge");
    r.end(info);
    must(r, "create bridge " + name);
}

void Socket::create_veth(const VethSpec& v) {
    Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    r.put(link_header(0, IFF_UP));
    r.attr_str(IFLA_IFNAME, v.host_name);
    r.attr_u32(IFLA_MTU, v.mtu);
    if (v.master) r.attr_u32(IFLA_MASTER, static_cast<uint32_t>(v.master));
    size_t info = r.begin(IFLA_LINKINFO);
    r.attr_str(IFLA_INFO_KIND, "veth");
    size_t data = r.begin(IFLA_INFO_DATA);
    size_t peer = r.begin(VETH_INFO_PEER);
    r.put(link_header());  // the peer's own ifinfomsg comes first in VETH_INFO_PEER
    r.attr_str(IFLA_IFNAME, v.peer_name);
    r.attr_u32(IFLA_MTU, v.mtu);
    if (v.peer_netns_fd >= 0) r.attr_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(v.peer_netns_fd));
    r.end(peer);
    r.end(data);
    r.end(info);
    must(r, "create veth pair " + v.host_name + "/" + v.peer_name);
}

void Socket::set_alias(int index, const std::string& alias) {
    Request r(RTM_NEWLINK, NLM_F_ACK);
    r.put(link_header(index));
    r.attr_str(IFLA_IFALIAS, alias);
    must(r, "set link alias");
}

void Socket::set_up(int index) {
    Request r(RTM_NEWLINK, NLM_F_ACK);
    r.put(link_header(index, IFF_UP));
    must(r, "set link " + std::to_string(index) + " up");
}

void Socket::add_address(int index, const Ipv4Net& a) {
    Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    struct ifaddrmsg ifa {};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = static_cast<unsigned char>(a.prefix);
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(index);
    r.put(ifa);
    uint32_t be = htonl(a.addr);
    r.attr(IFA_LOCAL, &be, sizeof be);
    r.attr(IFA_ADDRESS, &be, sizeof be);
    if (a.prefix < 31) {
        uint32_t bcast = htonl(a.addr | (a.prefix == 0 ? 0xffffffffu : (0xffffffffu >> a.prefix)));
        r.attr(IFA_BROADCAST, &bcast, sizeof bcast);
    }
    must(r, "add address " + ipv4_text(a.addr) + "/" + std::to_string(a.prefix));
}

void Socket::add_default_route(uint32_t gateway, int index) {
    Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    struct rtmsg rtm {};
    rtm.rtm_family = AF_INET;
    rtm.rtm_table = RT_TABLE_MAIN;
    rtm.rtm_protocol = RTPROT_BOOT;
    rtm.rtm_scope = RT_SCOPE_UNIVERSE;
    rtm.rtm_type = RTN_UNICAST;
    r.put(rtm);
    uint32_t gw = htonl(gateway);
    r.attr(RTA_GATEWAY, &gw, sizeof gw);
    r.attr_u32(RTA_OIF, static_cast<uint32_t>(index));
    must(r, "add default route via " + ipv4_text(gateway));
}

bool Socket::delete_link(const std::string& name) {
    Request r(RTM_DELLINK, NLM_F_ACK);
    r.put(link_header());
    r.attr_str(IFLA_IFNAME, name);
    int err = transact(r);
    if (err == ENODEV) return false;
    if (err) throw_errno("delete link " + name, err);
    return true;
}

}  // namespace rt::netlink
