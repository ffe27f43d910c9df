// config.json from an image config, as the OCI image-spec's conversion document says; the rest
// of the spec is rt's default (spec::default_spec).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "fd.hpp"
#include "rt/error.hpp"
#include "rt/image.hpp"
#include "rt/spec.hpp"
#include "util.hpp"

namespace rt::image {

using nlohmann::json;

namespace {

std::string dq(const std::string& s) { return "\"" + s + "\""; }

// A file of the image's rootfs, resolved inside it (an absolute symlink /etc/passwd -> /x stays in).
std::optional<std::string> read_in_rootfs(int rootfs_fd, const char* rel) {
    struct open_how how {};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, rootfs_fd, rel, &how, sizeof how)));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (16 << 20)) break;
    }
    return out;
}

// Lines of /etc/passwd or /etc/group split on ':'.
std::vector<std::vector<std::string>> db(const std::optional<std::string>& text) {
    std::vector<std::vector<std::string>> rows;
    if (!text) return rows;
    for (const auto& line : split(*text, '\n')) {
        if (line.empty() || line[0] == '#') continue;
        rows.push_back(split(line, ':'));
    }
    return rows;
}

std::optional<uint32_t> number(const std::string& s) {
    if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
    unsigned long v = std::stoul(s);
    if (v > 0xffffffffUL) return std::nullopt;
    return static_cast<uint32_t>(v);
}

struct User {
    uint32_t uid = 0, gid = 0;
    std::vector<uint32_t> additional;
    std::string home = "/";
};

// Config.User: "", name, uid, uid:gid, name:group, uid:group, name:gid.
User resolve_user(const std::string& spec, int rootfs_fd) {
    User u;
    auto passwd = db(read_in_rootfs(rootfs_fd, "etc/passwd"));
    auto group = db(read_in_rootfs(rootfs_fd, "etc/group"));
    std::string user = spec, grp;
    bool has_group = false;
    if (auto c = spec.find(':'); c != std::string::npos) {
        user = spec.substr(0, c);
        grp = spec.substr(c + 1);
        has_group = true;
    }
    if (user.empty()) user = "0";
    const std::vector<std::string>* entry = nullptr;
    std::optional<uint32_t> uid = number(user);
    for (const auto& row : passwd) {
        if (row.size() < 7) continue;
        if ((uid && number(row[2]) == uid) || (!uid && row[0] == user)) {
            entry = &row;
            break;
        }
    }
    if (uid) {
        u.uid = *uid;
    } else {
        if (!entry)
            throw Error("image config User " + dq(spec) + ": user " + dq(user) +
                        " not found in the image's /etc/passwd");
        auto v = number((*entry)[2]);
        if (!v) throw Error("image /etc/passwd: bad uid for user " + dq(user));
        u.uid = *v;
    }
    if (entry) {
        u.gid = number((*entry)[3]).value_or(0);
        if (!(*entry)[5].empty()) u.home = (*entry)[5];
    }
    if (has_group) {
        if (auto g = number(grp)) {
            u.gid = *g;
        } else {
            bool found = false;
            for (const auto& row : group) {
                if (row.size() >= 3 && row[0] == grp) {
                    u.gid = number(row[2]).value_or(0);
                    found = true;
                    break;
                }
            }
            if (!found)
                throw Error("image config User " + dq(spec) + ": group " + dq(grp) +
                            " not found in the image's /etc/group");
        }
    } else if (!uid && entry) {
        // A user given by name: its supplementary groups from /etc/group.
        for (const auto& row : group) {
            if (row.size() < 4) continue;
            for (const auto& member : split(row[3], ','))
                if (member == user) {
                    auto g = number(row[2]);
                    if (g && *g != u.gid &&
                        std::find(u.additional.begin(), u.additional.end(), *g) == u.additional.end())
                        u.additional.push_back(*g);
                }
        }
    }
    return u;
}

std::vector<std::string> strings(const json& j) {
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& v : j)
            if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

std::string env_name(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

json runtime_config(const json& image_json, const json& config_in, int rootfs_fd, bool rootless,
                    std::vector<std::string>* warnings) {
    const json config = config_in.is_object() ? config_in : json::object();
    json spec = spec::default_spec(rootless);
    json& process = spec["process"];
    process["terminal"] = config.contains("Tty") && config["Tty"].is_boolean() && config["Tty"].get<bool>();

    // Entrypoint + Cmd. Old Docker wrote a string Cmd for shell form.
    std::vector<std::string> args = strings(config.value("Entrypoint", json()));
    const json cmd = config.value("Cmd", json());
    if (cmd.is_string())
        for (const char* a : {"/bin/sh", "-c"}) args.push_back(a);
    if (cmd.is_string()) args.push_back(cmd.get<std::string>());
    for (auto& a : strings(cmd)) args.push_back(a);
    if (!args.empty())
        process["args"] = args;
    else if (warnings)
        warnings->push_back("the image has no Entrypoint or Cmd: process.args is " + process["args"].dump());

    // User, then HOME from its passwd entry unless the image sets HOME.
    const std::string user_spec =
        config.value("User", json("")).is_string() ? config.value("User", std::string()) : "";
    User u = resolve_user(user_spec, rootfs_fd);
    process["user"] = {{"uid", u.uid}, {"gid", u.gid}};
    if (!u.additional.empty()) process["user"]["additionalGids"] = u.additional;

    // Env: the image's entries, plus rt's defaults for names the image does not set.
    std::vector<std::string> image_env = strings(config.value("Env", json()));
    std::vector<std::string> env = image_env;
    auto has = [&](const std::string& name) {
        return std::any_of(image_env.begin(), image_env.end(),
                           [&](const std::string& kv) { return env_name(kv) == name; });
    };
    for (const auto& kv : strings(process["env"]))
        if (!has(env_name(kv))) env.push_back(kv);
    if (!has("HOME")) env.push_back("HOME=" + u.home);
    process["env"] = env;

    std::string cwd =
        config.value("WorkingDir", json("")).is_string() ? config.value("WorkingDir", std::string()) : "";
    if (!cwd.empty()) process["cwd"] = cwd.front() == '/' ? cwd : "/" + cwd;

    std::string hostname =
        config.value("Hostname", json("")).is_string() ? config.value("Hostname", std::string()) : "";
    if (!hostname.empty()) spec["hostname"] = hostname;

    // Annotations: the implicit ones, then Labels (which win).
    json annotations = json::object();
    auto implicit = [&](const char* field, const char* key) {
        if (image_json.contains(field) && image_json[field].is_string() &&
            !image_json[field].get<std::string>().empty())
            annotations[key] = image_json[field];
    };
    implicit("os", "org.opencontainers.image.os");
    implicit("architecture", "org.opencontainers.image.architecture");
    implicit("variant", "org.opencontainers.image.variant");
    implicit("os.version", "org.opencontainers.image.os.version");
    implicit("author", "org.opencontainers.image.author");
    implicit("created", "org.opencontainers.image.created");
    if (image_json.contains("os.features") && image_json["os.features"].is_array()) {
        std::string f;
        for (const auto& s : strings(image_json["os.features"])) f += (f.empty() ? "" : ",") + s;
        annotations["org.opencontainers.image.os.features"] = f;
    }
    if (config.contains("StopSignal") && config["StopSignal"].is_string())
        annotations["org.opencontainers.image.stopSignal"] = config["StopSignal"];
    if (config.contains("ExposedPorts") && config["ExposedPorts"].is_object()) {
        std::string ports;
        for (const auto& [k, v] : config["ExposedPorts"].items()) ports += (ports.empty() ? "" : ",") + k;
        annotations["org.opencontainers.image.exposedPorts"] = ports;
    }
    if (config.contains("Labels") && config["Labels"].is_object()) {
        for (const auto& [k, v] : config["Labels"].items()) {
            // rt.* annotations configure rt itself (a host bridge, addresses): an image must not.
            if (k.starts_with("rt.")) {
                if (warnings)
                    warnings->push_back("label " + dq(k) +
                                        " not converted: rt.* annotations are rt's own settings");
                continue;
            }
            if (v.is_string()) annotations[k] = v;
        }
    }
    if (!annotations.empty()) spec["annotations"] = annotations;

    // Volumes: a tmpfs at each, so data is not written into the image's rootfs.
    if (config.contains("Volumes") && config["Volumes"].is_object()) {
        for (const auto& [path, v] : config["Volumes"].items()) {
            if (path.empty() || path.front() != '/') {
                if (warnings) warnings->push_back("volume " + dq(path) + " is not an absolute path: skipped");
                continue;
            }
            spec["mounts"].push_back({{"destination", path},
                                      {"type", "tmpfs"},
                                      {"source", "tmpfs"},
                                      {"options", {"nosuid", "nodev", "mode=755"}}});
        }
    }
    spec["root"]["path"] = "rootfs";
    return spec;
}

}  // namespace rt::image
