// rt update [options] ID: change a container's cgroup limits, as runc update. Either
// --resources FILE (a linux.resources JSON object; "-" reads stdin) or the flags below; only what
// is given changes.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>

#include "cli.hpp"

namespace rt::cli {

namespace {

// A byte size as runc takes it: "1024", "512k", "64m", "1g", "2GB", "-1" (unlimited).
int64_t parse_size(const std::string& flag, const std::string& s) {
    if (s == "-1") return -1;
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(s, &used);
    } catch (...) {
        throw Error("--" + flag + ": invalid size \"" + s + "\"");
    }
    std::string unit;
    for (size_t i = used; i < s.size(); ++i)
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (unit.size() == 2 && unit[1] == 'b') unit.resize(1);
    if (unit == "b") unit.clear();
    double mult = unit.empty()  ? 1
                  : unit == "k" ? 1024.0
                  : unit == "m" ? 1048576.0
                  : unit == "g" ? 1073741824.0
                  : unit == "t" ? 1099511627776.0
                                : -1;
    if (mult < 0 || v < 0) throw Error("--" + flag + ": invalid size \"" + s + "\"");
    return static_cast<int64_t>(v * mult);
}

int64_t parse_int(const std::string& flag, const std::string& s) {
    try {
        size_t used = 0;
        long long v = std::stoll(s, &used);
        if (used == s.size()) return v;
    } catch (...) {
    }
    throw Error("--" + flag + ": invalid number \"" + s + "\"");
}

uint64_t parse_uint(const std::string& flag, const std::string& s) {
    int64_t v = parse_int(flag, s);
    if (v < 0) throw Error("--" + flag + ": must not be negative: \"" + s + "\"");
    return static_cast<uint64_t>(v);
}

}  // namespace

int cmd_update(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt update", "Update a container's resource limits");
    o.custom_help("[options] <container-id>");
    std::string resources;
    std::map<std::string, std::string> v;
    const char* flags[][2] = {
        {"blkio-weight", "Block IO weight, 10..1000"},
        {"cpu-period", "CPU CFS period (microseconds)"},
        {"cpu-quota", "CPU CFS quota (microseconds)"},
        {"cpu-share", "CPU shares (relative weight)"},
        {"cpu-shares", "Same as --cpu-share"},
        {"cpu-rt-period", "CPU realtime period (microseconds)"},
        {"cpu-rt-runtime", "CPU realtime runtime (microseconds)"},
        {"cpu-idle", "CPU idle policy (0 or 1)"},
        {"cpuset-cpus", "CPUs to use (0-3, 0,1)"},
        {"cpuset-mems", "Memory nodes to use (0-3, 0,1)"},
        {"memory", "Memory limit (bytes, or 512m, 1g; -1: unlimited)"},
        {"memory-reservation", "Memory soft limit"},
        {"memory-swap", "Memory plus swap limit (-1: unlimited swap)"},
        {"kernel-memory", "Kernel memory limit (cgroup v1)"},
        {"kernel-memory-tcp", "Kernel TCP buffer limit (cgroup v1)"},
        {"pids-limit", "Maximum number of pids (0 or -1: unlimited)"},
        {"l3-cache-schema", "Intel RDT L3 cache schema (not supported)"},
        {"mem-bw-schema", "Intel RDT memory bandwidth schema (not supported)"},
    };
    o.add_options()("r,resources", "linux.resources JSON file (\"-\": stdin); the flags are ignored then",
                    cxxopts::value(resources));
    for (auto& f : flags) o.add_options()(f[0], f[1], cxxopts::value(v[f[0]]));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    std::string id = container_id(pos, "update");

    nlohmann::json r = nlohmann::json::object();
    if (!resources.empty()) {
        std::string text;
        if (resources == "-") {
            text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            std::ifstream in(resources);
            if (!in) throw Error("update: read " + resources + ": " + std::strerror(errno));
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        try {
            r = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw Error("update: " + (resources == "-" ? std::string("stdin") : resources) + ": " + e.what());
        }
    } else {
        auto set = [&](const char* flag) { return !v[flag].empty(); };
        if (!v["l3-cache-schema"].empty() || !v["mem-bw-schema"].empty())
            throw Error("update: Intel RDT (--l3-cache-schema, --mem-bw-schema) is not supported by rt");
        if (set("blkio-weight")) r["blockIO"]["weight"] = parse_uint("blkio-weight", v["blkio-weight"]);
        if (set("cpu-period")) r["cpu"]["period"] = parse_uint("cpu-period", v["cpu-period"]);
        if (set("cpu-quota")) r["cpu"]["quota"] = parse_int("cpu-quota", v["cpu-quota"]);
        for (const char* f : {"cpu-share", "cpu-shares"})
            if (set(f)) r["cpu"]["shares"] = parse_uint(f, v[f]);
        if (set("cpu-rt-period"))
            r["cpu"]["realtimePeriod"] = parse_uint("cpu-rt-period", v["cpu-rt-period"]);
        if (set("cpu-rt-runtime"))
            r["cpu"]["realtimeRuntime"] = parse_int("cpu-rt-runtime", v["cpu-rt-runtime"]);
        if (set("cpu-idle")) r["cpu"]["idle"] = parse_int("cpu-idle", v["cpu-idle"]);
        if (set("cpuset-cpus")) r["cpu"]["cpus"] = v["cpuset-cpus"];
        if (set("cpuset-mems")) r["cpu"]["mems"] = v["cpuset-mems"];
        if (set("memory")) r["memory"]["limit"] = parse_size("memory", v["memory"]);
        if (set("memory-reservation"))
            r["memory"]["reservation"] = parse_size("memory-reservation", v["memory-reservation"]);
        if (set("memory-swap")) r["memory"]["swap"] = parse_size("memory-swap", v["memory-swap"]);
        if (set("kernel-memory")) r["memory"]["kernel"] = parse_size("kernel-memory", v["kernel-memory"]);
        if (set("kernel-memory-tcp"))
            r["memory"]["kernelTCP"] = parse_size("kernel-memory-tcp", v["kernel-memory-tcp"]);
        if (set("pids-limit")) r["pids"]["limit"] = parse_int("pids-limit", v["pids-limit"]);
    }
    make_runtime(g).update(id, r);
    return 0;
}

}  // namespace rt::cli
