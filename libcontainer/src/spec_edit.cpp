// `rt spec` and its options: edit a config.json document (as JSON, so fields rt does not model
// survive an edit), validate it, write it into the bundle.
#include "rt/spec_edit.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "fd.hpp"
#include "lxc.hpp"
#include "rt/error.hpp"
#include "rt/spec.hpp"
#include "units.hpp"
#include "util.hpp"

namespace rt::spec {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const char* option, const std::string& value, const std::string& why) {
    throw Error(std::string(option) + " " + json(value).dump() + ": " + why);
}

json& object_at(json& parent, const char* key) {
    json& j = parent[key];
    if (!j.is_object()) j = json::object();
    return j;
}

json& array_at(json& parent, const char* key) {
    json& j = parent[key];
    if (!j.is_array()) j = json::array();
    return j;
}

// process, created with the fields parse() requires when the document has none.
json& process_of(json& config) {
    json& p = config["process"];
    if (!p.is_object()) p = {{"user", {{"uid", 0}, {"gid", 0}}}, {"cwd", "/"}};
    return p;
}

// A namespace entry of linux.namespaces: added (a new one) when missing; remove drops it.
void ensure_namespace(json& config, const char* type) {
    json& list = array_at(object_at(config, "linux"), "namespaces");
    for (const auto& ns : list)
        if (ns.is_object() && ns.value("type", "") == type) return;
    list.push_back({{"type", type}});
}

void remove_namespace(json& config, const char* type) {
    json& list = array_at(object_at(config, "linux"), "namespaces");
    json kept = json::array();
    for (const auto& ns : list)
        if (!(ns.is_object() && ns.value("type", "") == type)) kept.push_back(ns);
    list = std::move(kept);
}

// Replace the mount at m's destination (keeping its place), or append m.
void put_mount(json& config, json m) {
    json& mounts = array_at(config, "mounts");
    for (auto& existing : mounts) {
        if (existing.is_object() && existing.value("destination", "") == m["destination"]) {
            existing = std::move(m);
            return;
        }
    }
    mounts.push_back(std::move(m));
}

bool is_absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::string clean_path(const std::string& p) {
    std::string s = std::filesystem::path(p).lexically_normal().string();
    while (s.size() > 1 && s.ends_with('/')) s.pop_back();
    return s;
}

void edit_env(json& process, const std::string& kv) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) bad("--env", kv, "must have the form NAME=VALUE");
    const std::string prefix = kv.substr(0, eq + 1);
    json& env = array_at(process, "env");
    for (auto& e : env) {
        if (e.is_string() && e.get_ref<const std::string&>().starts_with(prefix)) {
            e = kv;
            return;
        }
    }
    env.push_back(kv);
}

void edit_user(json& process, const std::string& v) {
    auto colon = v.find(':');
    auto uid = parse_u64(std::string_view(v).substr(0, colon));
    auto gid = colon == std::string::npos ? uid : parse_u64(std::string_view(v).substr(colon + 1));
    if (!uid || !gid || *uid > UINT32_MAX - 1 || *gid > UINT32_MAX - 1)
        bad("--user", v, "must be UID or UID:GID (numbers below 4294967295)");
    json& user = object_at(process, "user");
    user["uid"] = *uid;
    user["gid"] = *gid;
}

void edit_bind(json& config, const std::string& v) {
    auto parts = split(v, ':');
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty())
        bad("--bind", v, "must be SRC:DST or SRC:DST:ro (paths without ':')");
    std::string mode = parts.size() == 3 ? parts[2] : "rw";
    if (mode != "ro" && mode != "rw") bad("--bind", v, "the third field must be ro or rw");
    if (!is_absolute(parts[1])) bad("--bind", v, "the destination must be an absolute path");
    std::string src = clean_path(std::filesystem::absolute(parts[0]).string());
    struct stat st {};
    if (::stat(src.c_str(), &st) < 0) {
        int err = errno;
        bad("--bind", v, src + ": " + std::strerror(err));
    }
    put_mount(config, {{"destination", clean_path(parts[1])},
                       {"type", "bind"},
                       {"source", src},
                       {"options", {"rbind", mode}}});
}

void edit_tmpfs(json& config, const std::string& v) {
    auto colon = v.find(':');
    std::string dst = v.substr(0, colon);
    if (!is_absolute(dst)) bad("--tmpfs", v, "the destination must be an absolute path");
    json options = {"nosuid", "nodev", "mode=1777"};
    if (colon != std::string::npos) {
        std::string size = v.substr(colon + 1);
        auto bytes = parse_bytes(size);
        if (!bytes || *bytes == 0)
            bad("--tmpfs", v, "the size must be a positive number of bytes, with an optional k, m or g");
        options.push_back("size=" + size);
    }
    put_mount(config, {{"destination", clean_path(dst)},
                       {"type", "tmpfs"},
                       {"source", "tmpfs"},
                       {"options", std::move(options)}});
}

void edit_cpus(json& resources, const std::string& v) {
    char* end = nullptr;
    errno = 0;
    double cpus = std::strtod(v.c_str(), &end);
    constexpr uint64_t kPeriod = 100000;  // µs, the kernel's default CFS period
    if (v.empty() || *end != '\0' || errno != 0 || !(cpus >= 0.01) || cpus > 1e6)
        bad("--cpus", v, "must be a number of CPUs, at least 0.01 (e.g. 2 or 1.5)");
    json& cpu = object_at(resources, "cpu");
    cpu["period"] = kPeriod;
    cpu["quota"] = static_cast<int64_t>(std::llround(cpus * static_cast<double>(kPeriod)));
}

bool valid_ifname(const std::string& n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    for (char c : n)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
    return true;
}

void edit_network(json& config, const std::string& v) {
    auto drop_annotations = [&] {
        if (!config.contains("annotations") || !config["annotations"].is_object()) return;
        json& a = config["annotations"];
        for (auto it = a.begin(); it != a.end();)
            it = it.key().starts_with("rt.network.") ? a.erase(it) : std::next(it);
        if (a.empty()) config.erase("annotations");
    };
    if (v == "none") {
        ensure_namespace(config, "network");
        drop_annotations();
    } else if (v == "host") {
        remove_namespace(config, "network");
        drop_annotations();
    } else if (v == "bridge" || v.starts_with("bridge=")) {
        std::string name = v == "bridge" ? kDefaultBridge : v.substr(7);
        if (!valid_ifname(name))
            bad("--network", v, "the bridge name must be 1 to 15 characters without '/', ':' or spaces");
        ensure_namespace(config, "network");
        object_at(config, "annotations")["rt.network.bridge"] = name;
    } else {
        bad("--network", v, "must be none, host, bridge or bridge=NAME");
    }
}

void edit(json& config, const Edits& e) {
    if (!config.is_object()) throw Error("config.json: must be a JSON object");
    if (e.rootfs) {
        if (e.rootfs->empty()) bad("--rootfs", *e.rootfs, "must not be empty");
        object_at(config, "root")["path"] = *e.rootfs;
    }
    if (e.readonly) object_at(config, "root")["readonly"] = true;
    if (e.args) {
        if (e.args->empty()) throw Error("--args: a command is required");
        process_of(config)["args"] = *e.args;
    }
    for (const auto& kv : e.env) edit_env(process_of(config), kv);
    if (e.cwd) {
        if (!is_absolute(*e.cwd)) bad("--cwd", *e.cwd, "must be an absolute path");
        process_of(config)["cwd"] = clean_path(*e.cwd);
    }
    if (e.user) edit_user(process_of(config), *e.user);
    if (e.terminal) process_of(config)["terminal"] = *e.terminal;
    if (e.seccomp) {
        if (*e.seccomp != "default") bad("--seccomp", *e.seccomp, "unknown profile (known: default)");
        object_at(config, "linux")["seccomp"] = default_seccomp_profile();
    }
    if (e.hostname) {
        const std::string& h = *e.hostname;
        if (h.empty() || h.size() > 64 || h.find('/') != std::string::npos)
            bad("--hostname", h, "must be 1 to 64 characters without '/'");
        config["hostname"] = h;
        ensure_namespace(config, "uts");
    }
    for (const auto& b : e.binds) edit_bind(config, b);
    for (const auto& t : e.tmpfs) edit_tmpfs(config, t);
    if (e.memory || e.pids || e.cpus) {
        json& resources = object_at(object_at(config, "linux"), "resources");
        if (e.memory) {
            auto bytes = parse_bytes(*e.memory);
            if (!bytes || *bytes == 0)
                bad("--memory", *e.memory, "must be a positive number of bytes, with an optional k, m or g");
            object_at(resources, "memory")["limit"] = *bytes;
        }
        if (e.pids) {
            auto n = parse_u64(*e.pids);
            if (!n || *n == 0 || *n > INT64_MAX) bad("--pids", *e.pids, "must be a positive integer");
            object_at(resources, "pids")["limit"] = *n;
        }
        if (e.cpus) edit_cpus(resources, *e.cpus);
    }
    if (e.network) edit_network(config, *e.network);
}

// Removes the temporary file unless released.
struct TempFile {
    std::string path;
    ~TempFile() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

void write_config(const std::string& file, const json& config, bool replace) {
    const std::string text = config.dump(2) + "\n";
    std::string tmpl = file + ".XXXXXX";
    UniqueFd fd(::mkstemp(tmpl.data()));
    if (!fd) throw_errno("create " + file);
    TempFile tmp{tmpl};
    if (::fchmod(fd.get(), 0644) < 0) throw_errno("chmod " + tmpl);
    if (!write_all(fd.get(), text)) throw_errno("write " + tmpl);
    if (::close(fd.release()) < 0) throw_errno("write " + tmpl);
    if (replace) {
        if (::rename(tmpl.c_str(), file.c_str()) < 0) throw_errno("rename " + tmpl + " to " + file);
    } else if (::renameat2(AT_FDCWD, tmpl.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST) throw Error("File " + file + " exists. Remove it first", EEXIST);
        throw_errno("rename " + tmpl + " to " + file);
    }
    tmp.path.clear();
}

}  // namespace

bool Edits::empty() const {
    return !rootfs && !args && env.empty() && !cwd && !user && !hostname && binds.empty() && tmpfs.empty() &&
           !readonly && !memory && !pids && !cpus && !network && !terminal && !seccomp;
}

void apply_edits(json& config, const Edits& edits) {
    json copy = config;
    edit(copy, edits);
    config = std::move(copy);
}

std::vector<std::string> generate(const GenerateOptions& o) {
    const std::string file = (o.bundle.ends_with('/') ? o.bundle : o.bundle + "/") + "config.json";
    std::vector<std::string> warnings;
    json config;
    bool replace = false;
    if (!o.from_lxc.empty()) {
        config = lxc::to_spec(o.from_lxc, &warnings);
    } else if (struct stat st{}; !o.edits.empty() && ::stat(file.c_str(), &st) == 0) {
        if (o.rootless) throw Error("--rootless: only for a new config.json, and " + file + " exists");
        const std::string text = read_file(file);
        try {
            config = json::parse(text);
        } catch (const json::parse_error& e) {
            std::string msg = e.what();  // "[json.exception.parse_error.101] parse error at line 3, ..."
            if (auto pos = msg.find("] "); pos != std::string::npos) msg.erase(0, pos + 2);
            throw Error(file + ": " + msg);
        }
        replace = true;
    } else {
        config = default_spec(o.rootless);
    }
    apply_edits(config, o.edits);
    try {
        parse(config);  // what `rt create` would reject is not written
    } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.starts_with("config.json")) msg.replace(0, std::string("config.json").size(), file);
        throw Error(msg + (replace ? "" : " (not written)"));
    }
    write_config(file, config, replace);
    return warnings;
}

}  // namespace rt::spec
