// config.json: parse + validate into rt::spec::Spec, and serialise back.
//
// Every value is read through a Cursor, which carries its JSON path ("linux.namespaces[2].type") so
// that any type error or invalid value becomes one rt::Error line: "config.json: <path>: <why>".
// Checks that need the host (does the namespace file exist, is the capability known to this kernel,
// ...) are left to the modules that apply the settings.
#include "rt/spec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <string_view>
#include <type_traits>
#include <utility>

#include "rt/error.hpp"

namespace rt::spec {

namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "config.json";

constexpr std::array<std::pair<NamespaceType, const char*>, 8> kNamespaceNames{{
    {NamespaceType::Pid, "pid"},
    {NamespaceType::Network, "network"},
    {NamespaceType::Mount, "mount"},
    {NamespaceType::Ipc, "ipc"},
    {NamespaceType::Uts, "uts"},
    {NamespaceType::User, "user"},
    {NamespaceType::Cgroup, "cgroup"},
    {NamespaceType::Time, "time"},
}};

// getrlimit(2) resources.
const std::set<std::string, std::less<>> kRlimits = {
    "RLIMIT_AS",      "RLIMIT_CORE",     "RLIMIT_CPU",        "RLIMIT_DATA",   "RLIMIT_FSIZE", "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",       "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS",
    "RLIMIT_RTPRIO",  "RLIMIT_RTTIME",   "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

const std::set<std::string, std::less<>> kPropagations = {
    "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

bool is_absolute(const std::string& s) { return !s.empty() && s[0] == '/'; }

// A (possibly absent) JSON value together with its path in the document.
class Cursor {
public:
    // prefix: the file named in errors ("config.json", "process.json").
    Cursor(const json* node, std::string path, std::string_view prefix = kPrefix)
        : node_(node), path_(std::move(path)), prefix_(prefix) {}

    const std::string& path() const { return path_; }
    // Absent and null are the same thing: "not given".
    bool present() const { return node_ != nullptr && !node_->is_null(); }
    const json& raw() const { return *node_; }

    [[noreturn]] void fail(const std::string& why) const {
        throw Error(std::string(prefix_) + ": " + (path_.empty() ? "" : path_ + ": ") + why);
    }

    // A field of this object (absent when this is absent); fails if this is not an object.
    Cursor operator[](std::string_view key) const {
        require_object();
        if (!present()) return {nullptr, child_path(key), prefix_};
        auto it = node_->find(key);
        return {it == node_->end() ? nullptr : &*it, child_path(key), prefix_};
    }

    // Calls fn(Cursor) for each element; absent means no elements. Fails if not an array.
    template <typename Fn>
    void each(Fn&& fn, const char* why = "must be an array") const {
        if (!present()) return;
        if (!node_->is_array()) fail(why);
        for (size_t i = 0; i < node_->size(); ++i)
            fn(Cursor(&(*node_)[i], path_ + "[" + std::to_string(i) + "]", prefix_));
    }

    // Calls fn(key, Cursor) for each member; absent means no members. Fails if not an object.
    template <typename Fn>
    void items(Fn&& fn) const {
        require_object();
        if (!present()) return;
        for (const auto& [key, value] : node_->items()) fn(key, Cursor(&value, child_path(key), prefix_));
    }

    // Required typed values: fail with "required" when absent.
    std::string str() const {
        if (!node_or_fail().is_string()) fail("must be a string");
        return node_->get<std::string>();
    }
    bool boolean() const {
        if (!node_or_fail().is_boolean()) fail("must be a boolean");
        return node_->get<bool>();
    }
    uint32_t u32() const {
        return static_cast<uint32_t>(unsigned_up_to(UINT32_MAX, "must be a non-negative integer below 2^32"));
    }
    uint64_t u64() const { return unsigned_up_to(UINT64_MAX, "must be a non-negative integer below 2^64"); }
    int64_t i64() const { return signed_in(INT64_MIN, INT64_MAX, "must be a 64-bit integer"); }
    int integer(int min, int max, const char* why) const {
        return static_cast<int>(signed_in(min, max, why));
    }
    std::string absolute_path() const {
        if (!present() || !node_->is_string() || !is_absolute(node_->get<std::string>()))
            fail("must be an absolute path");
        return node_->get<std::string>();
    }
    std::vector<std::string> strings() const {
        std::vector<std::string> out;
        each([&](const Cursor& c) { out.push_back(c.str()); }, "must be an array of strings");
        return out;
    }

    // Optional values: left untouched when absent.
    void read(std::string& out) const {
        if (present()) out = str();
    }
    void read(bool& out) const {
        if (present()) out = boolean();
    }
    void read(uint32_t& out) const {
        if (present()) out = u32();
    }
    void read(uint64_t& out) const {
        if (present()) out = u64();
    }
    void read(int64_t& out) const {
        if (present()) out = i64();
    }
    void read(std::optional<uint32_t>& out) const {
        if (present()) out = u32();
    }
    void read(std::vector<std::string>& out) const {
        if (present()) out = strings();
    }
    void read(std::vector<uint32_t>& out) const {
        each([&](const Cursor& c) { out.push_back(c.u32()); });
    }
    void read(std::map<std::string, std::string>& out) const {
        items([&](const std::string& k, const Cursor& c) { out[k] = c.str(); });
    }
    // A subtree another module interprets: copied as-is, null when absent.
    void read(json& out) const { out = present() ? *node_ : json(); }

    // Appends "<path>.<key>: unknown field, ignored" for members not in `known`, and
    // "...: not supported, ignored" for those in `unsupported` (spec fields rt does not implement).
    void check_fields(std::initializer_list<std::string_view> known,
                      std::initializer_list<std::string_view> unsupported,
                      std::vector<std::string>* warnings) const {
        if (warnings == nullptr) return;
        items([&](const std::string& key, const Cursor& c) {
            auto in = [&](auto list) {
                for (auto k : list)
                    if (k == key) return true;
                return false;
            };
            if (in(unsupported))
                warnings->push_back(std::string(prefix_) + ": " + c.path() + ": not supported, ignored");
            else if (!in(known))
                warnings->push_back(std::string(prefix_) + ": " + c.path() + ": unknown field, ignored");
        });
    }

private:
    const json* node_;
    std::string path_;
    std::string_view prefix_;

    std::string child_path(std::string_view key) const {
        if (!is_identifier(key)) return path_ + "[" + json(std::string(key)).dump() + "]";
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }
    void require_object() const {
        if (present() && !node_->is_object()) fail("must be an object");
    }
    const json& node_or_fail() const {
        if (!present()) fail("required");
        return *node_;
    }
    uint64_t unsigned_up_to(uint64_t max, const char* why) const {
        const json& n = node_or_fail();
        if (n.is_number_unsigned() && n.get<uint64_t>() <= max) return n.get<uint64_t>();
        if (n.is_number_integer() && n.get<int64_t>() >= 0 && static_cast<uint64_t>(n.get<int64_t>()) <= max)
            return static_cast<uint64_t>(n.get<int64_t>());
        fail(why);
    }
    int64_t signed_in(int64_t min, int64_t max, const char* why) const {
        const json& n = node_or_fail();
        if (n.is_number_unsigned()) {
            if (max >= 0 && n.get<uint64_t>() <= static_cast<uint64_t>(max)) return n.get<int64_t>();
        } else if (n.is_number_integer() && n.get<int64_t>() >= min && n.get<int64_t>() <= max) {
            return n.get<int64_t>();
        }
        fail(why);
    }
};

// An environment list ("NAME=VALUE" strings), as in process.env and hooks[].env.
std::vector<std::string> env_list(const Cursor& c) {
    std::vector<std::string> out;
    c.each(
        [&](const Cursor& e) {
            std::string s = e.str();
            if (s.find('=') == std::string::npos || s[0] == '=') e.fail("must have the form NAME=VALUE");
            out.push_back(std::move(s));
        },
        "must be an array of strings");
    return out;
}

std::vector<IdMapping> parse_mappings(const Cursor& c) {
    std::vector<IdMapping> out;
    c.each([&](const Cursor& m) {
        out.push_back({m["containerID"].u32(), m["hostID"].u32(), m["size"].u32()});
    });
    return out;
}

Process parse_process(const Cursor& c, std::vector<std::string>* warnings) {
    c.check_fields(
        {"terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd", "capabilities", "rlimits",
         "noNewPrivileges", "apparmorProfile", "oomScoreAdj", "scheduler", "selinuxLabel", "ioPriority"},
        {"execCPUAffinity"}, warnings);
    Process p;
    c["terminal"].read(p.terminal);
    if (auto cs = c["consoleSize"]; cs.present())
        p.consoleSize = ConsoleSize{cs["height"].u32(), cs["width"].u32()};

    auto user = c["user"];
    user["uid"].read(p.user.uid);
    user["gid"].read(p.user.gid);
    user["umask"].read(p.user.umask);
    user["additionalGids"].read(p.user.additionalGids);
    user["username"].read(p.user.username);

    auto args = c["args"];
    args.each([&](const Cursor& a) { p.args.push_back(a.str()); }, "must be a non-empty array of strings");
    if (p.args.empty()) args.fail("must be a non-empty array of strings");

    p.env = env_list(c["env"]);

    p.cwd = c["cwd"].absolute_path();

    if (auto caps = c["capabilities"]; caps.present()) {
        Capabilities& k = p.capabilities.emplace();
        caps["bounding"].read(k.bounding);
        caps["effective"].read(k.effective);
        caps["inheritable"].read(k.inheritable);
        caps["permitted"].read(k.permitted);
        caps["ambient"].read(k.ambient);
    }

    c["rlimits"].each([&](const Cursor& r) {
        auto type = r["type"];
        Rlimit rl{type.str(), r["soft"].u64(), r["hard"].u64()};
        if (!rl.type.starts_with("RLIMIT_"))
            type.fail("must be an RLIMIT_* name, got " + json(rl.type).dump());
        if (!kRlimits.contains(rl.type)) type.fail("unknown rlimit type " + json(rl.type).dump());
        for (const auto& seen : p.rlimits)
            if (seen.type == rl.type) type.fail("duplicate rlimit type " + json(rl.type).dump());
        if (rl.soft > rl.hard) r["soft"].fail("must not exceed hard");
        p.rlimits.push_back(rl);
    });

    c["noNewPrivileges"].read(p.noNewPrivileges);
    c["apparmorProfile"].read(p.apparmorProfile);
    if (auto oom = c["oomScoreAdj"]; oom.present())
        p.oomScoreAdj = oom.integer(-1000, 1000, "must be an integer between -1000 and 1000");
    c["selinuxLabel"].read(p.selinuxLabel);
    c["scheduler"].read(p.scheduler);
    c["ioPriority"].read(p.ioPriority);
    return p;
}

std::vector<Hook> parse_hooks(const Cursor& c) {
    std::vector<Hook> out;
    c.each([&](const Cursor& h) {
        Hook& hook = out.emplace_back();
        hook.path = h["path"].absolute_path();
        h["args"].read(hook.args);
        hook.env = env_list(h["env"]);
        if (auto t = h["timeout"]; t.present())
            hook.timeout = t.integer(1, INT_MAX, "must be a positive integer");
    });
    return out;
}

Linux parse_linux(const Cursor& c, std::vector<std::string>* warnings) {
    c.check_fields({"namespaces", "uidMappings", "gidMappings", "timeOffsets", "devices", "cgroupsPath",
                    "rootfsPropagation", "resources", "intelRdt", "sysctl", "seccomp", "maskedPaths",
                    "readonlyPaths", "mountLabel", "personality"},
                   {"netDevices", "memoryPolicy"}, warnings);
    Linux l;
    c["namespaces"].each([&](const Cursor& n) {
        auto type = n["type"];
        auto t = parse_namespace_type(type.str());
        if (!t) type.fail("unknown namespace type " + json(type.str()).dump());
        if (l.has_namespace(*t)) type.fail("duplicate namespace type " + json(type.str()).dump());
        Namespace& ns = l.namespaces.emplace_back(Namespace{*t, {}});
        // "path": "" is how some generators say "no path" (Go's omitempty): a new namespace.
        if (auto path = n["path"]; path.present() && !path.str().empty()) ns.path = path.absolute_path();
    });

    auto uid = c["uidMappings"], gid = c["gidMappings"];
    l.uidMappings = parse_mappings(uid);
    l.gidMappings = parse_mappings(gid);
    const Namespace* userns = l.find_namespace(NamespaceType::User);
    for (const auto* m : {&uid, &gid}) {
        bool given = m->present() && !m->raw().empty();
        if (given && userns == nullptr) m->fail("requires a user namespace in linux.namespaces");
        if (!given && userns != nullptr && userns->path.empty())
            m->fail("required with a new user namespace");
    }

    c["timeOffsets"].items([&](const std::string& clock, const Cursor& o) {
        if (clock != "monotonic" && clock != "boottime")
            o.fail("unknown clock, must be monotonic or boottime");
        TimeOffset& off = l.timeOffsets[clock];
        o["secs"].read(off.secs);
        o["nanosecs"].read(off.nanosecs);
    });

    c["devices"].each([&](const Cursor& d) {
        Device& dev = l.devices.emplace_back();
        auto type = d["type"];
        std::string t = type.str();
        if (t.size() != 1 || std::string_view("cbup").find(t[0]) == std::string_view::npos)
            type.fail("must be one of \"c\", \"b\", \"u\" or \"p\", got " + json(t).dump());
        dev.type = t[0];
        dev.path = d["path"].absolute_path();
        if (dev.type != 'p' || d["major"].present()) dev.major = d["major"].i64();
        if (dev.type != 'p' || d["minor"].present()) dev.minor = d["minor"].i64();
        d["fileMode"].read(dev.fileMode);
        d["uid"].read(dev.uid);
        d["gid"].read(dev.gid);
    });

    c["cgroupsPath"].read(l.cgroupsPath);
    auto prop = c["rootfsPropagation"];
    prop.read(l.rootfsPropagation);
    if (!kPropagations.contains(l.rootfsPropagation))
        prop.fail(
            "unknown propagation " + json(l.rootfsPropagation).dump() +
            ", must be one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable");

    for (auto [key, out] :
         {std::pair{"maskedPaths", &l.maskedPaths}, std::pair{"readonlyPaths", &l.readonlyPaths}})
        c[key].each([&](const Cursor& p) { out->push_back(p.absolute_path()); },
                    "must be an array of strings");

    c["mountLabel"].read(l.mountLabel);
    c["sysctl"].read(l.sysctl);
    c["resources"].read(l.resources);
    c["seccomp"].read(l.seccomp);
    c["personality"].read(l.personality);
    c["intelRdt"].read(l.intelRdt);
    return l;
}

// ---- serialisation ----

// Sets j[key] = value unless value is empty / false / null (what parse reads back as the default).
template <typename T>
void put(json& j, const char* key, const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
        if (value) j[key] = value;
    } else if constexpr (std::is_same_v<T, json>) {
        if (!value.is_null()) j[key] = value;
    } else {
        if (!value.empty()) j[key] = value;
    }
}

json mappings_json(const std::vector<IdMapping>& v) {
    json out = json::array();
    for (const auto& m : v)
        out.push_back({{"containerID", m.containerID}, {"hostID", m.hostID}, {"size", m.size}});
    return out;
}

json hooks_json(const std::vector<Hook>& v) {
    json out = json::array();
    for (const auto& h : v) {
        json j = {{"path", h.path}};
        put(j, "args", h.args);
        put(j, "env", h.env);
        if (h.timeout) j["timeout"] = *h.timeout;
        out.push_back(std::move(j));
    }
    return out;
}

json process_json(const Process& p) {
    json j = json::object();
    put(j, "terminal", p.terminal);
    if (p.consoleSize)
        j["consoleSize"] = {{"height", p.consoleSize->height}, {"width", p.consoleSize->width}};
    json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
    if (p.user.umask) user["umask"] = *p.user.umask;
    put(user, "additionalGids", p.user.additionalGids);
    put(user, "username", p.user.username);
    j["user"] = std::move(user);
    put(j, "args", p.args);
    put(j, "env", p.env);
    j["cwd"] = p.cwd;
    if (p.capabilities) {
        json caps = json::object();
        put(caps, "bounding", p.capabilities->bounding);
        put(caps, "effective", p.capabilities->effective);
        put(caps, "inheritable", p.capabilities->inheritable);
        put(caps, "permitted", p.capabilities->permitted);
        put(caps, "ambient", p.capabilities->ambient);
        j["capabilities"] = std::move(caps);
    }
    for (const auto& r : p.rlimits)
        j["rlimits"].push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    put(j, "noNewPrivileges", p.noNewPrivileges);
    put(j, "apparmorProfile", p.apparmorProfile);
    if (p.oomScoreAdj) j["oomScoreAdj"] = *p.oomScoreAdj;
    put(j, "selinuxLabel", p.selinuxLabel);
    put(j, "scheduler", p.scheduler);
    put(j, "ioPriority", p.ioPriority);
    return j;
}

json linux_json(const Linux& l) {
    json j = json::object();
    for (const auto& ns : l.namespaces) {
        json n = {{"type", namespace_type_name(ns.type)}};
        put(n, "path", ns.path);
        j["namespaces"].push_back(std::move(n));
    }
    if (!l.uidMappings.empty()) j["uidMappings"] = mappings_json(l.uidMappings);
    if (!l.gidMappings.empty()) j["gidMappings"] = mappings_json(l.gidMappings);
    for (const auto& [clock, off] : l.timeOffsets) {
        json o = json::object();
        if (off.secs != 0) o["secs"] = off.secs;
        if (off.nanosecs != 0) o["nanosecs"] = off.nanosecs;
        j["timeOffsets"][clock] = std::move(o);
    }
    for (const auto& d : l.devices) {
        json dev = {{"type", std::string(1, d.type)}, {"path", d.path}};
        if (d.type != 'p' || d.major != 0 || d.minor != 0) {
            dev["major"] = d.major;
            dev["minor"] = d.minor;
        }
        if (d.fileMode) dev["fileMode"] = *d.fileMode;
        if (d.uid) dev["uid"] = *d.uid;
        if (d.gid) dev["gid"] = *d.gid;
        j["devices"].push_back(std::move(dev));
    }
    put(j, "cgroupsPath", l.cgroupsPath);
    put(j, "rootfsPropagation", l.rootfsPropagation);
    put(j, "maskedPaths", l.maskedPaths);
    put(j, "readonlyPaths", l.readonlyPaths);
    put(j, "mountLabel", l.mountLabel);
    put(j, "sysctl", l.sysctl);
    put(j, "resources", l.resources);
    put(j, "seccomp", l.seccomp);
    put(j, "personality", l.personality);
    put(j, "intelRdt", l.intelRdt);
    return j;
}

std::string read_whole_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno(path);
    std::string data;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw_errno(path, err);
        }
        if (n == 0) break;
        data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return data;
}

// "config.json: x: y" -> "<file>: x: y"
std::string with_file(const std::string& msg, const std::string& file) {
    if (msg.starts_with(kPrefix)) return file + msg.substr(kPrefix.size());
    return file + ": " + msg;
}

}  // namespace

bool Linux::has_namespace(NamespaceType t) const { return find_namespace(t) != nullptr; }

const Namespace* Linux::find_namespace(NamespaceType t) const {
    for (const auto& ns : namespaces)
        if (ns.type == t) return &ns;
    return nullptr;
}

const char* namespace_type_name(NamespaceType t) {
    for (const auto& [type, name] : kNamespaceNames)
        if (type == t) return name;
    return "unknown";
}

std::optional<NamespaceType> parse_namespace_type(const std::string& name) {
    for (const auto& [type, n] : kNamespaceNames)
        if (name == n) return type;
    return std::nullopt;
}

Spec parse(const json& doc, std::vector<std::string>* warnings) {
    Cursor c(&doc, "");
    if (!doc.is_object()) c.fail("must be a JSON object");
    Spec s;
    s.ociVersion = c["ociVersion"].str();

    if (auto p = c["process"]; p.present()) s.process = parse_process(p, warnings);

    auto root = c["root"];
    if (root.present()) {
        s.root.path = root["path"].present() ? root["path"].str() : "";
        if (s.root.path.empty()) root["path"].fail("must be a non-empty string");
        root["readonly"].read(s.root.readonly);
    }
    c["hostname"].read(s.hostname);
    c["domainname"].read(s.domainname);

    c["mounts"].each([&](const Cursor& m) {
        Mount& mount = s.mounts.emplace_back();
        // runc accepts a relative destination (taken relative to /) for compatibility; the spec says
        // it MUST be absolute and so do we.
        mount.destination = m["destination"].absolute_path();
        m["type"].read(mount.type);
        m["source"].read(mount.source);
        m["options"].read(mount.options);
        mount.uidMappings = parse_mappings(m["uidMappings"]);
        mount.gidMappings = parse_mappings(m["gidMappings"]);
    });

    auto hooks = c["hooks"];
    s.hooks.prestart = parse_hooks(hooks["prestart"]);
    s.hooks.createRuntime = parse_hooks(hooks["createRuntime"]);
    s.hooks.createContainer = parse_hooks(hooks["createContainer"]);
    s.hooks.startContainer = parse_hooks(hooks["startContainer"]);
    s.hooks.poststart = parse_hooks(hooks["poststart"]);
    s.hooks.poststop = parse_hooks(hooks["poststop"]);

    c["annotations"].items([&](const std::string& key, const Cursor& v) {
        if (key.empty()) v.fail("annotation keys must not be empty");
        s.annotations[key] = v.str();
    });

    if (auto l = c["linux"]; l.present()) {
        s.linux = parse_linux(l, warnings);
        if (!root.present()) root.fail("required");
    }
    return s;
}

Process parse_process(const json& doc, std::string_view file, std::vector<std::string>* warnings) {
    Cursor c(&doc, "", file);
    if (!doc.is_object()) c.fail("must be a JSON object");
    return parse_process(c, warnings);
}

json process_to_json(const Process& p) { return process_json(p); }

Spec load_bundle(const std::string& bundle, std::vector<std::string>* warnings) {
    const std::string file = (bundle.ends_with('/') ? bundle : bundle + "/") + "config.json";
    const std::string text = read_whole_file(file);
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        std::string msg = e.what();  // "[json.exception.parse_error.101] parse error at line 3, ..."
        if (auto pos = msg.find("] "); msg.starts_with("[json.exception") && pos != std::string::npos)
            msg.erase(0, pos + 2);
        throw Error(file + ": " + msg);
    }

    std::vector<std::string> local;
    Spec s;
    try {
        s = parse(doc, &local);
    } catch (const Error& e) {
        throw Error(with_file(e.what(), file), e.errnum());
    }
    if (warnings != nullptr)
        for (const auto& w : local) warnings->push_back(with_file(w, file));

    char* real = ::realpath(bundle.c_str(), nullptr);
    if (real == nullptr) throw_errno(bundle);
    const std::filesystem::path abs_bundle(real);
    std::free(real);
    if (!s.root.path.empty() && !is_absolute(s.root.path)) {
        std::string p = (abs_bundle / s.root.path).lexically_normal().string();
        while (p.size() > 1 && p.ends_with('/')) p.pop_back();
        s.root.path = p;
    }
    return s;
}

json to_json(const Spec& s) {
    json j = {{"ociVersion", s.ociVersion}};
    if (s.process) j["process"] = process_json(*s.process);
    if (!s.root.path.empty() || s.root.readonly) {
        j["root"] = {{"path", s.root.path}};
        if (s.root.readonly) j["root"]["readonly"] = true;
    }
    put(j, "hostname", s.hostname);
    put(j, "domainname", s.domainname);
    for (const auto& m : s.mounts) {
        json mj = {{"destination", m.destination}};
        put(mj, "type", m.type);
        put(mj, "source", m.source);
        put(mj, "options", m.options);
        if (!m.uidMappings.empty()) mj["uidMappings"] = mappings_json(m.uidMappings);
        if (!m.gidMappings.empty()) mj["gidMappings"] = mappings_json(m.gidMappings);
        j["mounts"].push_back(std::move(mj));
    }
    json hooks = json::object();
    for (auto [key, list] :
         {std::pair{"prestart", &s.hooks.prestart}, std::pair{"createRuntime", &s.hooks.createRuntime},
          std::pair{"createContainer", &s.hooks.createContainer},
          std::pair{"startContainer", &s.hooks.startContainer}, std::pair{"poststart", &s.hooks.poststart},
          std::pair{"poststop", &s.hooks.poststop}})
        if (!list->empty()) hooks[key] = hooks_json(*list);
    if (!hooks.empty()) j["hooks"] = std::move(hooks);
    put(j, "annotations", s.annotations);
    if (s.linux) j["linux"] = linux_json(*s.linux);
    return j;
}

}  // namespace rt::spec
