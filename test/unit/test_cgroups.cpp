// Unit tests for the cgroups module's pure parts: linux.resources parsing (errors name the JSON
// path), runc's default device list, and the cgroup device eBPF program (shape, jump targets, and
// that the kernel's verifier accepts it when running as root).
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cgroups.hpp"
#include "rt/error.hpp"

using nlohmann::json;
using namespace rt::cgroups;

namespace {

std::string parse_error(const json& j) {
    try {
        parse_resources(j, "config.json: linux.resources");
    } catch (const rt::Error& e) {
        return e.what();
    }
    return "";
}

// Every jump lands inside the program and the program ends with exit.
void check_jumps(const std::vector<BpfInsn>& p) {
    REQUIRE(!p.empty());
    CHECK(p.back().code == (BPF_JMP | BPF_EXIT));
    for (size_t i = 0; i < p.size(); ++i) {
        if ((p[i].code & 0x07) != BPF_JMP || p[i].code == (BPF_JMP | BPF_EXIT)) continue;
        long target = static_cast<long>(i) + 1 + p[i].off;
        CHECK(target > static_cast<long>(i));
        CHECK(target < static_cast<long>(p.size()));
    }
}

}  // namespace

TEST_CASE("linux.resources parse: values and error paths", "[cgroups]") {
    Resources r = parse_resources(json::parse(R"({
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3}],
        "memory": {"limit": 1048576, "swap": -1, "disableOOMKiller": true},
        "cpu": {"shares": 512, "quota": -1, "cpus": "0-1"},
        "pids": {"limit": 10},
        "blockIO": {"weight": 300, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
        "unified": {"memory.high": "100M"}
    })"),
                                  "x");
    REQUIRE(r.devices);
    REQUIRE(r.devices->size() == 2);
    CHECK((*r.devices)[0].type == 'a');
    CHECK((*r.devices)[0].major == kWildcard);
    CHECK((*r.devices)[1].access == "rwm");
    CHECK(r.memory.limit == 1048576);
    CHECK(r.memory.swap == -1);
    CHECK(r.memory.disable_oom_killer == true);
    CHECK(r.cpu.shares == 512u);
    CHECK(r.cpu.quota == -1);
    CHECK(r.cpu.cpus == "0-1");
    CHECK(r.pids_limit == 10);
    CHECK(r.block_io.weight == 300);
    CHECK(r.block_io.read_bps.size() == 1);
    CHECK(r.hugepage_limits.size() == 1);
    CHECK(r.unified.at("memory.high") == "100M");

    CHECK(parse_resources(json(), "x").devices == std::nullopt);
    CHECK(parse_error({{"memory", {{"limit", "1g"}}}}) ==
          "config.json: linux.resources.memory.limit: must be an integer");
    CHECK(parse_error({{"cpu", {{"shares", -5}}}}) ==
          "config.json: linux.resources.cpu.shares: must be a non-negative integer");
    CHECK(parse_error({{"devices", {{{"allow", true}, {"type", "x"}}}}}) ==
          "config.json: linux.resources.devices[0].type: \"x\" is not one of a, c, b");
    CHECK(parse_error({{"devices", {{{"allow", true}, {"access", "rwx"}}}}}) ==
          "config.json: linux.resources.devices[0].access: \"rwx\" is not a combination of r, w, m");
    CHECK(parse_error({{"devices", {{{"access", "r"}}}}}) ==
          "config.json: linux.resources.devices[0].allow: required, a boolean");
    CHECK(parse_error({{"blockIO", {{"weight", 70000}}}}) ==
          "config.json: linux.resources.blockIO.weight: out of range");
    CHECK(parse_error({{"unified", {{"../x", "1"}}}}) ==
          "config.json: linux.resources.unified.../x: not a cgroup2 file name (controller.key)");
    CHECK(parse_error({{"pids", json::object()}}) == "config.json: linux.resources.pids.limit: required");
}

TEST_CASE("runc's default devices follow the spec's rules", "[cgroups]") {
    Resources none;
    add_default_devices(none, {});
    CHECK_FALSE(none.devices);  // no rules: nothing added

    Resources r = parse_resources({{"devices", {{{"allow", false}, {"access", "rwm"}}}}}, "x");
    rt::spec::Device d;
    d.type = 'b';
    d.major = 7;
    d.minor = 0;
    add_default_devices(r, {d});
    REQUIRE(r.devices->size() == 1 + 2 + 9 + 1);
    CHECK((*r.devices)[0].allow == false);
    CHECK((*r.devices)[1].access == "m");
    CHECK(r.devices->back().type == 'b');
    CHECK(r.devices->back().major == 7);
    CHECK(r.devices->back().allow);
}

TEST_CASE("device eBPF program: last rule first, a blanket rule ends it", "[cgroups]") {
    // deny all; allow c 1:3 rwm; deny c 1:3 w; allow b 8:* r
    std::vector<DeviceRule> rules = {{false, 'a', kWildcard, kWildcard, "rwm"},
                                     {true, 'c', 1, 3, "rwm"},
                                     {false, 'c', 1, 3, "w"},
                                     {true, 'b', 8, kWildcard, "r"}};
    auto p = device_program(rules);
    check_jumps(p);
    // prologue 6; b 8:* r: type + 3 access + major + 2 = 7; c 1:3 w: 1+3+1+1+2 = 8;
    // c 1:3 rwm: 1+1+1+2 = 5; deny all: 2 (unconditional, no default after it).
    CHECK(p.size() == 6 + 7 + 8 + 5 + 2);
    CHECK(p[p.size() - 2].imm == 0);  // the blanket deny
    // Without a blanket rule the default is allow (as a new v1 cgroup).
    auto q = device_program({{false, 'c', 1, 1, "rwm"}});
    check_jumps(q);
    CHECK(q[q.size() - 2].imm == 1);
    CHECK(q.size() == 6 + 5 + 2);
    // A blanket rule at the end makes every earlier rule unreachable: not emitted.
    auto a = device_program({{false, 'c', 1, 1, "rwm"}, {true, 'a', kWildcard, kWildcard, "rwm"}});
    CHECK(a.size() == 6 + 2);

    if (geteuid() == 0) {
        // The kernel's verifier accepts it.
        static const char license[] = "Apache";
        union bpf_attr attr {};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<uint64_t>(p.data());
        attr.insn_cnt = static_cast<uint32_t>(p.size());
        attr.license = reinterpret_cast<uint64_t>(license);
        long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
        INFO("errno " << errno);
        CHECK(fd >= 0);
        if (fd >= 0) close(static_cast<int>(fd));
    }
}
