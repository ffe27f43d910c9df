#include "cgroups.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "fd.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::cgroups {

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool is_fs(const std::string& path, long magic) {
    struct statfs sf {};
    return ::statfs(path.c_str(), &sf) == 0 && static_cast<long>(sf.f_type) == magic;
}

// rt's own cgroup per hierarchy, from /proc/self/cgroup: key "" is the v2 hierarchy,
// other keys are the v1 controller lists ("cpu,cpuacct", "name=systemd").
std::map<std::string, std::string> own_cgroups() {
    std::map<std::string, std::string> out;
    for (const auto& line : split(read_file("/proc/self/cgroup"), '\n')) {
        auto a = line.find(':');
        auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
    }
    return out;
}

std::string join(const std::string& a, const std::string& b) {
    if (b.empty()) return a;
    if (a.empty() || a.back() == '/') return a + (b.front() == '/' ? b.substr(1) : b);
    return a + (b.front() == '/' ? b : "/" + b);
}

// v1 OOM notifications: an eventfd registered on memory.oom_control through cgroup.event_control.
// The kernel also signals it when the cgroup is removed; then event_control is gone.
class OomWatchV1 final : public OomWatch {
public:
    explicit OomWatchV1(const std::string& dir) : dir_(dir) {
        efd_.reset(::eventfd(0, EFD_CLOEXEC));
        if (!efd_) throw_errno("eventfd");
        UniqueFd ctl(::open((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ctl) throw_errno("open " + dir + "/memory.oom_control");
        write_file(dir + "/cgroup.event_control",
                   std::to_string(efd_.get()) + " " + std::to_string(ctl.get()));
        oom_control_ = std::move(ctl);
    }
    int fd() const override { return efd_.get(); }
    unsigned consume() override {
        uint64_t n = 0;
        if (::read(efd_.get(), &n, sizeof n) != sizeof n) return 0;
        if (::access((dir_ + "/cgroup.event_control").c_str(), F_OK)) return 0;  // cgroup removed
        return static_cast<unsigned>(n);
    }

private:
    std::string dir_;
    UniqueFd efd_, oom_control_;
};

// v2 OOM notifications: inotify on memory.events, which the kernel modifies on every event; the
// oom_kill counter says whether it was a kill.
class OomWatchV2 final : public OomWatch {
public:
    explicit OomWatchV2(const std::string& dir) : path_(dir + "/memory.events") {
        ifd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        if (!ifd_) throw_errno("inotify_init1");
        if (::inotify_add_watch(ifd_.get(), path_.c_str(), IN_MODIFY) < 0) throw_errno("watch " + path_);
        last_ = count();
    }
    int fd() const override { return ifd_.get(); }
    unsigned consume() override {
        char buf[4096];
        while (::read(ifd_.get(), buf, sizeof buf) > 0) {
        }
        uint64_t now = count();
        unsigned n = now > last_ ? static_cast<unsigned>(now - last_) : 0;
        last_ = now;
        return n;
    }

private:
    uint64_t count() const {
        auto s = read_file_if_exists(path_);
        if (!s) return last_;
        for (const auto& line : split(*s, '\n'))
            if (line.rfind("oom_kill ", 0) == 0) return std::strtoull(line.c_str() + 9, nullptr, 10);
        return 0;
    }
    std::string path_;
    UniqueFd ifd_;
    uint64_t last_ = 0;
};

bool has_word(const std::string& text, const std::string& word) {
    for (const auto& w : split(trim_newline(text), ' '))
        if (w == word) return true;
    return false;
}

// One directory per hierarchy. Legacy and hybrid hosts have one hierarchy per mounted v1
// controller set (plus the cgroup2 one on hybrid); unified hosts have one.
class FsManager final : public Manager, public Locator {
public:
    FsManager(std::vector<std::string> dirs, Mode mode) : mode_(mode) {
        for (auto& d : dirs) {
            Hierarchy h;
            h.dir = std::move(d);
            if (mode == Mode::Unified) {
                h.v2 = true;
                h.mount = kCgroupRoot;
            } else {
                auto rest = h.dir.substr(std::strlen(kCgroupRoot) + 1);
                std::string name = rest.substr(0, rest.find('/'));
                h.mount = std::string(kCgroupRoot) + "/" + name;
                h.v2 = name == "unified";
                if (!h.v2) h.controllers = split(name, ',');
            }
            hier_.push_back(std::move(h));
        }
    }

    void create() override {
        for (const auto& h : hier_) {
            try {
                make_dir(h.dir);
            } catch (const Error&) {
                rollback();
                throw;
            }
        }
    }

    void add_process(pid_t pid) override {
        std::string p = std::to_string(pid);
        for (const auto& h : hier_) write_file(h.dir + "/cgroup.procs", p);
    }

    void apply(const Resources& r, bool creating) override { apply_resources(*this, r, creating); }

    int clone_into_fd() override {
        if (v2_fd_) return v2_fd_.get();
        const Hierarchy* h = v2();
        if (!h) return -1;
        v2_fd_.reset(::open(h->dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!v2_fd_) throw_errno("open cgroup " + h->dir);
        return v2_fd_.get();
    }

    void join_self(bool v2_joined_at_clone) override {
        for (const auto& h : hier_) {
            if (!h.v2)
                write_file(h.dir + "/tasks", "0");
            else if (!v2_joined_at_clone)
                write_file(h.dir + "/cgroup.procs", "0");
        }
    }

    std::vector<pid_t> pids() const override {
        std::vector<pid_t> out;
        if (hier_.empty()) return out;
        auto text = read_file_if_exists(hier_.front().dir + "/cgroup.procs");
        if (!text) return out;
        for (const auto& l : split(*text, '\n'))
            if (!l.empty()) out.push_back(static_cast<pid_t>(std::stol(l)));
        return out;
    }

    void freeze(bool frozen) override {
        if (const Hierarchy* h = find("freezer", false); h && !h->v2) {
            write_file(h->dir + "/freezer.state", frozen ? "FROZEN" : "THAWED");
            if (!frozen) return;
            // The v1 freezer has no notification: FREEZING turns FROZEN once every task has
            // stopped. Bounded wait (pause only; never on the create path).
            for (int i = 0; i < 2000; ++i) {
                if (trim_newline(read_file(h->dir + "/freezer.state")) == "FROZEN") return;
                ::usleep(i < 10 ? 100 : 1000);
            }
            write_file(h->dir + "/freezer.state", "THAWED");
            throw Error("cgroup " + h->dir + " did not freeze within 2 s");
        }
        const Hierarchy* h = v2();
        if (!h) throw Error("no freezer: neither a v1 freezer controller nor a cgroup2 hierarchy");
        write_file(h->dir + "/cgroup.freeze", frozen ? "1" : "0");
        // cgroup.events says "frozen 1" once done; it is pollable (POLLPRI) for changes.
        std::string events = h->dir + "/cgroup.events";
        UniqueFd fd(::open(events.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno("open " + events);
        for (int round = 0; round < 50; ++round) {
            char buf[512];
            ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
            if (n < 0) throw_errno("read " + events);
            buf[n] = '\0';
            for (const auto& line : split(buf, '\n'))
                if (line == (frozen ? "frozen 1" : "frozen 0")) return;
            struct pollfd p {
                fd.get(), POLLPRI, 0
            };
            ::poll(&p, 1, 100);
        }
        throw Error("cgroup " + h->dir + (frozen ? " did not freeze" : " did not thaw") + " within 5 s");
    }

    bool frozen() const override {
        if (const Hierarchy* h = find("freezer", false); h && !h->v2) {
            auto s = read_file_if_exists(h->dir + "/freezer.state");
            return s && trim_newline(*s) != "THAWED";
        }
        const Hierarchy* h = v2();
        if (!h) return false;
        auto s = read_file_if_exists(h->dir + "/cgroup.freeze");
        return s && trim_newline(*s) == "1";
    }

    nlohmann::json stats() const override { return read_stats(*this); }

    std::unique_ptr<OomWatch> oom_watch() const override {
        const Hierarchy* h = find("memory", false);
        if (!h) return nullptr;
        if (h->v2) return std::make_unique<OomWatchV2>(h->dir);
        return std::make_unique<OomWatchV1>(h->dir);
    }

    void destroy() override {
        std::string first_error;
        for (const auto& h : hier_) {
            const std::string& d = h.dir;
            // A cgroup whose last task just exited may stay busy for a moment while the kernel
            // finishes its exit; retry briefly (delete path only, never create).
            for (int attempt = 0;; ++attempt) {
                if (::rmdir(d.c_str()) == 0 || errno == ENOENT) break;
                if (errno != EBUSY || attempt == 200) {
                    if (first_error.empty()) first_error = "remove cgroup " + d + ": " + std::strerror(errno);
                    break;
                }
                ::usleep(1000);
            }
        }
        if (!first_error.empty()) throw Error(first_error);
    }

    std::vector<std::string> dirs() const override {
        std::vector<std::string> out;
        for (const auto& h : hier_) out.push_back(h.dir);
        return out;
    }

    nlohmann::json save() const override {
        return {{"dirs", dirs()},
                {"mode", mode_ == Mode::Unified  ? "unified"
                         : mode_ == Mode::Hybrid ? "hybrid"
                                                 : "legacy"}};
    }

    // Locator
    const Hierarchy* find(const std::string& ctl, bool enable) const override {
        for (const auto& h : hier_)
            if (!h.v2 && std::find(h.controllers.begin(), h.controllers.end(), ctl) != h.controllers.end())
                return &h;
        const Hierarchy* h = v2();
        if (!h) return nullptr;
        auto known = v2_ctl_.find(ctl);
        if (known != v2_ctl_.end() && (known->second || !enable)) return known->second ? h : nullptr;
        bool ok = false;
        if (auto mine = read_file_if_exists(h->dir + "/cgroup.controllers")) ok = has_word(*mine, ctl);
        if (!ok && enable) ok = enable_v2(*h, ctl);
        v2_ctl_[ctl] = ok;
        return ok ? h : nullptr;
    }
    const Hierarchy* v2() const override {
        for (const auto& h : hier_)
            if (h.v2) return &h;
        return nullptr;
    }

private:
    // Turn ctl on in cgroup.subtree_control from the hierarchy's root down to the cgroup's parent.
    // false when some level does not offer it.
    static bool enable_v2(const Hierarchy& h, const std::string& ctl) {
        std::string level = h.mount;
        std::string rest = h.dir.substr(h.mount.size());
        auto parts = split(rest, '/');
        for (size_t i = 0; i < parts.size(); ++i) {
            if (parts[i].empty()) continue;
            auto avail = read_file_if_exists(level + "/cgroup.controllers");
            if (!avail || !has_word(*avail, ctl)) return false;
            auto on = read_file_if_exists(level + "/cgroup.subtree_control");
            if (on && !has_word(*on, ctl)) write_value(level, "cgroup.subtree_control", "+" + ctl);
            level += "/" + parts[i];
        }
        return true;
    }

    // mkdir one cgroup (and missing parents, kept as runc does). A new v1 cpuset cgroup starts
    // with empty cpus/mems, which refuses tasks: copy them from the parent, level by level.
    void make_dir(const std::string& d) {
        if (::mkdir(d.c_str(), 0755) == 0) {
            made_.push_back(d);
        } else if (errno == ENOENT) {
            auto slash = d.rfind('/');
            if (::mkdir(d.substr(0, slash).c_str(), 0755) < 0 && errno != EEXIST)
                make_dir(d.substr(0, slash));
            else
                init_cpuset(d.substr(0, slash));
            if (::mkdir(d.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("create cgroup " + d);
            made_.push_back(d);
        } else if (errno != EEXIST) {
            throw_errno("create cgroup " + d);
        }
        init_cpuset(d);
    }

    static void init_cpuset(const std::string& d) {
        if (d.find("/cpuset") == std::string::npos) return;
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
            auto mine = read_file_if_exists(d + "/" + f);
            if (!mine || (*mine != "\n" && !mine->empty())) continue;  // not cpuset v1, or already set
            auto parent = read_file(d.substr(0, d.rfind('/')) + "/" + f);
            write_file(d + "/" + f, parent);
        }
    }

    void rollback() {
        for (auto it = made_.rbegin(); it != made_.rend(); ++it) ::rmdir(it->c_str());
        made_.clear();
    }
    Mode mode_;
    std::vector<Hierarchy> hier_;
    std::vector<std::string> made_;
    UniqueFd v2_fd_;
    mutable std::map<std::string, bool> v2_ctl_;  // cgroup2 controllers looked up already
};

}  // namespace

Mode detect_mode() {
    if (is_fs(kCgroupRoot, CGROUP2_SUPER_MAGIC)) return Mode::Unified;
    if (is_fs(std::string(kCgroupRoot) + "/unified", CGROUP2_SUPER_MAGIC)) return Mode::Hybrid;
    return Mode::Legacy;
}

std::unique_ptr<Manager> make(const std::string& cgroups_path, const std::string& id) {
    std::string rel = cgroups_path.empty() ? id : cgroups_path;
    bool absolute = !rel.empty() && rel.front() == '/';
    if (rel.find("..") != std::string::npos) {
        for (const auto& part : split(rel, '/'))
            if (part == "..")
                throw Error("linux.cgroupsPath \"" + cgroups_path + "\": must not contain \"..\"");
    }
    auto own = own_cgroups();
    auto place = [&](const std::string& key) {
        return absolute ? rel : join(own.count(key) ? own[key] : "/", rel);
    };

    std::vector<std::string> dirs;
    Mode mode = detect_mode();
    if (mode == Mode::Unified) {
        dirs.push_back(join(kCgroupRoot, place("")));
        return std::make_unique<FsManager>(std::move(dirs), mode);
    }
    DIR* d = ::opendir(kCgroupRoot);
    if (!d) throw_errno(std::string("open ") + kCgroupRoot);
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR) continue;  // symlinks: cpu -> cpu,cpuacct
        names.emplace_back(e->d_name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        std::string mnt = std::string(kCgroupRoot) + "/" + name;
        std::string key;
        if (name == "unified") {
            if (mode != Mode::Hybrid) continue;
            key = "";
        } else {
            if (!is_fs(mnt, CGROUP_SUPER_MAGIC)) continue;
            key = own.count(name) ? name : "name=" + name;
        }
        dirs.push_back(join(mnt, place(key)));
    }
    return std::make_unique<FsManager>(std::move(dirs), mode);
}

std::unique_ptr<Manager> load(const nlohmann::json& saved) {
    std::vector<std::string> dirs;
    Mode mode = Mode::Legacy;
    if (saved.is_object() && saved.contains("dirs")) dirs = saved["dirs"].get<std::vector<std::string>>();
    if (saved.is_object()) {
        std::string m = saved.value("mode", "");
        mode = m == "unified" ? Mode::Unified : m == "hybrid" ? Mode::Hybrid : Mode::Legacy;
    }
    return std::make_unique<FsManager>(std::move(dirs), mode);
}

}  // namespace rt::cgroups
