// Unit tests for the network module's pure parts: the rt.network.* annotations -> Plan (every
// error names its annotation), the host veth name, and the state.json round trip of the record.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "network.hpp"
#include "state.hpp"
#include "util.hpp"

using rt::network::parse;
using Ann = std::map<std::string, std::string>;

TEST_CASE("no rt.network.* annotation: no network", "[network]") {
    CHECK_FALSE(parse({}, true));
    CHECK_FALSE(parse({{"org.example.x", "1"}}, false));
}

TEST_CASE("the annotations become a plan with the documented defaults", "[network]") {
    auto p = parse({{"rt.network.bridge", "docker0"}}, true);
    REQUIRE(p);
    CHECK(p->bridge == "docker0");
    CHECK_FALSE(p->address);
    CHECK_FALSE(p->gateway);
    CHECK(p->mtu == 1500);
    CHECK(p->interface == "eth0");
    CHECK(p->dns.empty());

    p = parse({{"rt.network.bridge", "docker0"},
               {"rt.network.address", "172.17.0.6/16"},
               {"rt.network.gateway", "172.17.42.1"},
               {"rt.network.mtu", "9000"},
               {"rt.network.interface", "net1"},
               {"rt.network.dns", "192.0.2.1, 2001:db8::1"}},
              true);
    REQUIRE(p);
    REQUIRE(p->address);
    CHECK(rt::netlink::ipv4_text(p->address->addr) == "172.17.0.6");
    CHECK(p->address->prefix == 16);
    CHECK(rt::netlink::ipv4_text(*p->gateway) == "172.17.42.1");
    CHECK_FALSE(p->gateway_prefix);
    CHECK(p->mtu == 9000);
    CHECK(p->interface == "net1");
    CHECK(p->dns == std::vector<std::string>{"192.0.2.1", "2001:db8::1"});
}

TEST_CASE("bad annotations are one-line errors naming the annotation", "[network]") {
    const std::vector<std::pair<Ann, std::string>> cases = {
        {{{"rt.network.bridge", "b"}, {"rt.network.address", "1.2.3/8"}},
         "config.json: annotations[\"rt.network.address\"]: \"1.2.3/8\" is not an IPv4 address in CIDR form"},
        {{{"rt.network.bridge", "b"}, {"rt.network.address", "10.0.0.2"}},
         "is not an IPv4 address in CIDR form"},
        {{{"rt.network.bridge", "b"}, {"rt.network.address", "10.0.0.2/31"}},
         "annotations[\"rt.network.address\"]: /31 leaves no room for a gateway and a container"},
        {{{"rt.network.bridge", "b"}, {"rt.network.address", "10.0.0.255/24"}},
         "10.0.0.255 is the broadcast address of 10.0.0.0/24"},
        {{{"rt.network.bridge", "b"},
          {"rt.network.address", "10.0.0.2/24"},
          {"rt.network.gateway", "10.0.1.1"}},
         "annotations[\"rt.network.gateway\"]: 10.0.1.1 is outside the subnet 10.0.0.0/24"},
        {{{"rt.network.bridge", "b"},
          {"rt.network.address", "10.0.0.2/24"},
          {"rt.network.gateway", "10.0.0.1/16"}},
         "annotations[\"rt.network.gateway\"]: 10.0.0.1/16 has another prefix than the address 10.0.0.2/24"},
        {{{"rt.network.bridge", "b"},
          {"rt.network.address", "10.0.0.2/24"},
          {"rt.network.gateway", "10.0.0.2"}},
         "annotations[\"rt.network.address\"]: 10.0.0.2 is the gateway's address"},
        {{{"rt.network.bridge", "b"}, {"rt.network.mtu", "67"}},
         "annotations[\"rt.network.mtu\"]: \"67\" is not an MTU"},
        {{{"rt.network.bridge", "b"}, {"rt.network.mtu", "65536"}}, "\"65536\" is not an MTU"},
        {{{"rt.network.bridge", "b"}, {"rt.network.interface", "a:b"}},
         "\"a:b\" is not a valid interface name"},
        {{{"rt.network.bridge", ""}},
         "annotations[\"rt.network.bridge\"]: \"\" is not a valid interface name"},
        {{{"rt.network.bridge", "b"}, {"rt.network.dns", "1.2.3.4,,"}}, "\"\" is not an IP address"},
        {{{"rt.network.bridge", "b"}, {"rt.network.typo", "x"}},
         "annotations[\"rt.network.typo\"]: unknown network annotation"},
        {{{"rt.network.mtu", "1500"}}, "annotations[\"rt.network.mtu\"]: set without rt.network.bridge"},
    };
    for (const auto& [ann, error] : cases) {
        INFO(error);
        CHECK_THROWS_WITH(parse(ann, true), Catch::Contains(error));
    }
    CHECK_THROWS_WITH(
        parse({{"rt.network.bridge", "b"}}, false),
        Catch::Contains("annotations[\"rt.network.bridge\"]: a network needs a new network namespace"));
}

TEST_CASE("the host veth name is a valid link name, stable, and differs between ids", "[network]") {
    using rt::network::host_veth_name;
    CHECK(host_veth_name("web") == host_veth_name("web"));
    CHECK(host_veth_name("web") != host_veth_name("web2"));
    CHECK(host_veth_name("web").rfind("vethweb", 0) == 0);
    for (const std::string id : {"a", "a-very-long-container-id-0123456789", "x/../y", "日本"}) {
        std::string n = host_veth_name(id);
        CHECK(n.size() <= 15);
        CHECK(n.find_first_of("/: \t") == std::string::npos);
    }
}

TEST_CASE("the network record survives the state.json round trip", "[network]") {
    char tmpl[] = "/tmp/rt-unit-net-XXXXXX";
    std::string root = ::mkdtemp(tmpl);
    {
        auto d = rt::state::StateDir::create(root, "c1");
        rt::state::Record r;
        r.state.ociVersion = "1.1.0";
        r.state.id = "c1";
        r.state.bundle = "/b";
        r.network = {{"bridge", "br0"}, {"veth", "vethc1abcdef"}, {"lease", "10.0.0.2"}};
        d.write(r);
        CHECK(d.read().network == r.network);
        rt::state::Record none = r;
        none.network = nullptr;
        d.write(none);
        CHECK(d.read().network.is_null());
    }
    rt::remove_all(root);
}
