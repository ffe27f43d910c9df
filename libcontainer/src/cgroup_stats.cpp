// Statistics for `rt events`, in runc's JSON shape (runc's types/events.go):
//   cpu     {usage: {total, percpu, kernel, user}, throttling: {periods, throttledPeriods, throttledTime}}
//   memory  {cache, usage|swap|kernel|kernelTCP: {limit, usage, max, failcnt}, raw: {memory.stat}}
//   pids    {current, limit}
//   blkio   {ioServiceBytesRecursive: [{major, minor, op, value}], ioServicedRecursive: [...]}
//   hugetlb {"2MB": {usage, max, failcnt}}
// Times are nanoseconds. Files a host lacks are left out; a controller the host lacks is an empty
// object, as runc prints it.
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <memory>

#include "cgroups.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::cgroups {

namespace {

using nlohmann::json;

std::optional<std::string> read_opt(const std::string& path) {
    try {
        return read_file_if_exists(path);
    } catch (const Error&) {
        return std::nullopt;
    }
}

// A number file; "max" (or a v1 "unlimited" near 2^63) as 0 would hide it: report it as runc does
// (v2 "max" -> UINT64_MAX).
uint64_t num(const std::string& path) {
    auto s = read_opt(path);
    if (!s || s->empty()) return 0;
    if (s->rfind("max", 0) == 0) return std::numeric_limits<uint64_t>::max();
    return std::strtoull(s->c_str(), nullptr, 10);
}

// "key value" lines (memory.stat, cpu.stat, memory.events).
std::map<std::string, uint64_t> keyed(const std::string& path) {
    std::map<std::string, uint64_t> out;
    auto s = read_opt(path);
    if (!s) return out;
    for (const auto& line : split(*s, '\n')) {
        auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        out[line.substr(0, sp)] = std::strtoull(line.c_str() + sp + 1, nullptr, 10);
    }
    return out;
}

json v1_entry(const std::string& dir, const std::string& prefix) {
    return {{"limit", num(dir + "/" + prefix + ".limit_in_bytes")},
            {"usage", num(dir + "/" + prefix + ".usage_in_bytes")},
            {"max", num(dir + "/" + prefix + ".max_usage_in_bytes")},
            {"failcnt", num(dir + "/" + prefix + ".failcnt")}};
}

// blkio.throttle.* lines "8:0 Read 4096" into runc's entries.
json blkio_entries(const std::string& path) {
    json out = json::array();
    auto s = read_opt(path);
    if (!s) return out;
    for (const auto& line : split(*s, '\n')) {
        auto f = split(line, ' ');
        if (f.size() != 3) continue;
        auto mm = split(f[0], ':');
        if (mm.size() != 2) continue;
        out.push_back({{"major", std::strtoull(mm[0].c_str(), nullptr, 10)},
                       {"minor", std::strtoull(mm[1].c_str(), nullptr, 10)},
                       {"op", f[1]},
                       {"value", std::strtoull(f[2].c_str(), nullptr, 10)}});
    }
    return out;
}

// Huge page sizes as the cgroup files name them: hugepages-2048kB -> "2MB".
std::vector<std::string> hugepage_sizes() {
    std::vector<std::string> out;
    DIR* d = ::opendir("/sys/kernel/mm/hugepages");
    if (!d) return out;
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.rfind("hugepages-", 0) != 0) continue;
        uint64_t kb = std::strtoull(n.c_str() + 10, nullptr, 10);
        const char* units[] = {"KB", "MB", "GB", "TB"};
        int u = 0;
        while (kb >= 1024 && kb % 1024 == 0 && u < 3) {
            kb /= 1024;
            ++u;
        }
        out.push_back(std::to_string(kb) + units[u]);
    }
    return out;
}

json cpu_stats(const Locator& where) {
    json cpu = {{"usage", json::object()}, {"throttling", json::object()}};
    const Hierarchy* h = where.find("cpu", false);
    const Hierarchy* acct = where.find("cpuacct", false);
    if (h && h->v2) {
        auto st = keyed(h->dir + "/cpu.stat");
        cpu["usage"] = {{"total", st["usage_usec"] * 1000},
                        {"kernel", st["system_usec"] * 1000},
                        {"user", st["user_usec"] * 1000}};
        cpu["throttling"] = {{"periods", st["nr_periods"]},
                             {"throttledPeriods", st["nr_throttled"]},
                             {"throttledTime", st["throttled_usec"] * 1000}};
        return cpu;
    }
    if (acct) {
        json percpu = json::array();
        if (auto s = read_opt(acct->dir + "/cpuacct.usage_percpu"))
            for (const auto& f : split(trim_newline(*s), ' '))
                if (!f.empty()) percpu.push_back(std::strtoull(f.c_str(), nullptr, 10));
        auto st = keyed(acct->dir + "/cpuacct.stat");  // USER_HZ ticks
        uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
        cpu["usage"] = {{"total", num(acct->dir + "/cpuacct.usage")},
                        {"percpu", percpu},
                        {"kernel", st["system"] * ns_per_tick},
                        {"user", st["user"] * ns_per_tick}};
    }
    if (h) {
        auto st = keyed(h->dir + "/cpu.stat");
        cpu["throttling"] = {{"periods", st["nr_periods"]},
                             {"throttledPeriods", st["nr_throttled"]},
                             {"throttledTime", st["throttled_time"]}};
    }
    return cpu;
}

json memory_stats(const Locator& where) {
    const Hierarchy* h = where.find("memory", false);
    if (!h) return json::object();
    const std::string& d = h->dir;
    if (h->v2) {
        auto raw = keyed(d + "/memory.stat");
        auto ev = keyed(d + "/memory.events");
        json m = {{"cache", raw["file"]},
                  {"usage",
                   {{"limit", num(d + "/memory.max")},
                    {"usage", num(d + "/memory.current")},
                    {"max", num(d + "/memory.peak")},
                    {"failcnt", ev["max"]}}},
                  {"swap",
                   {{"limit", num(d + "/memory.swap.max")},
                    {"usage", num(d + "/memory.swap.current")},
                    {"failcnt", 0}}},
                  {"raw", raw}};
        return m;
    }
    auto raw = keyed(d + "/memory.stat");
    json m = {{"cache", raw["cache"]},
              {"usage", v1_entry(d, "memory")},
              {"kernel", v1_entry(d, "memory.kmem")},
              {"kernelTCP", v1_entry(d, "memory.kmem.tcp")},
              {"raw", raw}};
    if (!::access((d + "/memory.memsw.usage_in_bytes").c_str(), F_OK))
        m["swap"] = v1_entry(d, "memory.memsw");
    return m;
}

json pids_stats(const Locator& where) {
    const Hierarchy* h = where.find("pids", false);
    if (!h) return json::object();
    uint64_t limit = num(h->dir + "/pids.max");
    return {{"current", num(h->dir + "/pids.current")},
            {"limit", limit == std::numeric_limits<uint64_t>::max() ? 0 : limit}};
}

json blkio_stats(const Locator& where) {
    const Hierarchy* h = where.find("blkio", false);
    if (!h) h = where.find("io", false);
    if (!h) return json::object();
    if (!h->v2)
        return {
            {"ioServiceBytesRecursive", blkio_entries(h->dir + "/blkio.throttle.io_service_bytes_recursive")},
            {"ioServicedRecursive", blkio_entries(h->dir + "/blkio.throttle.io_serviced_recursive")}};
    // io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    json bytes = json::array(), ios = json::array();
    if (auto s = read_opt(h->dir + "/io.stat")) {
        for (const auto& line : split(*s, '\n')) {
            auto f = split(line, ' ');
            if (f.empty()) continue;
            auto mm = split(f[0], ':');
            if (mm.size() != 2) continue;
            uint64_t maj = std::strtoull(mm[0].c_str(), nullptr, 10),
                     min = std::strtoull(mm[1].c_str(), nullptr, 10);
            for (size_t i = 1; i < f.size(); ++i) {
                auto eq = f[i].find('=');
                if (eq == std::string::npos) continue;
                std::string k = f[i].substr(0, eq);
                uint64_t v = std::strtoull(f[i].c_str() + eq + 1, nullptr, 10);
                json e = {{"major", maj}, {"minor", min}, {"value", v}};
                if (k == "rbytes" || k == "wbytes") {
                    e["op"] = k == "rbytes" ? "Read" : "Write";
                    bytes.push_back(e);
                } else if (k == "rios" || k == "wios") {
                    e["op"] = k == "rios" ? "Read" : "Write";
                    ios.push_back(e);
                }
            }
        }
    }
    return {{"ioServiceBytesRecursive", bytes}, {"ioServicedRecursive", ios}};
}

json hugetlb_stats(const Locator& where) {
    json out = json::object();
    const Hierarchy* h = where.find("hugetlb", false);
    if (!h) return out;
    for (const auto& size : hugepage_sizes()) {
        std::string p = h->dir + "/hugetlb." + size;
        if (::access((p + (h->v2 ? ".current" : ".usage_in_bytes")).c_str(), F_OK)) continue;
        if (h->v2)
            out[size] = {{"usage", num(p + ".current")},
                         {"max", num(p + ".max")},
                         {"failcnt", keyed(p + ".events")["max"]}};
        else
            out[size] = {{"usage", num(p + ".usage_in_bytes")},
                         {"max", num(p + ".max_usage_in_bytes")},
                         {"failcnt", num(p + ".failcnt")}};
    }
    return out;
}

}  // namespace

json read_stats(const Locator& where) {
    return {{"cpu", cpu_stats(where)},
            {"memory", memory_stats(where)},
            {"pids", pids_stats(where)},
            {"blkio", blkio_stats(where)},
            {"hugetlb", hugetlb_stats(where)}};
}

}  // namespace rt::cgroups
