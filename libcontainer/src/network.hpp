// Bridge networking from the rt.network.* annotations (design.md section 4), as in the notes:
// a host bridge (made when missing, with the gateway address), one veth pair per container with
// the host end on the bridge and the peer inside the container's network namespace, an address,
// lo up, a default route via the gateway; /etc/hostname, /etc/hosts, /etc/resolv.conf.
//
//   annotation            meaning                                     default
//   rt.network.bridge     host bridge; no network without it          -
//   rt.network.address    CIDR, or "auto": lease the next free one     auto
//   rt.network.gateway    gateway and bridge address (CIDR or plain)  first address of the subnet
//   rt.network.mtu        MTU of both ends                            1500
//   rt.network.interface  name inside the container                   eth0
//   rt.network.dns        comma-separated name servers                the host's /etc/resolv.conf
//
// The subnet comes from the address, else from a gateway with a prefix, else from the bridge's
// own address when it exists, else 172.17.0.0/16 (gateway 172.17.0.1).
//
// Leases live under the state root, one directory per bridge, one file per leased address
// holding the container id:
//   <root>/.network/<bridge>/.lock        flock(2)ed while the bridge is checked or made and an
//   <root>/.network/<bridge>/172.17.0.2   address leased: concurrent creates never share one
// A bridge, once made, stays (like docker0): other containers may be using it.
// The host end of the veth is named from the container id (host_veth_name) and carries the alias
// "rt:<id>": rt deletes only links that carry the alias it gave them.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fd.hpp"
#include "netlink.hpp"
#include "rt/spec.hpp"

namespace rt::network {

// What the annotations ask for, checked, nothing made yet.
struct Plan {
    std::string bridge;
    std::optional<netlink::Ipv4Net> address;  // nullopt: "auto"
    std::optional<uint32_t> gateway;
    std::optional<int> gateway_prefix;  // when the gateway was given in CIDR form
    unsigned mtu = 1500;
    std::string interface = "eth0";
    std::vector<std::string> dns;  // empty: the host's resolv.conf
};

// Parse the rt.network.* annotations; nullopt when there are none. new_netns: the container
// gets a new network namespace (required for a network). Errors are one line each:
//   config.json: annotations["rt.network.address"]: "10.0.0/8" is not an IPv4 address in CIDR form
std::optional<Plan> parse(const std::map<std::string, std::string>& annotations, bool new_netns);

// The host end's name: "veth" + up to 5 characters of the id + 6 hex digits of a hash of it.
std::string host_veth_name(const std::string& id);

// One container's place on a bridge. The constructor (under the lease lock) checks the bridge,
// leases an address and makes the bridge when missing; attach() makes the veth pair. Until
// commit(), the destructor undoes the veth and the lease (the bridge stays).
class Attachment {
public:
    Attachment(const Plan& plan, const std::string& root, const std::string& id);
    ~Attachment();
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

    // The veth pair into the network namespace of pid, configured inside it: address, up, lo
    // up, default route. rt stays in (and returns to) its own network namespace.
    void attach(pid_t pid);

    const netlink::Ipv4Net& address() const { return address_; }
    uint32_t gateway() const { return gateway_; }
    // What delete needs later (state.json "network").
    nlohmann::json record() const;
    void commit() { committed_ = true; }

private:
    Plan plan_;
    std::string id_, veth_, netns_;
    netlink::Socket host_;
    UniqueFd lease_dir_;
    netlink::Ipv4Net address_;
    uint32_t gateway_ = 0;
    bool leased_ = false, veth_made_ = false, committed_ = false;
};

// Write /etc/hostname, /etc/hosts and /etc/resolv.conf for the container into state_dir and
// return the read-only bind mounts for them; none for a path config.json mounts itself (or
// mounts /etc over), none at all when the rootfs has no /etc.
std::vector<spec::Mount> write_etc_files(const Plan& plan, const Attachment& a, const spec::Spec& s,
                                         const std::string& state_dir);

// delete: remove the host veth and the lease recorded at create (record() output). The veth
// is only looked for when rt runs in the network namespace it was made in. Returns warnings.
std::vector<std::string> release(const std::string& root, const std::string& id,
                                 const nlohmann::json& record);

// Without a record (an rt killed mid-create; the hook's detach): every lease held by id and the
// host veth named from id, if it carries rt's alias for id. Returns warnings.
std::vector<std::string> release_by_id(const std::string& root, const std::string& id);

}  // namespace rt::network
