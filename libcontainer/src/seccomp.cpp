#include "seccomp.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include "fd.hpp"
#include "rt/error.hpp"
#include "terminal.hpp"
#include "util.hpp"

namespace rt::seccomp {

namespace {

using nlohmann::json;

// "config.json: linux.seccomp.<sub>: <why>"
[[noreturn]] void fail(const std::string& sub, const std::string& why) {
    throw Error("config.json: linux.seccomp" + (sub.empty() ? "" : "." + sub) + ": " + why);
}

const json* field(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string string_at(const json& obj, const char* key, const std::string& path) {
    const json* v = field(obj, key);
    if (!v) return "";
    if (!v->is_string()) fail(path + key, "must be a string");
    return v->get<std::string>();
}

std::optional<uint64_t> uint_at(const json& obj, const char* key, const std::string& path) {
    const json* v = field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_number_unsigned()) fail(path + key, "must be a non-negative integer");
    return v->get<uint64_t>();
}

const json* array_at(const json& obj, const char* key, const std::string& path) {
    const json* v = field(obj, key);
    if (v && !v->is_array()) fail(path + key, "must be an array");
    return v;
}

// An OCI action name with its errno/trace value; errno_ret is errnoRet (or defaultErrnoRet).
uint32_t action(const std::string& name, std::optional<uint64_t> errno_ret, const std::string& path) {
    auto ret = [&] { return static_cast<uint16_t>(errno_ret.value_or(EPERM)); };
    if (errno_ret && name != "SCMP_ACT_ERRNO" && name != "SCMP_ACT_TRACE")
        fail(path, "errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not " + name);
    if (errno_ret && *errno_ret > 0xffff)
        fail(path, "errnoRet " + std::to_string(*errno_ret) + " is too large");
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret());
    if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret());
    if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
    fail(path, "unknown action \"" + name + "\"");
}

scmp_compare op(const std::string& name, const std::string& path) {
    static constexpr std::pair<const char*, scmp_compare> kOps[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (const auto& [n, o] : kOps)
        if (name == n) return o;
    fail(path, "unknown operator \"" + name + "\"");
}

unsigned flag(const std::string& name, const std::string& path) {
    static constexpr std::pair<const char*, unsigned> kFlags[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", 1U << 0},
        {"SECCOMP_FILTER_FLAG_LOG", 1U << 1},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1U << 2},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5},
    };
    for (const auto& [n, f] : kFlags)
        if (name == n) return f;
    fail(path, "unknown flag \"" + name + "\"");
}

uint32_t arch(const std::string& name, const std::string& path) {
    std::string lower;
    if (name.rfind("SCMP_ARCH_", 0) == 0)
        for (char c : name.substr(10))
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint32_t a = lower.empty() ? 0 : seccomp_arch_resolve_name(lower.c_str());
    if (a == 0) fail(path, "unknown architecture \"" + name + "\"");
    return a;
}

struct Rule {
    std::vector<std::string> names;
    uint32_t act = 0;
    std::vector<scmp_arg_cmp> args;
    std::string path;
};

struct Parsed {
    uint32_t default_action = 0;
    std::vector<uint32_t> arches;
    std::vector<Rule> rules;
    Program prog;  // flags, notify, listener fields (no code yet)
};

Parsed parse(const json& s) {
    if (!s.is_object()) fail("", "must be an object");
    Parsed p;
    std::string da = string_at(s, "defaultAction", "");
    if (da.empty()) fail("defaultAction", "required");
    p.default_action = action(da, uint_at(s, "defaultErrnoRet", ""), "defaultAction");
    if (p.default_action == SCMP_ACT_NOTIFY)
        fail("defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    if (const json* a = array_at(s, "architectures", "")) {
        for (size_t i = 0; i < a->size(); ++i) {
            std::string path = "architectures[" + std::to_string(i) + "]";
            if (!(*a)[i].is_string()) fail(path, "must be a string");
            p.arches.push_back(arch((*a)[i].get<std::string>(), path));
        }
    }
    if (const json* f = array_at(s, "flags", "")) {
        for (size_t i = 0; i < f->size(); ++i) {
            std::string path = "flags[" + std::to_string(i) + "]";
            if (!(*f)[i].is_string()) fail(path, "must be a string");
            p.prog.flags |= flag((*f)[i].get<std::string>(), path);
        }
    }
    p.prog.listener_path = string_at(s, "listenerPath", "");
    p.prog.listener_metadata = string_at(s, "listenerMetadata", "");
    if (!p.prog.listener_path.empty() && p.prog.listener_path[0] != '/')
        fail("listenerPath", "must be an absolute path");
    if (const json* calls = array_at(s, "syscalls", "")) {
        for (size_t i = 0; i < calls->size(); ++i) {
            const json& c = (*calls)[i];
            std::string path = "syscalls[" + std::to_string(i) + "]";
            if (!c.is_object()) fail(path, "must be an object");
            Rule r;
            r.path = path;
            const json* names = array_at(c, "names", path + ".");
            if (!names || names->empty()) fail(path + ".names", "required: at least one syscall name");
            for (const auto& n : *names) {
                if (!n.is_string()) fail(path + ".names", "must be strings");
                r.names.push_back(n.get<std::string>());
            }
            std::string act = string_at(c, "action", path + ".");
            if (act.empty()) fail(path + ".action", "required");
            r.act = action(act, uint_at(c, "errnoRet", path + "."), path + ".action");
            if (r.act == SCMP_ACT_NOTIFY) p.prog.notify = true;
            if (const json* args = array_at(c, "args", path + ".")) {
                for (size_t k = 0; k < args->size(); ++k) {
                    const json& a = (*args)[k];
                    std::string ap = path + ".args[" + std::to_string(k) + "]";
                    if (!a.is_object()) fail(ap, "must be an object");
                    auto index = uint_at(a, "index", ap + ".");
                    if (!index) fail(ap + ".index", "required");
                    if (*index > 5) fail(ap + ".index", "must be 0 to 5, not " + std::to_string(*index));
                    std::string o = string_at(a, "op", ap + ".");
                    if (o.empty()) fail(ap + ".op", "required");
                    scmp_arg_cmp cmp{};
                    cmp.arg = static_cast<unsigned>(*index);
                    cmp.op = op(o, ap + ".op");
                    cmp.datum_a = uint_at(a, "value", ap + ".").value_or(0);
                    cmp.datum_b = uint_at(a, "valueTwo", ap + ".").value_or(0);
                    r.args.push_back(cmp);
                }
            }
            p.rules.push_back(std::move(r));
        }
    }
    if (p.prog.notify && p.prog.listener_path.empty())
        fail("listenerPath", "required when a rule uses SCMP_ACT_NOTIFY");
    return p;
}

// A libseccomp filter context, released on every path.
struct Ctx {
    scmp_filter_ctx ctx;
    explicit Ctx(uint32_t def) : ctx(seccomp_init(def)) {
        if (!ctx) throw Error("seccomp: libseccomp could not make a filter");
    }
    ~Ctx() { seccomp_release(ctx); }
    Ctx(const Ctx&) = delete;
    Ctx& operator=(const Ctx&) = delete;
};

std::vector<sock_filter> build(const Parsed& p) {
    Ctx c(p.default_action);
    // A binary tree over the syscall numbers: a long allow-list costs a few comparisons per
    // syscall instead of hundreds. Building it costs ~25 ms more, paid once thanks to the cache.
    seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (uint32_t a : p.arches) {
        int rc = seccomp_arch_add(c.ctx, a);
        if (rc < 0 && rc != -EEXIST)
            throw Error("seccomp: add architecture: " + std::string(std::strerror(-rc)));
    }
    for (const Rule& r : p.rules) {
        if (r.act == p.default_action) continue;  // libseccomp refuses rules that change nothing
        // Several conditions on one argument cannot be ANDed by libseccomp: like runc, each
        // condition becomes a rule of its own then.
        bool same_arg = false;
        for (size_t i = 0; i < r.args.size(); ++i)
            for (size_t j = i + 1; j < r.args.size(); ++j) same_arg |= r.args[i].arg == r.args[j].arg;
        for (const auto& name : r.names) {
            int nr = seccomp_syscall_resolve_name(name.c_str());
            if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp or architecture
            auto add = [&](unsigned n, const scmp_arg_cmp* a) {
                int rc = seccomp_rule_add_array(c.ctx, r.act, nr, n, a);
                if (rc < 0) fail(r.path, "add rule for " + name + ": " + std::strerror(-rc));
            };
            if (same_arg)
                for (const auto& a : r.args) add(1, &a);
            else
                add(static_cast<unsigned>(r.args.size()), r.args.data());
        }
    }
    UniqueFd mem(::memfd_create("rt-seccomp", MFD_CLOEXEC));
    if (!mem) throw_errno("seccomp: memfd_create");
    int rc = seccomp_export_bpf(c.ctx, mem.get());
    if (rc < 0) throw Error("seccomp: export the filter: " + std::string(std::strerror(-rc)));
    struct stat st {};
    if (::fstat(mem.get(), &st) < 0) throw_errno("seccomp: fstat");
    std::vector<sock_filter> code(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
    size_t want = code.size() * sizeof(sock_filter);
    if (::pread(mem.get(), code.data(), want, 0) != static_cast<ssize_t>(want))
        throw_errno("seccomp: read filter");
    return code;
}

uint64_t fnv1a(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

constexpr std::string_view kMagic = "rt-seccomp-cache 1\n";

std::optional<std::vector<sock_filter>> cache_read(const std::string& file, const std::string& key) {
    auto data = read_file_if_exists(file);
    if (!data) return std::nullopt;
    std::string_view d = *data;
    std::string head = std::string(kMagic) + std::to_string(key.size()) + "\n";
    if (d.substr(0, head.size()) != head || d.substr(head.size(), key.size()) != key) return std::nullopt;
    d.remove_prefix(head.size() + key.size());
    if (d.empty() || d.size() % sizeof(sock_filter) != 0) return std::nullopt;
    std::vector<sock_filter> code(d.size() / sizeof(sock_filter));
    std::memcpy(code.data(), d.data(), d.size());
    return code;
}

}  // namespace

std::string library_version() {
    const scmp_version* v = seccomp_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

std::optional<Program> compile(const json& seccomp, const std::string& cache_dir) {
    if (seccomp.is_null()) return std::nullopt;
    Parsed p = parse(seccomp);
    Program prog = std::move(p.prog);

    std::string key;
    std::string file;
    if (!cache_dir.empty()) {
        key = "libseccomp " + library_version() + "\nnative arch " + std::to_string(seccomp_arch_native()) +
              "\n" + seccomp.dump();
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
        file = cache_dir + "/" + hex + ".bpf";
        if (auto code = cache_read(file, key)) {
            prog.code = std::move(*code);
            prog.from_cache = true;
            return prog;
        }
    }
    prog.code = build(p);
    if (!file.empty()) {
        // A cache that cannot be written only costs the next container a compile.
        try {
            mkdir_all(cache_dir, 0700);
            std::string data = std::string(kMagic) + std::to_string(key.size()) + "\n" + key;
            data.append(reinterpret_cast<const char*>(prog.code.data()),
                        prog.code.size() * sizeof(sock_filter));
            write_file_atomic(file, data, 0600);
        } catch (const Error&) {
        }
    }
    return prog;
}

int load(const Program& p) {
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(p.code.size());
    fprog.filter = const_cast<sock_filter*>(p.code.data());
    unsigned flags = p.flags;
    // rt's processes are single-threaded: TSYNC has nothing to sync and the kernel refuses it
    // together with NEW_LISTENER.
    if (p.notify) flags = (flags & ~SECCOMP_FILTER_FLAG_TSYNC) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
    if (rc < 0) throw_errno("load seccomp filter");
    if (!p.notify) return -1;
    int fd = static_cast<int>(rc);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

void send_to_listener(const std::string& listener_path, int listener_fd, const json& process_state) {
    auto ctx = [&](const std::string& what) { return "seccomp listener " + listener_path + ": " + what; };
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno(ctx("socket"));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (listener_path.size() >= sizeof addr.sun_path) throw Error(ctx("path too long"));
    std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size());
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        throw_errno(ctx("connect"));
    with_context(ctx("send the listener fd"),
                 [&] { terminal::send_fd(sock.get(), listener_fd, process_state.dump()); });
}

void forward_listener(const std::string& payload, int fd, int pid, const json& container_state) {
    auto info = json::parse(payload);
    json process_state = {{"ociVersion", container_state.value("ociVersion", "")},
                          {"fds", {"seccompFd"}},
                          {"pid", pid},
                          {"metadata", info.value("listenerMetadata", "")},
                          {"state", container_state}};
    send_to_listener(info.value("listenerPath", ""), fd, process_state);
}

}  // namespace rt::seccomp
