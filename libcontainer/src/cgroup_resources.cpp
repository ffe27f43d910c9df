// linux.resources: parsed once from config.json (or `rt update`), written to the cgroup files of
// whichever hierarchy serves each controller. Only what is set is written. On cgroup2 the v1
// values are converted as runc and crun do:
//   cpu.shares 2..262144        -> cpu.weight 1 + (shares - 2) * 9999 / 262142
//   cpu quota/period            -> cpu.max "QUOTA|max PERIOD"
//   blkio weight 10..1000       -> io.bfq.weight as is, else io.weight 1 + (w - 10) * 9999 / 990
//   memory swap (memory+swap)   -> memory.swap.max = swap - limit
//   memory reservation          -> memory.low
//   throttle devices            -> io.max "MAJ:MIN rbps=|wbps=|riops=|wiops=N"
//   hugetlb <size>.limit_in_bytes -> hugetlb.<size>.max
// swappiness, disableOOMKiller, kernel memory and net_cls/net_prio have no cgroup2 file: set on a
// cgroup2-only host they are an error rather than silently dropped.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "cgroups.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::cgroups {

namespace {

using nlohmann::json;

// ---- parsing --------------------------------------------------------------------------------

[[noreturn]] void bad(const std::string& path, const std::string& why) { throw Error(path + ": " + why); }

const json* field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<int64_t> get_i64(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) bad(where + "." + key, "must be an integer");
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        bad(where + "." + key, "out of range");
    return v->get<int64_t>();
}

template <typename T>
std::optional<T> get_uint(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() ||
        (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0))
        bad(where + "." + key, "must be a non-negative integer");
    uint64_t u = v->get<uint64_t>();
    if (u > std::numeric_limits<T>::max()) bad(where + "." + key, "out of range");
    return static_cast<T>(u);
}

std::string get_str(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key);
    if (!v) return "";
    if (!v->is_string()) bad(where + "." + key, "must be a string");
    return v->get<std::string>();
}

const json* get_obj(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key);
    if (v && !v->is_object()) bad(where + "." + key, "must be an object");
    return v;
}

const json* get_arr(const json& obj, const char* key, const std::string& where) {
    const json* v = field(obj, key);
    if (v && !v->is_array()) bad(where + "." + key, "must be an array");
    return v;
}

std::vector<ThrottleDevice> throttles(const json& obj, const char* key, const std::string& where) {
    std::vector<ThrottleDevice> out;
    const json* a = get_arr(obj, key, where);
    if (!a) return out;
    for (size_t i = 0; i < a->size(); ++i) {
        std::string p = where + "." + key + "[" + std::to_string(i) + "]";
        if (!(*a)[i].is_object()) bad(p, "must be an object");
        ThrottleDevice d;
        auto maj = get_i64((*a)[i], "major", p), min = get_i64((*a)[i], "minor", p);
        auto rate = get_uint<uint64_t>((*a)[i], "rate", p);
        if (!maj || !min) bad(p, "major and minor are required");
        if (!rate) bad(p + ".rate", "required");
        d.major = *maj;
        d.minor = *min;
        d.rate = *rate;
        out.push_back(d);
    }
    return out;
}

// ---- writing ---------------------------------------------------------------------------------

std::string str(int64_t v) { return std::to_string(v); }

// "max" for the unlimited values (-1, or 0 for pids as runc).
std::string v2_limit(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

const Hierarchy& need(const Locator& where, const char* ctl, const char* what) {
    const Hierarchy* h = where.find(ctl, true);
    if (!h)
        throw Error(std::string("linux.resources.") + what + ": the " + ctl +
                    " controller is not available on this host");
    return *h;
}

uint64_t read_u64(const std::string& path) {
    auto s = read_file(path);
    if (s.rfind("max", 0) == 0) return std::numeric_limits<uint64_t>::max();
    return std::stoull(s);
}

void memory_v1(const Hierarchy& h, const Resources::Memory& m, bool creating) {
    const std::string& d = h.dir;
    std::optional<int64_t> limit = m.limit, swap = m.swap;
    if (limit && *limit == -1 && !swap) swap = -1;  // unlimited memory: unlimited swap too (runc)
    if (m.check_before_update && limit && *limit > 0 && !creating) {
        uint64_t usage = read_u64(d + "/memory.usage_in_bytes");
        if (usage > static_cast<uint64_t>(*limit))
            throw Error("linux.resources.memory.limit: " + str(*limit) + " is below the current usage " +
                        std::to_string(usage));
    }
    auto set_limit = [&] {
        try {
            write_value(d, "memory.limit_in_bytes", str(*limit));
        } catch (const Error& e) {
            if (e.errnum() != EBUSY) throw;
            throw Error(std::string(e.what()) + " (current usage " +
                            std::to_string(read_u64(d + "/memory.usage_in_bytes")) + ")",
                        EBUSY);
        }
    };
    auto set_swap = [&] { write_value(d, "memory.memsw.limit_in_bytes", str(*swap)); };
    if (limit && swap) {
        // memory.limit <= memory.memsw.limit at every step: raise memsw first when growing.
        uint64_t cur =
            creating ? std::numeric_limits<uint64_t>::max() : read_u64(d + "/memory.limit_in_bytes");
        if (*swap == -1 || cur < static_cast<uint64_t>(*swap)) {
            set_swap();
            set_limit();
        } else {
            set_limit();
            set_swap();
        }
    } else if (limit) {
        set_limit();
    } else if (swap) {
        set_swap();
    }
    if (m.reservation) write_value(d, "memory.soft_limit_in_bytes", str(*m.reservation));
    if (m.kernel) write_value(d, "memory.kmem.limit_in_bytes", str(*m.kernel));
    if (m.kernel_tcp) write_value(d, "memory.kmem.tcp.limit_in_bytes", str(*m.kernel_tcp));
    if (m.swappiness) {
        if (*m.swappiness > 100)
            throw Error("linux.resources.memory.swappiness: " + std::to_string(*m.swappiness) +
                        " is not in 0..100");
        write_value(d, "memory.swappiness", std::to_string(*m.swappiness));
    }
    if (m.disable_oom_killer && *m.disable_oom_killer) write_value(d, "memory.oom_control", "1");
    if (m.use_hierarchy) write_value(d, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0");
}

void memory_v2(const Hierarchy& h, const Resources::Memory& m, bool creating) {
    const std::string& d = h.dir;
    if (m.swappiness || (m.disable_oom_killer && *m.disable_oom_killer) || m.kernel || m.kernel_tcp)
        throw Error(
            "linux.resources.memory: swappiness, disableOOMKiller, kernel and kernelTCP need cgroup v1 (no "
            "cgroup2 file)");
    if (m.check_before_update && m.limit && *m.limit > 0 && !creating) {
        uint64_t usage = read_u64(d + "/memory.current");
        if (usage > static_cast<uint64_t>(*m.limit))
            throw Error("linux.resources.memory.limit: " + str(*m.limit) + " is below the current usage " +
                        std::to_string(usage));
    }
    if (m.swap) {
        // OCI swap is memory+swap; memory.swap.max is swap alone.
        int64_t swap = *m.swap;
        if (swap > 0) {
            if (!m.limit || *m.limit <= 0)
                throw Error("linux.resources.memory.swap: a swap limit needs a memory limit");
            if (swap < *m.limit)
                throw Error("linux.resources.memory.swap: " + str(swap) + " is below memory.limit " +
                            str(*m.limit) + " (swap is memory+swap)");
            swap -= *m.limit;
        }
        if (swap != 0 || *m.swap == 0) write_value(d, "memory.swap.max", v2_limit(swap));
    } else if (m.limit && *m.limit == -1 && !::access((d + "/memory.swap.max").c_str(), F_OK)) {
        write_value(d, "memory.swap.max", "max");
    }
    if (m.limit) write_value(d, "memory.max", v2_limit(*m.limit));
    if (m.reservation) write_value(d, "memory.low", v2_limit(*m.reservation));
}

void cpu_v1(const Locator& where, const Resources::Cpu& c) {
    bool any_cpu =
        c.shares || c.period || c.quota || c.burst || c.realtime_period || c.realtime_runtime || c.idle;
    if (any_cpu) {
        const std::string& d = need(where, "cpu", "cpu").dir;
        if (c.shares) write_value(d, "cpu.shares", std::to_string(*c.shares));
        // Period before quota; when the old quota does not fit the new period, quota first.
        if (c.period) {
            try {
                write_value(d, "cpu.cfs_period_us", std::to_string(*c.period));
            } catch (const Error& e) {
                if (e.errnum() != EINVAL || !c.quota) throw;
                write_value(d, "cpu.cfs_quota_us", str(*c.quota));
            }
        }
        if (c.quota) write_value(d, "cpu.cfs_quota_us", str(*c.quota));
        if (c.burst) write_value(d, "cpu.cfs_burst_us", std::to_string(*c.burst));
        if (c.realtime_period) write_value(d, "cpu.rt_period_us", std::to_string(*c.realtime_period));
        if (c.realtime_runtime) write_value(d, "cpu.rt_runtime_us", str(*c.realtime_runtime));
        if (c.idle) write_value(d, "cpu.idle", str(*c.idle));
    }
    if (!c.cpus.empty() || !c.mems.empty()) {
        const std::string& d = need(where, "cpuset", "cpu.cpus/mems").dir;
        if (!c.cpus.empty()) write_value(d, "cpuset.cpus", c.cpus);
        if (!c.mems.empty()) write_value(d, "cpuset.mems", c.mems);
    }
}

void cpu_v2(const Locator& where, const Resources::Cpu& c) {
    if (c.realtime_period || c.realtime_runtime)
        throw Error("linux.resources.cpu: realtimePeriod and realtimeRuntime need cgroup v1");
    if (c.shares || c.period || c.quota || c.burst || c.idle) {
        const std::string& d = need(where, "cpu", "cpu").dir;
        if (c.shares && *c.shares != 0) {
            if (*c.shares < 2 || *c.shares > 262144)
                throw Error("linux.resources.cpu.shares: " + std::to_string(*c.shares) +
                            " is not in 2..262144");
            write_value(d, "cpu.weight", std::to_string(1 + ((*c.shares - 2) * 9999) / 262142));
        }
        if (c.quota || c.period) {
            std::string quota, period;
            if (c.quota) quota = *c.quota > 0 ? str(*c.quota) : "max";
            if (c.period) period = std::to_string(*c.period);
            if (quota.empty() || period.empty()) {  // keep the half not given
                auto cur = split(trim_newline(read_file(d + "/cpu.max")), ' ');
                if (quota.empty()) quota = cur.at(0);
                if (period.empty()) period = cur.size() > 1 ? cur[1] : "100000";
            }
            write_value(d, "cpu.max", quota + " " + period);
        }
        if (c.burst) write_value(d, "cpu.max.burst", std::to_string(*c.burst));
        if (c.idle) write_value(d, "cpu.idle", str(*c.idle));
    }
    if (!c.cpus.empty() || !c.mems.empty()) {
        const std::string& d = need(where, "cpuset", "cpu.cpus/mems").dir;
        if (!c.cpus.empty()) write_value(d, "cpuset.cpus", c.cpus);
        if (!c.mems.empty()) write_value(d, "cpuset.mems", c.mems);
    }
}

std::string dev(int64_t major, int64_t minor) { return str(major) + ":" + str(minor); }

void blkio_v1(const Hierarchy& h, const Resources::BlockIO& b) {
    const std::string& d = h.dir;
    // CFQ's blkio.weight, else BFQ's blkio.bfq.weight (same range).
    bool cfq = b.weight || b.leaf_weight || !b.weight_device.empty()
                   ? !::access((d + "/blkio.weight").c_str(), F_OK)
                   : true;
    auto weight_file = [&](bool leaf) -> const char* {
        if (cfq) return leaf ? "blkio.leaf_weight" : "blkio.weight";
        if (leaf) throw Error("linux.resources.blockIO.leafWeight: not supported by the kernel (no CFQ)");
        if (::access((d + "/blkio.bfq.weight").c_str(), F_OK))
            throw Error(
                "linux.resources.blockIO.weight: the kernel has neither blkio.weight nor blkio.bfq.weight");
        return "blkio.bfq.weight";
    };
    if (b.weight) write_value(d, weight_file(false), std::to_string(*b.weight));
    if (b.leaf_weight) write_value(d, weight_file(true), std::to_string(*b.leaf_weight));
    for (const auto& w : b.weight_device) {
        if (w.weight)
            write_value(d, cfq ? "blkio.weight_device" : "blkio.bfq.weight_device",
                        dev(w.major, w.minor) + " " + std::to_string(*w.weight));
        if (w.leaf_weight) {
            weight_file(true);  // throws without CFQ
            write_value(d, "blkio.leaf_weight_device",
                        dev(w.major, w.minor) + " " + std::to_string(*w.leaf_weight));
        }
    }
    auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* file) {
        for (const auto& t : list) write_value(d, file, dev(t.major, t.minor) + " " + std::to_string(t.rate));
    };
    throttle(b.read_bps, "blkio.throttle.read_bps_device");
    throttle(b.write_bps, "blkio.throttle.write_bps_device");
    throttle(b.read_iops, "blkio.throttle.read_iops_device");
    throttle(b.write_iops, "blkio.throttle.write_iops_device");
}

void blkio_v2(const Hierarchy& h, const Resources::BlockIO& b) {
    const std::string& d = h.dir;
    if (b.leaf_weight) throw Error("linux.resources.blockIO.leafWeight: not available on cgroup v2");
    bool bfq = (b.weight || !b.weight_device.empty()) && !::access((d + "/io.bfq.weight").c_str(), F_OK);
    auto convert = [](uint16_t w) {
        return std::to_string(1 + (static_cast<uint64_t>(w) - 10) * 9999 / 990);
    };
    if (b.weight) {
        if (*b.weight < 10 || *b.weight > 1000)
            throw Error("linux.resources.blockIO.weight: " + std::to_string(*b.weight) +
                        " is not in 10..1000");
        if (bfq)
            write_value(d, "io.bfq.weight", std::to_string(*b.weight));
        else
            write_value(d, "io.weight", convert(*b.weight));
    }
    for (const auto& w : b.weight_device) {
        if (w.leaf_weight)
            throw Error("linux.resources.blockIO.weightDevice: leafWeight not available on cgroup v2");
        if (!w.weight) continue;
        if (bfq)
            write_value(d, "io.bfq.weight", dev(w.major, w.minor) + " " + std::to_string(*w.weight));
        else
            write_value(d, "io.weight", dev(w.major, w.minor) + " " + convert(*w.weight));
    }
    auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* key) {
        for (const auto& t : list)
            write_value(d, "io.max", dev(t.major, t.minor) + " " + key + "=" + std::to_string(t.rate));
    };
    throttle(b.read_bps, "rbps");
    throttle(b.write_bps, "wbps");
    throttle(b.read_iops, "riops");
    throttle(b.write_iops, "wiops");
}

bool blkio_set(const Resources::BlockIO& b) {
    return b.weight || b.leaf_weight || !b.weight_device.empty() || !b.read_bps.empty() ||
           !b.write_bps.empty() || !b.read_iops.empty() || !b.write_iops.empty();
}

bool memory_set(const Resources::Memory& m) {
    return m.limit || m.reservation || m.swap || m.kernel || m.kernel_tcp || m.swappiness ||
           m.disable_oom_killer || m.use_hierarchy;
}

}  // namespace

void write_value(const std::string& dir, const char* file, const std::string& value) {
    std::string path = dir + "/" + file;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno("linux.resources: open " + path);
    ssize_t n;
    do n = ::write(fd.get(), value.data(), value.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int err = errno;
        throw Error("linux.resources: write \"" + value + "\" to " + path + ": " + std::strerror(err), err);
    }
}

Resources parse_resources(const json& j, const std::string& where) {
    Resources r;
    if (j.is_null()) return r;
    if (!j.is_object()) bad(where, "must be an object");
    if (const json* a = get_arr(j, "devices", where)) {
        r.devices.emplace();
        for (size_t i = 0; i < a->size(); ++i) {
            std::string p = where + ".devices[" + std::to_string(i) + "]";
            const json& e = (*a)[i];
            if (!e.is_object()) bad(p, "must be an object");
            DeviceRule d;
            const json* allow = field(e, "allow");
            if (!allow || !allow->is_boolean()) bad(p + ".allow", "required, a boolean");
            d.allow = allow->get<bool>();
            std::string type = get_str(e, "type", p);
            if (type.empty()) type = "a";
            if (type != "a" && type != "c" && type != "b")
                bad(p + ".type", "\"" + type + "\" is not one of a, c, b");
            d.type = type[0];
            d.major = get_i64(e, "major", p).value_or(kWildcard);
            d.minor = get_i64(e, "minor", p).value_or(kWildcard);
            if (d.major < kWildcard) bad(p + ".major", "must be >= -1");
            if (d.minor < kWildcard) bad(p + ".minor", "must be >= -1");
            if (field(e, "access")) {
                d.access = get_str(e, "access", p);
                if (d.access.empty() || d.access.find_first_not_of("rwm") != std::string::npos)
                    bad(p + ".access", "\"" + d.access + "\" is not a combination of r, w, m");
            }
            r.devices->push_back(d);
        }
    }
    if (const json* m = get_obj(j, "memory", where)) {
        std::string p = where + ".memory";
        r.memory.limit = get_i64(*m, "limit", p);
        r.memory.reservation = get_i64(*m, "reservation", p);
        r.memory.swap = get_i64(*m, "swap", p);
        r.memory.kernel = get_i64(*m, "kernel", p);
        r.memory.kernel_tcp = get_i64(*m, "kernelTCP", p);
        r.memory.swappiness = get_uint<uint64_t>(*m, "swappiness", p);
        for (const char* k : {"disableOOMKiller", "useHierarchy", "checkBeforeUpdate"}) {
            const json* v = field(*m, k);
            if (v && !v->is_boolean()) bad(p + "." + k, "must be a boolean");
        }
        if (const json* v = field(*m, "disableOOMKiller")) r.memory.disable_oom_killer = v->get<bool>();
        if (const json* v = field(*m, "useHierarchy")) r.memory.use_hierarchy = v->get<bool>();
        if (const json* v = field(*m, "checkBeforeUpdate")) r.memory.check_before_update = v->get<bool>();
    }
    if (const json* c = get_obj(j, "cpu", where)) {
        std::string p = where + ".cpu";
        r.cpu.shares = get_uint<uint64_t>(*c, "shares", p);
        r.cpu.quota = get_i64(*c, "quota", p);
        r.cpu.period = get_uint<uint64_t>(*c, "period", p);
        r.cpu.burst = get_uint<uint64_t>(*c, "burst", p);
        r.cpu.realtime_runtime = get_i64(*c, "realtimeRuntime", p);
        r.cpu.realtime_period = get_uint<uint64_t>(*c, "realtimePeriod", p);
        r.cpu.idle = get_i64(*c, "idle", p);
        r.cpu.cpus = get_str(*c, "cpus", p);
        r.cpu.mems = get_str(*c, "mems", p);
    }
    if (const json* pd = get_obj(j, "pids", where)) {
        r.pids_limit = get_i64(*pd, "limit", where + ".pids");
        if (!r.pids_limit) bad(where + ".pids.limit", "required");
    }
    if (const json* b = get_obj(j, "blockIO", where)) {
        std::string p = where + ".blockIO";
        r.block_io.weight = get_uint<uint16_t>(*b, "weight", p);
        r.block_io.leaf_weight = get_uint<uint16_t>(*b, "leafWeight", p);
        if (const json* a = get_arr(*b, "weightDevice", p)) {
            for (size_t i = 0; i < a->size(); ++i) {
                std::string q = p + ".weightDevice[" + std::to_string(i) + "]";
                if (!(*a)[i].is_object()) bad(q, "must be an object");
                WeightDevice w;
                auto maj = get_i64((*a)[i], "major", q), min = get_i64((*a)[i], "minor", q);
                if (!maj || !min) bad(q, "major and minor are required");
                w.major = *maj;
                w.minor = *min;
                w.weight = get_uint<uint16_t>((*a)[i], "weight", q);
                w.leaf_weight = get_uint<uint16_t>((*a)[i], "leafWeight", q);
                r.block_io.weight_device.push_back(w);
            }
        }
        r.block_io.read_bps = throttles(*b, "throttleReadBpsDevice", p);
        r.block_io.write_bps = throttles(*b, "throttleWriteBpsDevice", p);
        r.block_io.read_iops = throttles(*b, "throttleReadIOPSDevice", p);
        r.block_io.write_iops = throttles(*b, "throttleWriteIOPSDevice", p);
    }
    if (const json* a = get_arr(j, "hugepageLimits", where)) {
        for (size_t i = 0; i < a->size(); ++i) {
            std::string q = where + ".hugepageLimits[" + std::to_string(i) + "]";
            if (!(*a)[i].is_object()) bad(q, "must be an object");
            std::string size = get_str((*a)[i], "pageSize", q);
            auto limit = get_uint<uint64_t>((*a)[i], "limit", q);
            if (size.empty() || size.find_first_of("/ .") != std::string::npos)
                bad(q + ".pageSize", "required, a size such as \"2MB\"");
            if (!limit) bad(q + ".limit", "required");
            r.hugepage_limits.emplace_back(size, *limit);
        }
    }
    if (const json* n = get_obj(j, "network", where)) {
        std::string p = where + ".network";
        r.class_id = get_uint<uint32_t>(*n, "classID", p);
        if (const json* a = get_arr(*n, "priorities", p)) {
            for (size_t i = 0; i < a->size(); ++i) {
                std::string q = p + ".priorities[" + std::to_string(i) + "]";
                if (!(*a)[i].is_object()) bad(q, "must be an object");
                std::string name = get_str((*a)[i], "name", q);
                auto prio = get_uint<uint32_t>((*a)[i], "priority", q);
                if (name.empty() || name.find_first_of(" \n/") != std::string::npos)
                    bad(q + ".name", "required, an interface name");
                if (!prio) bad(q + ".priority", "required");
                r.priorities.emplace_back(name, *prio);
            }
        }
    }
    if (const json* rd = get_obj(j, "rdma", where)) {
        for (const auto& [dev_name, v] : rd->items()) {
            std::string q = where + ".rdma." + dev_name;
            if (!v.is_object()) bad(q, "must be an object");
            if (dev_name.empty() || dev_name.find_first_of(" \n/") != std::string::npos)
                bad(q, "not a device name");
            Resources::Rdma x;
            x.hca_handles = get_uint<uint32_t>(v, "hcaHandles", q);
            x.hca_objects = get_uint<uint32_t>(v, "hcaObjects", q);
            r.rdma[dev_name] = x;
        }
    }
    if (const json* u = get_obj(j, "unified", where)) {
        for (const auto& [k, v] : u->items()) {
            std::string q = where + ".unified." + k;
            if (!v.is_string()) bad(q, "must be a string");
            if (k.empty() || k.find('/') != std::string::npos || k.find('.') == std::string::npos ||
                k[0] == '.')
                bad(q, "not a cgroup2 file name (controller.key)");
            r.unified[k] = v.get<std::string>();
        }
    }
    return r;
}

void add_default_devices(Resources& r, const std::vector<spec::Device>& devices) {
    if (!r.devices) return;
    auto& d = *r.devices;
    d.push_back({true, 'c', kWildcard, kWildcard, "m"});  // mknod of any device; opening is another matter
    d.push_back({true, 'b', kWildcard, kWildcard, "m"});
    for (auto [maj, min] : {std::pair<int64_t, int64_t>{1, 3},  // null
                            {1, 8},                             // random
                            {1, 7},                             // full
                            {5, 0},                             // tty
                            {1, 5},                             // zero
                            {1, 9},                             // urandom
                            {136, kWildcard},                   // pts
                            {5, 2},                             // ptmx
                            {10, 200}})                         // net/tun
        d.push_back({true, 'c', maj, min, "rwm"});
    for (const auto& dev : devices)
        if (dev.type == 'c' || dev.type == 'b' || dev.type == 'u')
            d.push_back({true, dev.type == 'b' ? 'b' : 'c', dev.major, dev.minor, "rwm"});
}

void apply_resources(const Locator& where, const Resources& r, bool creating) {
    if (r.devices) apply_devices(where, *r.devices);
    if (memory_set(r.memory)) {
        const Hierarchy& h = need(where, "memory", "memory");
        if (h.v2)
            memory_v2(h, r.memory, creating);
        else
            memory_v1(h, r.memory, creating);
    }
    const auto& c = r.cpu;
    bool any_cpu =
        c.shares || c.period || c.quota || c.burst || c.realtime_period || c.realtime_runtime || c.idle;
    if (any_cpu || !c.cpus.empty() || !c.mems.empty()) {
        // cgroup2 when that is where the cpu (or cpuset) controller is; v1 otherwise (need() there
        // names what is missing).
        const Hierarchy* h = where.find(any_cpu ? "cpu" : "cpuset", true);
        if (h && h->v2)
            cpu_v2(where, c);
        else
            cpu_v1(where, c);
    }
    if (r.pids_limit) {
        const Hierarchy& h = need(where, "pids", "pids");
        write_value(h.dir, "pids.max", *r.pids_limit > 0 ? str(*r.pids_limit) : "max");
    }
    if (blkio_set(r.block_io)) {
        const Hierarchy* h = where.find("blkio", true);
        if (!h) h = where.find("io", true);
        if (!h) throw Error("linux.resources.blockIO: no blkio (v1) or io (v2) controller on this host");
        if (h->v2)
            blkio_v2(*h, r.block_io);
        else
            blkio_v1(*h, r.block_io);
    }
    for (const auto& [size, limit] : r.hugepage_limits) {
        const Hierarchy& h = need(where, "hugetlb", "hugepageLimits");
        std::string file = "hugetlb." + size + (h.v2 ? ".max" : ".limit_in_bytes");
        if (::access((h.dir + "/" + file).c_str(), F_OK))
            throw Error("linux.resources.hugepageLimits: page size \"" + size + "\" is not supported (no " +
                        file + ")");
        write_value(h.dir, file.c_str(), std::to_string(limit));
    }
    if (r.class_id)
        write_value(need(where, "net_cls", "network.classID").dir, "net_cls.classid",
                    std::to_string(*r.class_id));
    for (const auto& [name, prio] : r.priorities)
        write_value(need(where, "net_prio", "network.priorities").dir, "net_prio.ifpriomap",
                    name + " " + std::to_string(prio));
    for (const auto& [dev_name, x] : r.rdma) {
        if (!x.hca_handles && !x.hca_objects) continue;
        std::string v = dev_name;
        if (x.hca_handles) v += " hca_handle=" + std::to_string(*x.hca_handles);
        if (x.hca_objects) v += " hca_object=" + std::to_string(*x.hca_objects);
        write_value(need(where, "rdma", "rdma").dir, "rdma.max", v);
    }
    for (const auto& [key, value] : r.unified) {
        const Hierarchy* h = where.v2();
        if (!h) throw Error("linux.resources.unified: needs a cgroup2 hierarchy, this host has none");
        std::string ctl = key.substr(0, key.find('.'));
        if (ctl != "cgroup" && !where.find(ctl, true))
            throw Error("linux.resources.unified." + key + ": the " + ctl +
                        " controller is not available in the cgroup2 hierarchy");
        write_value(h->dir, key.c_str(), value);
    }
}

std::string trim_newline(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace rt::cgroups
