#include "state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cgroups.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt {

const char* status_name(Status s) {
    switch (s) {
        case Status::Creating:
            return "creating";
        case Status::Created:
            return "created";
        case Status::Running:
            return "running";
        case Status::Paused:
            return "paused";
        case Status::Stopped:
            return "stopped";
    }
    return "unknown";
}

void validate_id(const std::string& id) {
    if (id.empty()) throw Error("invalid container id: must not be empty");
    if (id.size() > 1024)
        throw Error("invalid container id \"" + id.substr(0, 64) + "...\": longer than 1024 bytes");
    if (id == "." || id == "..") throw Error("invalid container id \"" + id + "\"");
    for (unsigned char c : id) {
        if (c == '/') throw Error("invalid container id \"" + id + "\": must not contain '/'");
        if (c < 0x21 || c == 0x7f)
            throw Error("invalid container id \"" + id + "\": must be printable, without spaces");
    }
}

nlohmann::json ContainerState::to_json() const {
    nlohmann::json j = {
        {"ociVersion", ociVersion}, {"id", id},         {"pid", pid},         {"status", status_name(status)},
        {"bundle", bundle},         {"rootfs", rootfs}, {"created", created}, {"owner", owner},
    };
    if (!annotations.empty()) j["annotations"] = annotations;
    return j;
}

namespace state {

namespace {
// flock(2) on the state directory; EINTR-safe.
void lock(int fd, bool exclusive, const std::string& path) {
    while (::flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
        if (errno != EINTR) throw_errno("lock " + path);
}
}  // namespace

StateDir::StateDir(std::string root, std::string id, UniqueFd fd, bool remove_on_destroy)
    : root_(std::move(root)),
      id_(std::move(id)),
      path_(root_ + "/" + id_),
      dirfd_(std::move(fd)),
      remove_on_destroy_(remove_on_destroy) {}

StateDir::StateDir(StateDir&& o) noexcept
    : root_(std::move(o.root_)),
      id_(std::move(o.id_)),
      path_(std::move(o.path_)),
      dirfd_(std::move(o.dirfd_)),
      remove_on_destroy_(std::exchange(o.remove_on_destroy_, false)) {}

StateDir::~StateDir() {
    if (!remove_on_destroy_) return;
    try {
        remove_all(path_);
    } catch (...) {
    }
}

StateDir StateDir::create(const std::string& root, const std::string& id) {
    validate_id(id);
    if (::mkdir(root.c_str(), 0711) < 0 && errno != EEXIST) {
        if (errno != ENOENT) throw_errno("create state root " + root);
        mkdir_all(root, 0711);
    }
    std::string path = root + "/" + id;
    if (::mkdir(path.c_str(), 0711) < 0) {
        if (errno == EEXIST) throw Error("container \"" + id + "\" already exists");
        throw_errno("create state directory " + path);
    }
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        ::rmdir(path.c_str());
        throw_errno("open " + path, err);
    }
    StateDir d(root, id, std::move(fd), true);
    lock(d.fd(), true, path);
    return d;
}

StateDir StateDir::open(const std::string& root, const std::string& id, bool exclusive) {
    validate_id(id);
    std::string path = root + "/" + id;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) throw Error("container \"" + id + "\" does not exist");
        throw_errno("open " + path);
    }
    lock(fd.get(), exclusive, path);
    // The directory may have been deleted (or still be mid-create and then rolled back) while we
    // waited for the lock: a directory without state.json is not a container.
    if (::faccessat(fd.get(), "state.json", F_OK, 0) < 0)
        throw Error("container \"" + id + "\" does not exist");
    return StateDir(root, id, std::move(fd), false);
}

void StateDir::write(const Record& r) const {
    nlohmann::json j = r.state.to_json();
    j["init_start_time"] = r.state.init_start_time;
    j["pid"] = r.state.pid;
    if (!r.cgroup.is_null()) j["cgroup"] = r.cgroup;
    if (!r.hooks.is_null()) j["hooks"] = r.hooks;
    j["own_pid_namespace"] = r.own_pid_namespace;
    if (!r.exec_defaults.is_null()) j["exec_defaults"] = r.exec_defaults;
    if (!r.network.is_null()) j["network"] = r.network;
    write_file_atomic(path_ + "/state.json", j.dump(), 0600);
}

Record StateDir::read() const {
    std::string text = read_file(path_ + "/state.json");
    Record r;
    try {
        auto j = nlohmann::json::parse(text);
        ContainerState& s = r.state;
        s.ociVersion = j.at("ociVersion").get<std::string>();
        s.id = j.at("id").get<std::string>();
        s.pid = j.at("pid").get<int>();
        s.bundle = j.at("bundle").get<std::string>();
        s.rootfs = j.value("rootfs", "");
        s.created = j.value("created", "");
        s.owner = j.value("owner", "");
        s.init_start_time = j.value("init_start_time", uint64_t{0});
        if (j.contains("annotations"))
            s.annotations = j["annotations"].get<std::map<std::string, std::string>>();
        s.status = j.at("status").get<std::string>() == "creating" ? Status::Creating : Status::Created;
        r.cgroup = j.value("cgroup", nlohmann::json());
        r.hooks = j.value("hooks", nlohmann::json());
        r.own_pid_namespace = j.value("own_pid_namespace", false);
        r.exec_defaults = j.value("exec_defaults", nlohmann::json());
        r.network = j.value("network", nlohmann::json());
    } catch (const nlohmann::json::exception& e) {
        throw Error(path_ + "/state.json: " + e.what());
    }
    return r;
}

void StateDir::remove() {
    remove_all(path_);
    remove_on_destroy_ = false;
}

void refresh(Record& r, const StateDir& dir) {
    ContainerState& s = r.state;
    if (!process_alive(s.pid, s.init_start_time)) {
        s.status = Status::Stopped;
        s.pid = 0;
        return;
    }
    struct stat st {};
    if (::fstatat(dir.fd(), "exec.sock", &st, 0) == 0) {
        s.status = Status::Created;
        return;
    }
    s.status = Status::Running;
    // A frozen cgroup: one read of freezer.state (v1) or cgroup.freeze (v2).
    if (!r.cgroup.is_null() && cgroups::load(r.cgroup)->frozen()) s.status = Status::Paused;
}

}  // namespace state
}  // namespace rt
