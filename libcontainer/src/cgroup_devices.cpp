// Device rules (linux.resources.devices), in order, later rules overriding earlier ones.
//
// v1: each rule is one write to devices.deny or devices.allow ("c 1:3 rwm", "a" for all). A new
// cgroup starts allowing everything (its parent's list), so the usual list starts with deny "a".
//
// cgroup2 has no devices files: the kernel runs a BPF_PROG_TYPE_CGROUP_DEVICE program attached to
// the cgroup on every open/mknod of a device node and allows it when the program returns 1.
// rt writes that program itself, from the rule list, with the same meaning as the v1 files:
//
//   prologue   r2 = type (ctx->access_type & 0xffff)   BPF_DEVCG_DEV_BLOCK 1, _CHAR 2
//              r3 = access (ctx->access_type >> 16)    BPF_DEVCG_ACC_MKNOD 1, _READ 2, _WRITE 4
//              r4 = ctx->major, r5 = ctx->minor
//   per rule, last rule first (the last matching rule decides):
//              if r2 != TYPE goto next                  (omitted for type a)
//              r1 = r3; r1 &= ACCESS; if r1 != r3 goto next   (omitted for rwm)
//              if r4 != MAJOR goto next                 (omitted for *)
//              if r5 != MINOR goto next                 (omitted for *)
//              r0 = ALLOW; exit
//   next: ...  a rule that matches everything ends the list (earlier rules cannot be reached)
//   default    r0 = 1; exit                           (as a new v1 cgroup: allow)
//
// The program is loaded with bpf(BPF_PROG_LOAD) and attached with BPF_PROG_ATTACH
// (BPF_F_ALLOW_MULTI) to the cgroup2 directory; programs attached before (an earlier create or
// update) are detached afterwards, so there is never a moment without rules.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroups.hpp"
#include "rt/error.hpp"

namespace rt::cgroups {

namespace {

static_assert(sizeof(BpfInsn) == sizeof(struct bpf_insn), "BpfInsn must match struct bpf_insn");

constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

BpfInsn ldx_w(uint8_t dst, uint8_t src, int16_t off) {
    return {static_cast<uint8_t>(BPF_LDX | BPF_MEM | BPF_W), dst, src, off, 0};
}
BpfInsn alu32_k(uint8_t op, uint8_t dst, int32_t imm) {
    return {static_cast<uint8_t>(BPF_ALU | op | BPF_K), dst, 0, 0, imm};
}
BpfInsn mov64_r(uint8_t dst, uint8_t src) {
    return {static_cast<uint8_t>(BPF_ALU64 | BPF_MOV | BPF_X), dst, src, 0, 0};
}
BpfInsn mov64_k(uint8_t dst, int32_t imm) {
    return {static_cast<uint8_t>(BPF_ALU64 | BPF_MOV | BPF_K), dst, 0, 0, imm};
}
BpfInsn jne_k(uint8_t dst, int32_t imm, int16_t off) {
    return {static_cast<uint8_t>(BPF_JMP | BPF_JNE | BPF_K), dst, 0, off, imm};
}
BpfInsn jne_r(uint8_t dst, uint8_t src, int16_t off) {
    return {static_cast<uint8_t>(BPF_JMP | BPF_JNE | BPF_X), dst, src, off, 0};
}
BpfInsn exit_insn() { return {static_cast<uint8_t>(BPF_JMP | BPF_EXIT), 0, 0, 0, 0}; }

int access_bits(const std::string& access) {
    int bits = 0;
    for (char c : access)
        bits |= c == 'm' ? BPF_DEVCG_ACC_MKNOD : c == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
    return bits;
}

std::string v1_rule(const DeviceRule& r) {
    if (r.type == 'a') return "a";
    auto num = [](int64_t v) { return v == kWildcard ? std::string("*") : std::to_string(v); };
    return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

long bpf(int cmd, union bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

// BPF_PROG_LOAD of a cgroup device program; the verifier's log is in the error when it refuses.
UniqueFd load_program(const std::vector<BpfInsn>& insns) {
    static const char license[] = "Apache";
    auto load = [&](char* log, uint32_t log_size) {
        union bpf_attr attr {};
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = reinterpret_cast<uint64_t>(insns.data());
        attr.insn_cnt = static_cast<uint32_t>(insns.size());
        attr.license = reinterpret_cast<uint64_t>(license);
        if (log) {
            attr.log_buf = reinterpret_cast<uint64_t>(log);
            attr.log_size = log_size;
            attr.log_level = 1;
        }
        return static_cast<int>(bpf(BPF_PROG_LOAD, &attr));
    };
    int fd = load(nullptr, 0);
    if (fd >= 0) return UniqueFd(fd);
    int err = errno;
    if (err == EINVAL || err == EACCES) {
        std::string log(16384, '\0');
        if (load(log.data(), static_cast<uint32_t>(log.size())) < 0) {
            log.resize(std::strlen(log.c_str()));
            while (!log.empty() && log.back() == '\n') log.pop_back();
            for (auto& c : log)
                if (c == '\n') c = ' ';
            throw Error("linux.resources.devices: load the device eBPF program: " +
                            std::string(std::strerror(err)) + (log.empty() ? "" : " (verifier: " + log + ")"),
                        err);
        }
    }
    throw_errno("linux.resources.devices: load the device eBPF program", err);
}

// Ids of the device programs attached to the cgroup directory now.
std::vector<uint32_t> attached_programs(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    union bpf_attr attr {};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, &attr) < 0)
        throw_errno("linux.resources.devices: query attached device programs");
    ids.resize(attr.query.prog_cnt);
    return ids;
}

void attach_v2(const std::string& dir, const std::vector<DeviceRule>& rules) {
    UniqueFd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cg) throw_errno("linux.resources.devices: open " + dir);
    std::vector<uint32_t> old = attached_programs(cg.get());
    UniqueFd prog = load_program(device_program(rules));
    union bpf_attr attr {};
    attr.target_fd = static_cast<uint32_t>(cg.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attr) < 0)
        throw_errno("linux.resources.devices: attach the device eBPF program to " + dir);
    for (uint32_t id : old) {
        union bpf_attr get {};
        get.prog_id = id;
        UniqueFd fd(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &get)));
        if (!fd) continue;  // gone already
        union bpf_attr det {};
        det.target_fd = static_cast<uint32_t>(cg.get());
        det.attach_bpf_fd = static_cast<uint32_t>(fd.get());
        det.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, &det) < 0 && errno != ENOENT)
            throw_errno("linux.resources.devices: detach the previous device program from " + dir);
    }
}

void write_v1(const std::string& dir, const std::vector<DeviceRule>& rules) {
    UniqueFd allow, deny;
    for (const auto& r : rules) {
        UniqueFd& fd = r.allow ? allow : deny;
        const char* file = r.allow ? "devices.allow" : "devices.deny";
        std::string path = dir + "/" + file;
        if (!fd) {
            fd.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
            if (!fd) throw_errno("linux.resources.devices: open " + path);
        }
        std::string line = v1_rule(r);
        ssize_t n;
        do n = ::write(fd.get(), line.data(), line.size());
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            int err = errno;
            throw Error(
                "linux.resources.devices: write \"" + line + "\" to " + path + ": " + std::strerror(err),
                err);
        }
    }
}

}  // namespace

std::vector<BpfInsn> device_program(const std::vector<DeviceRule>& rules) {
    std::vector<BpfInsn> p = {
        ldx_w(R2, R1, 0), alu32_k(BPF_AND, R2, 0xffff),  // type
        ldx_w(R3, R1, 0), alu32_k(BPF_RSH, R3, 16),      // access
        ldx_w(R4, R1, 4),                                // major
        ldx_w(R5, R1, 8),                                // minor
    };
    bool ended = false;
    for (auto it = rules.rbegin(); it != rules.rend() && !ended; ++it) {
        const DeviceRule& r = *it;
        int bits = access_bits(r.access);
        bool all_access = bits == (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
        // A rule of type 'a' covers every device whatever its numbers (as the v1 files).
        bool any_dev = r.type == 'a';
        bool check_major = !any_dev && r.major != kWildcard;
        bool check_minor = !any_dev && r.minor != kWildcard;
        int checks = (any_dev ? 0 : 1) + (all_access ? 0 : 3) + (check_major ? 1 : 0) + (check_minor ? 1 : 0);
        // Each check jumps over the rest of this block (its remaining checks + 2: mov, exit).
        int16_t left = static_cast<int16_t>(checks + 2);
        auto skip = [&](int16_t used) { return static_cast<int16_t>(left - used); };
        int16_t pos = 0;
        if (!any_dev) {
            p.push_back(jne_k(R2, r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, skip(++pos)));
        }
        if (!all_access) {
            p.push_back(mov64_r(R1, R3));
            ++pos;
            p.push_back(alu32_k(BPF_AND, R1, bits));
            ++pos;
            p.push_back(jne_r(R1, R3, skip(++pos)));
        }
        if (check_major) p.push_back(jne_k(R4, static_cast<int32_t>(r.major), skip(++pos)));
        if (check_minor) p.push_back(jne_k(R5, static_cast<int32_t>(r.minor), skip(++pos)));
        p.push_back(mov64_k(R0, r.allow ? 1 : 0));
        p.push_back(exit_insn());
        ended = checks == 0;
    }
    if (!ended) {
        p.push_back(mov64_k(R0, 1));
        p.push_back(exit_insn());
    }
    return p;
}

void apply_devices(const Locator& where, const std::vector<DeviceRule>& rules) {
    if (const Hierarchy* h = where.find("devices", false); h && !h->v2) {
        write_v1(h->dir, rules);
        return;
    }
    const Hierarchy* v2 = where.v2();
    if (!v2)
        throw Error("linux.resources.devices: no devices controller and no cgroup2 hierarchy on this host");
    attach_v2(v2->dir, rules);
}

}  // namespace rt::cgroups
