#include "cgroups.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
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

// One directory per hierarchy. Legacy and hybrid hosts have one hierarchy per mounted v1
// controller set (plus the cgroup2 one on hybrid); unified hosts have one.
class FsManager final : public Manager {
public:
    explicit FsManager(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

    void create() override {
        for (const auto& d : dirs_) {
            try {
                make_dir(d);
            } catch (const Error&) {
                rollback();
                throw;
            }
        }
    }

    void add_process(pid_t pid) override {
        std::string p = std::to_string(pid);
        for (const auto& d : dirs_) write_file(d + "/cgroup.procs", p);
    }

    void apply(const nlohmann::json& /*resources*/) override {
        // linux.resources: the cgroups issue implements every controller here.
    }

    int clone_into_fd() override {
        if (v2_fd_) return v2_fd_.get();
        for (const auto& d : dirs_) {
            if (!is_v2(d)) continue;
            v2_fd_.reset(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!v2_fd_) throw_errno("open cgroup " + d);
            return v2_fd_.get();
        }
        return -1;
    }

    void join_self(bool v2_joined_at_clone) override {
        for (const auto& d : dirs_) {
            if (!is_v2(d))
                write_file(d + "/tasks", "0");
            else if (!v2_joined_at_clone)
                write_file(d + "/cgroup.procs", "0");
        }
    }

    std::vector<pid_t> pids() const override {
        std::vector<pid_t> out;
        if (dirs_.empty()) return out;
        auto text = read_file_if_exists(dirs_.front() + "/cgroup.procs");
        if (!text) return out;
        for (const auto& l : split(*text, '\n'))
            if (!l.empty()) out.push_back(static_cast<pid_t>(std::stol(l)));
        return out;
    }

    void destroy() override {
        std::string first_error;
        for (const auto& d : dirs_) {
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

    nlohmann::json save() const override { return {{"dirs", dirs_}}; }

private:
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
    // A cgroup2 hierarchy: unified hosts have only that; hybrid hosts mount it at .../unified.
    bool is_v2(const std::string& d) const {
        return dirs_.size() == 1 ? d.rfind("/sys/fs/cgroup/unified/", 0) == 0 ||
                                       !::access((d + "/cgroup.controllers").c_str(), F_OK)
                                 : d.rfind("/sys/fs/cgroup/unified/", 0) == 0;
    }
    std::vector<std::string> dirs_;
    std::vector<std::string> made_;
    UniqueFd v2_fd_;
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
        return std::make_unique<FsManager>(std::move(dirs));
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
    return std::make_unique<FsManager>(std::move(dirs));
}

std::unique_ptr<Manager> load(const nlohmann::json& saved) {
    std::vector<std::string> dirs;
    if (saved.is_object() && saved.contains("dirs")) dirs = saved["dirs"].get<std::vector<std::string>>();
    return std::make_unique<FsManager>(std::move(dirs));
}

}  // namespace rt::cgroups
