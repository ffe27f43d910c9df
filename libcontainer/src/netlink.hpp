// rtnetlink: the few link, address and route requests rt's bridge networking needs, written as
// raw netlink messages (no libmnl/libnl: eight request shapes do not justify a library in every
// rt process, and the nesting the veth peer needs is a dozen lines).
//
// A Socket talks to the network namespace that was current when it was made, for its whole life:
// to configure a container's namespace, make the socket inside it (network.cpp's NetnsEnter) and
// keep using it after switching back. Every request asks for an ACK, so each failure is reported
// with the kernel's errno where it happened ("create veth rtveth0: File exists").
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"

struct nlmsghdr;

namespace rt::netlink {

// An IPv4 address in host byte order with a prefix length: 172.17.0.6/16.
struct Ipv4Net {
    uint32_t addr = 0;
    int prefix = 0;
};

// What RTM_GETLINK says about one link.
struct Link {
    int index = 0;
    std::string name;
    std::string kind;   // IFLA_INFO_KIND: "bridge", "veth", "" for plain devices
    int master = 0;     // index of the bridge it is a port of, 0 when none
    std::string alias;  // IFLA_IFALIAS
    unsigned mtu = 0;
    unsigned flags = 0;  // IFF_*
};

// The veth pair rt makes: the host end attached to a bridge, the peer made directly inside the
// container's network namespace under its final name (so no rename, no window where the peer
// lives on the host).
struct VethSpec {
    std::string host_name;
    std::string peer_name;
    unsigned mtu = 1500;
    int master = 0;  // bridge index for the host end
    int peer_netns_fd = -1;
};

class Socket {
public:
    Socket();  // NETLINK_ROUTE in the current network namespace

    // The link called name; nullopt when there is none.
    std::optional<Link> get_link(const std::string& name);
    // Ports of a bridge (links whose master is bridge_index).
    std::vector<Link> bridge_ports(int bridge_index);
    // IPv4 addresses of a link.
    std::vector<Ipv4Net> addresses(int index);

    // Create a bridge, up. Throws with errno EEXIST when a link of that name exists.
    void create_bridge(const std::string& name);
    // Create a veth pair (host end up and attached to its master).
    void create_veth(const VethSpec& v);
    void set_alias(int index, const std::string& alias);
    void set_up(int index);
    void add_address(int index, const Ipv4Net& a);
    // Default route via gateway out of index.
    void add_default_route(uint32_t gateway, int index);
    // Delete a link by name; false when it did not exist.
    bool delete_link(const std::string& name);

private:
    class Request;
    // Send r, call on_reply for each reply message; returns the errno of the NLMSG_ERROR, 0 on
    // success.
    int transact(Request& r, const std::function<void(const nlmsghdr*)>& on_reply = {});
    void must(Request& r, const std::string& what);

    UniqueFd fd_;
    uint32_t seq_ = 0;
};

// "172.17.0.6" from a host-order address, and back (nullopt when malformed).
std::string ipv4_text(uint32_t addr);
std::optional<uint32_t> parse_ipv4(const std::string& s);

}  // namespace rt::netlink
