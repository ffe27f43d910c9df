// LXC config -> config.json (see lxc.hpp for the mapping).
//
// One pass over the lines (includes read in place), collecting; then finish() builds the document,
// because some values depend on lines that may come later (mount targets on lxc.rootfs, devpts
// max on lxc.pts). Everything collected keeps the FILE:LINE it came from for its messages.
#include "lxc.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "rt/error.hpp"
#include "rt/spec.hpp"
#include "units.hpp"
#include "util.hpp"

namespace rt::lxc {

namespace {

using nlohmann::json;

// Capability names by number (linux/capability.h). LXC writes them lowercase without "cap_".
constexpr const char* kCapNames[] = {
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
};
constexpr int kCapCount = sizeof kCapNames / sizeof kCapNames[0];
// What lxc.cap.drop drops from: the capabilities of Linux 3.8, the kernel such configs were written
// for (CAP_CHOWN .. CAP_BLOCK_SUSPEND). A drop list cannot have meant to grant the later ones
// (audit_read, and perfmon, bpf, checkpoint_restore, which were split off sys_admin); lxc.cap.keep
// names them explicitly.
constexpr int kDropBase = 37;

// Device nodes rt makes for an allow rule (beyond the ones every container gets).
struct KnownNode {
    int major, minor;
    const char* path;
};
constexpr KnownNode kKnownNodes[] = {{10, 200, "/dev/net/tun"}, {10, 229, "/dev/fuse"}};

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        size_t b = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i > b) out.emplace_back(s.substr(b, i - b));
    }
    return out;
}

// A command line as lxc.init.cmd holds it: words split on blanks, '...' taken literally, "..."
// with \" and \\ escapes. nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_command(std::string_view s) {
    std::vector<std::string> out;
    std::string word;
    bool in_word = false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) out.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else if (c == '\'') {
            auto end = s.find('\'', i + 1);
            if (end == std::string_view::npos) return std::nullopt;
            word += s.substr(i + 1, end - i - 1);
            i = end;
            in_word = true;
        } else if (c == '"') {
            for (++i;; ++i) {
                if (i >= s.size()) return std::nullopt;
                if (s[i] == '"') break;
                if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
                word += s[i];
            }
            in_word = true;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) out.push_back(std::move(word));
    return out;
}

// fstab(5) escapes: \040 (space), \011 (tab), \012 (newline), \134 (backslash).
std::string unescape_fstab(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        auto octal = [&](size_t j) { return s[j] >= '0' && s[j] <= '7'; };
        if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool valid_ifname(const std::string& n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    for (char c : n)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
    return true;
}

bool valid_ipv4(const std::string& s) {
    in_addr a{};
    return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool valid_cidr(const std::string& s) {
    auto slash = s.find('/');
    if (slash == std::string::npos || !valid_ipv4(s.substr(0, slash))) return false;
    auto prefix = parse_u64(std::string_view(s).substr(slash + 1));
    return prefix && *prefix <= 32;
}

// "0-3,5": the cpuset list format.
bool valid_cpuset_list(const std::string& s) {
    if (s.empty()) return false;
    for (const auto& range : split(s, ',')) {
        auto dash = range.find('-');
        auto lo = parse_u64(std::string_view(range).substr(0, dash));
        if (!lo) return false;
        if (dash != std::string::npos) {
            auto hi = parse_u64(std::string_view(range).substr(dash + 1));
            if (!hi || *hi < *lo) return false;
        }
    }
    return true;
}

struct Where {
    std::string file;
    int line = 0;
    std::string str() const { return file + ":" + std::to_string(line); }
};

struct Entry {
    Where where;
    std::string key, value;
    [[noreturn]] void fail(const std::string& why) const {
        throw Error(where.str() + ": " + key + ": " + why);
    }
};

struct PendingMount {
    Entry entry;
    std::string source, target, type;
    std::vector<std::string> options;
};

struct Network {
    Entry type;  // the lxc.network.type line
    std::map<std::string, std::string> annotations;
};

class Importer {
public:
    explicit Importer(std::vector<std::string>* warnings) : warnings_(warnings) {}

    void read(const std::string& path, const Where* from) {
        std::string real = path;
        if (char* r = ::realpath(path.c_str(), nullptr)) {
            real = r;
            std::free(r);
        }
        if (std::find(stack_.begin(), stack_.end(), real) != stack_.end())
            throw Error(from->str() + ": lxc.include: " + path + ": include loop (" + path +
                        " is already being read)");
        if (stack_.size() >= 32) throw Error(from->str() + ": lxc.include: includes nested too deeply");
        std::string text;
        try {
            struct stat st {};
            if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                read_dir(path, from);
                return;
            }
            text = read_file(path);
        } catch (const Error& e) {
            if (from != nullptr) throw Error(from->str() + ": lxc.include: " + e.what(), e.errnum());
            throw;
        }
        stack_.push_back(real);
        int n = 0;
        size_t pos = 0;
        while (pos <= text.size()) {
            size_t nl = text.find('\n', pos);
            std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
            ++n;
            handle_line(Where{path, n}, line);
            if (nl == std::string::npos) break;
            pos = nl + 1;
        }
        stack_.pop_back();
    }

    json finish();

private:
    std::vector<std::string>* warnings_;
    std::vector<std::string> stack_;  // real paths of the files being read (include loop guard)

    std::optional<std::string> hostname_, rootfs_, apparmor_, cwd_;
    std::optional<std::vector<std::string>> args_;
    std::optional<uint32_t> uid_, gid_;
    std::vector<std::string> env_;
    std::optional<Network> network_;
    bool network_none_ = false;
    std::vector<PendingMount> mounts_;
    json devices_ = json::array();  // linux.resources.devices
    json nodes_ = json::array();    // linux.devices
    json resources_ = json::object();
    std::set<int> dropped_;
    std::optional<std::set<int>> kept_;
    std::optional<Entry> drop_entry_, keep_entry_;
    std::optional<uint64_t> pts_;
    std::optional<bool> terminal_;

    void warn(const Where& w, const std::string& msg) {
        if (warnings_ != nullptr) warnings_->push_back(w.str() + ": " + msg);
    }

    void read_dir(const std::string& dir, const Where* from) {
        struct Closedir {
            void operator()(DIR* d) const { ::closedir(d); }
        };
        std::vector<std::string> names;
        std::unique_ptr<DIR, Closedir> d(::opendir(dir.c_str()));
        if (!d) throw_errno(dir);
        while (dirent* e = ::readdir(d.get())) {
            std::string n = e->d_name;
            if (n.size() > 5 && n.ends_with(".conf")) names.push_back(n);
        }
        d.reset();
        std::sort(names.begin(), names.end());
        for (const auto& n : names) read(dir + "/" + n, from);
    }

    void handle_line(const Where& where, std::string_view raw) {
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#') return;
        auto eq = line.find('=');
        if (eq == std::string::npos)
            throw Error(where.str() + ": no '=' in " + json(line).dump() + " (lines are KEY = VALUE)");
        Entry e{where, trim(std::string_view(line).substr(0, eq)),
                trim(std::string_view(line).substr(eq + 1))};
        if (e.key.empty()) throw Error(where.str() + ": no key before '=' in " + json(line).dump());
        handle(e);
    }

    void handle(const Entry& e);
    void network_key(const Entry& e, const std::string& sub);
    void mount_entry(const Entry& e);
    void device_rule(const Entry& e, bool allow);
    void cgroup_key(const Entry& e, const std::string& name);
    int capability(const Entry& e, const std::string& name);
};

void Importer::handle(const Entry& e) {
    const std::string& k = e.key;
    const std::string& v = e.value;
    if (k == "lxc.include") {
        if (v.empty()) e.fail("a file or directory is required");
        std::string path = v;
        if (path[0] != '/') {
            auto slash = e.where.file.rfind('/');
            if (slash != std::string::npos) path = e.where.file.substr(0, slash + 1) + path;
        }
        read(path, &e.where);
    } else if (k == "lxc.utsname" || k == "lxc.uts.name") {
        if (v.empty() || v.size() > 64 || v.find('/') != std::string::npos)
            e.fail("the hostname must be 1 to 64 characters without '/'");
        hostname_ = v;
    } else if (k == "lxc.rootfs" || k == "lxc.rootfs.path") {
        std::string p = v.starts_with("dir:") ? v.substr(4) : v;
        if (p.empty()) e.fail("a directory is required");
        if (p.find(':') != std::string::npos && p[0] != '/')
            e.fail("only directory root filesystems are supported, not " + json(v).dump());
        while (p.size() > 1 && p.ends_with('/')) p.pop_back();
        rootfs_ = p;
    } else if (k.starts_with("lxc.network.")) {
        network_key(e, k.substr(std::string_view("lxc.network.").size()));
    } else if (k == "lxc.mount.entry") {
        mount_entry(e);
    } else if (k == "lxc.cgroup.devices.allow" || k == "lxc.cgroup2.devices.allow") {
        device_rule(e, true);
    } else if (k == "lxc.cgroup.devices.deny" || k == "lxc.cgroup2.devices.deny") {
        device_rule(e, false);
    } else if (k.starts_with("lxc.cgroup.") || k.starts_with("lxc.cgroup2.")) {
        cgroup_key(e, k.substr(k.find('.', 4) + 1));
    } else if (k == "lxc.cap.drop") {
        if (keep_entry_) e.fail("cannot be combined with lxc.cap.keep (" + keep_entry_->where.str() + ")");
        if (v.empty()) dropped_.clear();  // LXC: an empty value clears the drops so far
        for (const auto& w : words(v)) dropped_.insert(capability(e, w));
        drop_entry_ = e;
    } else if (k == "lxc.cap.keep") {
        if (drop_entry_) e.fail("cannot be combined with lxc.cap.drop (" + drop_entry_->where.str() + ")");
        if (!kept_ || v.empty()) kept_.emplace();
        for (const auto& w : words(v))
            if (w != "none") kept_->insert(capability(e, w));
        keep_entry_ = e;
    } else if (k == "lxc.pts" || k == "lxc.pty.max") {
        auto n = parse_u64(v);
        if (!n || *n > INT_MAX) e.fail("must be a number of pseudo terminals, got " + json(v).dump());
        pts_ = *n;
    } else if (k == "lxc.tty" || k == "lxc.tty.max") {
        auto n = parse_u64(v);
        if (!n || *n > INT_MAX) e.fail("must be a number of ttys, got " + json(v).dump());
        if (*n > 0)
            warn(e.where,
                 k + " = " + v + ": rt makes no /dev/tty1..N for a container (only its console); ignored");
    } else if (k == "lxc.console" || k == "lxc.console.path") {
        if (v == "none") {
            terminal_ = false;
        } else {
            terminal_ = true;
            if (!v.empty())
                warn(e.where,
                     k + " = " + v +
                         ": the console is a terminal rt relays (or hands to --console-socket), not a "
                         "file; the path is ignored");
        }
    } else if (k == "lxc.aa_profile" || k == "lxc.apparmor.profile") {
        if (v.empty()) e.fail("a profile name is required");
        apparmor_ = v == "unconfined" ? "" : v;
    } else if (k == "lxc.environment") {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) e.fail("must be NAME=VALUE, got " + json(v).dump());
        env_.push_back(v);
    } else if (k == "lxc.init_cmd" || k == "lxc.init.cmd") {
        auto w = split_command(v);
        if (!w) e.fail("unterminated quote in " + json(v).dump());
        if (w->empty()) e.fail("a command is required");
        args_ = *w;
    } else if (k == "lxc.init.cwd") {
        if (v.empty() || v[0] != '/') e.fail("must be an absolute path");
        cwd_ = v;
    } else if (k == "lxc.init.uid" || k == "lxc.init.gid") {
        auto n = parse_u64(v);
        if (!n || *n >= UINT32_MAX) e.fail("must be a numeric id, got " + json(v).dump());
        (k == "lxc.init.uid" ? uid_ : gid_) = static_cast<uint32_t>(*n);
    } else {
        warn(e.where, k + ": unknown key, ignored");
    }
}

void Importer::network_key(const Entry& e, const std::string& sub) {
    const std::string& v = e.value;
    if (sub == "type") {
        if (network_ || network_none_) e.fail("a second network: rt sets up one network per container");
        if (v == "veth" || v == "empty")
            network_ = Network{e, {}};
        else if (v == "none")
            network_none_ = true;
        else
            e.fail("network type " + json(v).dump() + " is not supported (veth, empty or none)");
        return;
    }
    if (!network_) {
        if (network_none_) e.fail("lxc.network.type is none: the container shares the host's network");
        e.fail("must follow lxc.network.type");
    }
    auto& a = network_->annotations;
    const bool veth = network_->type.value == "veth";
    auto veth_only = [&] {
        if (!veth) e.fail("only for lxc.network.type = veth");
    };
    if (sub == "link") {
        veth_only();
        if (!valid_ifname(v))
            e.fail("bad bridge name " + json(v).dump() + " (1 to 15 characters, no '/', ':' or spaces)");
        a["rt.network.bridge"] = v;
    } else if (sub == "name") {
        veth_only();
        if (!valid_ifname(v))
            e.fail("bad interface name " + json(v).dump() + " (1 to 15 characters, no '/', ':' or spaces)");
        a["rt.network.interface"] = v;
    } else if (sub == "mtu") {
        veth_only();
        auto n = parse_u64(v);
        if (!n || *n < 68 || *n > 65535) e.fail("must be an MTU between 68 and 65535, got " + json(v).dump());
        a["rt.network.mtu"] = v;
    } else if (sub == "ipv4") {
        veth_only();
        auto w = words(v);  // ADDRESS/PREFIX [BROADCAST]
        if (w.empty() || w.size() > 2 || !valid_cidr(w[0]) || (w.size() == 2 && !valid_ipv4(w[1])))
            e.fail("bad CIDR " + json(v).dump() +
                   " (expected ADDRESS/PREFIX [BROADCAST], e.g. 172.17.0.6/16)");
        if (a.contains("rt.network.address")) e.fail("rt gives the container one IPv4 address");
        a["rt.network.address"] = w[0];
    } else if (sub == "ipv4.gateway") {
        veth_only();
        if (v != "auto" && !valid_ipv4(v)) e.fail("bad gateway address " + json(v).dump());
        if (v != "auto") a["rt.network.gateway"] = v;
    } else if (sub == "flags") {
        if (v != "up") warn(e.where, e.key + " = " + v + ": rt always brings the interface up; ignored");
    } else {
        warn(e.where, e.key + ": not supported by rt's networking, ignored");
    }
}

void Importer::mount_entry(const Entry& e) {
    auto f = words(e.value);
    if (f.size() < 4 || f.size() > 6)
        e.fail("bad fstab entry " + json(e.value).dump() +
               ": expected SOURCE TARGET TYPE OPTIONS [FREQ [PASSNO]], got " + std::to_string(f.size()) +
               " fields");
    for (size_t i = 4; i < f.size(); ++i)
        if (!parse_u64(f[i]))
            e.fail("bad fstab entry " + json(e.value).dump() + ": FREQ and PASSNO must be numbers");
    PendingMount m{e, unescape_fstab(f[0]), unescape_fstab(f[1]), f[2], {}};
    for (const auto& o : split(f[3], ',')) {
        if (o.empty()) e.fail("bad fstab entry " + json(e.value).dump() + ": empty mount option");
        if (o == "defaults" || o == "create=dir" || o == "create=file")
            continue;  // rt creates targets itself
        if (o == "optional") {
            warn(e.where, "lxc.mount.entry: option \"optional\" is not supported: the mount is required");
            continue;
        }
        m.options.push_back(o);
    }
    mounts_.push_back(std::move(m));
}

void Importer::device_rule(const Entry& e, bool allow) {
    auto w = words(e.value);
    auto fail = [&](const std::string& why) {
        e.fail("bad device rule " + json(e.value).dump() + ": " + why);
    };
    if (w.empty()) fail("expected TYPE MAJOR:MINOR ACCESS, e.g. c 1:3 rwm");
    if (w[0] != "a" && w[0] != "b" && w[0] != "c") fail("the type must be a, b or c");
    json rule = {{"allow", allow}, {"type", w[0]}};
    if (w[0] == "a") {
        // "a" alone is every device; "a *:* rwm" is the same thing written out.
        if (w.size() != 1 && !(w.size() == 3 && w[1] == "*:*")) fail("type a takes no numbers");
        rule["access"] = w.size() == 3 ? w[2] : "rwm";
    } else {
        if (w.size() != 3) fail("expected TYPE MAJOR:MINOR ACCESS, e.g. c 1:3 rwm");
        auto colon = w[1].find(':');
        if (colon == std::string::npos) fail("expected MAJOR:MINOR, got " + json(w[1]).dump());
        auto number = [&](const std::string& s, const char* what) {
            if (s == "*") return;
            auto n = parse_u64(s);
            if (!n || *n > INT32_MAX) fail(std::string("the ") + what + " must be a number or *");
            rule[what] = *n;
        };
        number(w[1].substr(0, colon), "major");
        number(w[1].substr(colon + 1), "minor");
        rule["access"] = w[2];
    }
    const std::string access = rule["access"];
    if (access.empty() || access.find_first_not_of("rwm") != std::string::npos)
        fail("the access must be letters of rwm");
    devices_.push_back(rule);
    if (allow && w[0] == "c" && rule.contains("major") && rule.contains("minor")) {
        for (const auto& n : kKnownNodes) {
            if (rule["major"] == n.major && rule["minor"] == n.minor) {
                bool have = false;
                for (const auto& d : nodes_) have = have || d["path"] == n.path;
                if (!have)
                    nodes_.push_back({{"type", "c"},
                                      {"path", n.path},
                                      {"major", n.major},
                                      {"minor", n.minor},
                                      {"fileMode", 0666}});
            }
        }
    }
}

void Importer::cgroup_key(const Entry& e, const std::string& name) {
    const std::string& v = e.value;
    auto bytes = [&]() -> json {
        if (v == "-1" || v == "max") return -1;
        auto b = parse_bytes(v);
        if (!b) e.fail("must be a number of bytes (k, m, g suffixes) or -1, got " + json(v).dump());
        return *b;
    };
    auto integer = [&](int64_t min, int64_t max) -> int64_t {
        bool neg = v.starts_with('-');
        auto n = parse_u64(neg ? std::string_view(v).substr(1) : std::string_view(v));
        if (!n || *n > static_cast<uint64_t>(INT64_MAX)) e.fail("must be a number, got " + json(v).dump());
        int64_t x = neg ? -static_cast<int64_t>(*n) : static_cast<int64_t>(*n);
        if (x < min || x > max)
            e.fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v);
        return x;
    };
    auto set = [&](const char* group, const char* key, json value) {
        resources_[group][key] = std::move(value);
    };
    if (name == "memory.limit_in_bytes" || name == "memory.max") {
        set("memory", "limit", bytes());
    } else if (name == "memory.memsw.limit_in_bytes") {
        set("memory", "swap", bytes());
    } else if (name == "memory.soft_limit_in_bytes" || name == "memory.low") {
        set("memory", "reservation", bytes());
    } else if (name == "memory.swappiness") {
        set("memory", "swappiness", integer(0, 100));
    } else if (name == "cpu.shares") {
        set("cpu", "shares", integer(2, 262144));
    } else if (name == "cpu.cfs_quota_us") {
        set("cpu", "quota", integer(-1, INT64_MAX));
    } else if (name == "cpu.cfs_period_us") {
        set("cpu", "period", integer(1000, 1000000));
    } else if (name == "cpu.rt_runtime_us") {
        set("cpu", "realtimeRuntime", integer(-1, INT64_MAX));
    } else if (name == "cpu.rt_period_us") {
        set("cpu", "realtimePeriod", integer(1, INT64_MAX));
    } else if (name == "cpuset.cpus" || name == "cpuset.mems") {
        if (!valid_cpuset_list(v)) e.fail("must be a list such as 0-3,5, got " + json(v).dump());
        set("cpu", name == "cpuset.cpus" ? "cpus" : "mems", v);
    } else if (name == "blkio.weight") {
        set("blockIO", "weight", integer(10, 1000));
    } else if (name == "pids.max") {
        set("pids", "limit", v == "max" ? -1 : integer(1, INT64_MAX));
    } else {
        warn(e.where, e.key + ": not mapped to config.json, ignored");
    }
}

int Importer::capability(const Entry& e, const std::string& name) {
    std::string n;
    for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (n.starts_with("cap_")) n.erase(0, 4);
    for (int i = 0; i < kCapCount; ++i)
        if (n == kCapNames[i]) return i;
    if (auto num = parse_u64(n); num && *num < static_cast<uint64_t>(kCapCount))
        return static_cast<int>(*num);
    e.fail("unknown capability " + json(name).dump());
}

json Importer::finish() {
    json spec = rt::spec::default_spec(false);
    json& process = spec["process"];
    json& linux = spec["linux"];

    if (hostname_) spec["hostname"] = *hostname_;
    if (rootfs_) spec["root"]["path"] = *rootfs_;
    if (args_) process["args"] = *args_;
    if (cwd_) process["cwd"] = *cwd_;
    if (uid_) process["user"]["uid"] = *uid_;
    if (gid_) process["user"]["gid"] = *gid_;
    for (const auto& kv : env_) {
        const std::string prefix = kv.substr(0, kv.find('=') + 1);
        bool replaced = false;
        for (auto& x : process["env"])
            if (x.get_ref<const std::string&>().starts_with(prefix)) x = kv, replaced = true;
        if (!replaced) process["env"].push_back(kv);
    }
    if (terminal_) process["terminal"] = *terminal_;
    if (apparmor_ && !apparmor_->empty()) process["apparmorProfile"] = *apparmor_;

    // Capabilities: what the config keeps, or Linux 3.8's set without what it drops.
    json caps = json::array();
    for (int i = 0; i < kCapCount; ++i) {
        bool granted = kept_ ? kept_->contains(i) : (i < kDropBase && !dropped_.contains(i));
        if (granted) {
            std::string upper = "CAP_";
            for (const char* c = kCapNames[i]; *c; ++c) upper += static_cast<char>(std::toupper(*c));
            caps.push_back(upper);
        }
    }
    process["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};

    // Namespaces: LXC always makes pid, ipc, uts and mount; network unless lxc.network.type none.
    json namespaces = json::array();
    for (const char* t : {"pid", "network", "ipc", "uts", "mount"})
        if (std::string_view(t) != "network" || !network_none_) namespaces.push_back({{"type", t}});
    linux["namespaces"] = std::move(namespaces);
    if (network_) {
        if (network_->type.value == "veth" && !network_->annotations.contains("rt.network.bridge"))
            warn(network_->type.where,
                 "lxc.network.type = veth without lxc.network.link: no bridge to attach to, "
                 "the container gets only lo");
        else
            for (const auto& [k, v] : network_->annotations) spec["annotations"][k] = v;
    }

    // Mounts: a /dev tmpfs for rt's device nodes (as lxc.autodev), then the entries in order.
    json mounts = json::array();
    bool has_dev = false, has_devpts = false;
    for (const auto& m : mounts_) {
        std::string target = m.target;
        if (!target.empty() && target[0] == '/') {
            if (!rootfs_)
                m.entry.fail("the target " + target +
                             " is a host path, but there is no lxc.rootfs to take it from");
            const std::string& root = *rootfs_;
            if (target == root)
                target = "/";
            else if (target.starts_with(root + "/"))
                target = target.substr(root.size());
            else
                m.entry.fail("the target " + target + " is outside lxc.rootfs (" + root + ")");
        } else {
            target = "/" + target;
        }
        target = std::filesystem::path(target).lexically_normal().string();
        while (target.size() > 1 && target.ends_with('/')) target.pop_back();
        json j = {{"destination", target}};
        bool bind = std::find_if(m.options.begin(), m.options.end(), [](const std::string& o) {
                        return o == "bind" || o == "rbind";
                    }) != m.options.end();
        j["type"] = bind && (m.type == "none" || m.type.empty()) ? "bind" : m.type;
        j["source"] = m.source;
        std::vector<std::string> options = m.options;
        if (m.type == "devpts") {
            has_devpts = true;
            if (pts_ && *pts_ > 0 && std::none_of(options.begin(), options.end(), [](const std::string& o) {
                    return o.starts_with("max=");
                }))
                options.push_back("max=" + std::to_string(*pts_));
        }
        if (!options.empty()) j["options"] = options;
        has_dev = has_dev || target == "/dev";
        mounts.push_back(std::move(j));
    }
    if (pts_ && *pts_ > 0 && !has_devpts)  // LXC mounts a devpts instance of its own for lxc.pts
        mounts.insert(
            mounts.begin(),
            json{{"destination", "/dev/pts"},
                 {"type", "devpts"},
                 {"source", "devpts"},
                 {"options",
                  {"newinstance", "ptmxmode=0666", "nosuid", "noexec", "max=" + std::to_string(*pts_)}}});
    if (!has_dev)
        mounts.insert(mounts.begin(),
                      json{{"destination", "/dev"},
                           {"type", "tmpfs"},
                           {"source", "tmpfs"},
                           {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}});
    spec["mounts"] = std::move(mounts);

    // Devices and resources: only what the config says (no rules: LXC restricts no device).
    linux.erase("devices");
    linux.erase("resources");
    if (!nodes_.empty()) linux["devices"] = nodes_;
    if (!devices_.empty()) resources_["devices"] = devices_;
    if (!resources_.empty()) linux["resources"] = resources_;
    return spec;
}

}  // namespace

json to_spec(const std::string& path, std::vector<std::string>* warnings) {
    Importer im(warnings);
    im.read(path, nullptr);
    return im.finish();
}

}  // namespace rt::lxc
