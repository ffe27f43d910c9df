// rt-network-hook: rt's bridge networking as a stock OCI hook, so containers run by runc or crun
// can join an rt bridge. Built from the same library code as `rt create` (network.cpp).
//
//   createRuntime: {"path": "/usr/libexec/rt/rt-network-hook", "args": ["rt-network-hook", "attach"]}
//   poststop:      {"path": "/usr/libexec/rt/rt-network-hook", "args": ["rt-network-hook", "detach"]}
//
// The OCI state arrives on stdin (id, pid, annotations). attach reads the rt.network.*
// annotations, leases an address under the state root (--root, rt's default /run/rt: the same
// leases rt's own containers take), makes the bridge when missing and the veth pair into the
// network namespace of the container's pid. detach gives back the leases held by the id and
// removes the host veth. /etc/hosts and friends are rt's job, not the hook's: a runtime has
// finished its mounts when createRuntime hooks run.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "network.hpp"
#include "rt/container.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace {

constexpr const char* kUsage = "usage: rt-network-hook [--root DIR] attach|detach  (OCI state on stdin)";

std::string netns_of(const std::string& pid) {
    char buf[64] = {};
    std::string path = "/proc/" + pid + "/ns/net";
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) rt::throw_errno("readlink " + path);
    return std::string(buf, static_cast<size_t>(n));
}

int run(const std::string& root, const std::string& verb) {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    nlohmann::json state;
    try {
        state = nlohmann::json::parse(input);
    } catch (const nlohmann::json::exception& e) {
        throw rt::Error(std::string("state on stdin: ") + e.what());
    }
    if (!state.is_object() || !state.contains("id") || !state["id"].is_string())
        throw rt::Error("state on stdin: no \"id\"");
    std::string id = state["id"].get<std::string>();
    rt::validate_id(id);
    if (verb == "detach") {
        for (const auto& w : rt::network::release_by_id(root, id))
            std::fprintf(stderr, "rt-network-hook: warning: %s\n", w.c_str());
        return 0;
    }
    std::map<std::string, std::string> annotations;
    try {
        annotations = state.value("annotations", std::map<std::string, std::string>{});
    } catch (const nlohmann::json::exception& e) {
        throw rt::Error(std::string("state on stdin: annotations: ") + e.what());
    }
    int pid = state.value("pid", 0);
    if (pid <= 0) throw rt::Error("state on stdin: no \"pid\" of the container process");
    std::string p = std::to_string(pid);
    bool new_netns = netns_of(p) != netns_of("self");
    auto plan = rt::network::parse(annotations, new_netns);
    if (!plan) return 0;  // no rt.network.* annotations: nothing to do
    rt::mkdir_all(root, 0711);
    rt::network::Attachment a(*plan, root, id);
    a.attach(pid);
    a.commit();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string root = "/run/rt", verb;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--root" && i + 1 < argc) {
            root = argv[++i];
        } else if (arg.rfind("--root=", 0) == 0) {
            root = arg.substr(7);
        } else if ((arg == "attach" || arg == "detach") && verb.empty()) {
            verb = arg;
        } else if (arg == "-h" || arg == "--help") {
            std::puts(kUsage);
            return 0;
        } else {
            std::fprintf(stderr, "%s\n", kUsage);
            return 2;
        }
    }
    if (verb.empty()) {
        std::fprintf(stderr, "%s\n", kUsage);
        return 2;
    }
    try {
        return run(root, verb);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rt-network-hook: %s: %s\n", verb.c_str(), e.what());
        return 1;
    }
}
