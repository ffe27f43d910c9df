// Container state under the state root: <root>/<id>/{state.json, exec.sock}.
//
//  - ids are validated before any path is built from them;
//  - the directory is made with mkdir(2), so of two creates of one id exactly one wins;
//  - every command holds flock(2) on the directory while it works (shared to read, exclusive to
//    change), so concurrent rt calls on one id are safe;
//  - state.json is written atomically (temp file + rename);
//  - the init process is identified by pid plus start time: a reused pid is never taken for it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "fd.hpp"
#include "rt/container.hpp"

namespace rt::state {

// What rt keeps about a container beyond the OCI state: what delete and kill need later, so the
// bundle (which may have changed or gone) is never read again.
struct Record {
    ContainerState state;            // status is recomputed by refresh()
    nlohmann::json cgroup;           // cgroups::Manager::save()
    nlohmann::json hooks;            // {"poststart": [...], "poststop": [...]} (null when none)
    bool own_pid_namespace = false;  // a new pid ns: killing init kills everything
    // What `rt exec` starts from (the bundle may have changed since create): {"process": the
    // config's process, "seccomp": linux.seccomp when given}.
    nlohmann::json exec_defaults;
    nlohmann::json network;          // network::Attachment::record() (null when no network)
};

class StateDir {
public:
    // Make <root>/<id> (and root), locked exclusively. Error when it exists:
    //   container "<id>" already exists
    static StateDir create(const std::string& root, const std::string& id);
    // Open and lock an existing container's directory. Error when missing:
    //   container "<id>" does not exist
    static StateDir open(const std::string& root, const std::string& id, bool exclusive);

    StateDir(StateDir&&) noexcept;
    StateDir& operator=(StateDir&&) = delete;
    ~StateDir();  // removes the directory unless keep() was called (create path)

    const std::string& path() const { return path_; }
    const std::string& id() const { return id_; }
    int fd() const { return dirfd_.get(); }

    void write(const Record& r) const;
    Record read() const;
    // Keep the directory when this object goes away (create succeeded / opened existing).
    void keep() { remove_on_destroy_ = false; }
    // Remove the directory now (delete).
    void remove();

private:
    StateDir(std::string root, std::string id, UniqueFd fd, bool remove_on_destroy);
    std::string root_, id_, path_;
    UniqueFd dirfd_;
    bool remove_on_destroy_;
};

// Recompute r.state.status (and pid = 0 when stopped) from the process and the exec socket.
void refresh(Record& r, const StateDir& dir);

}  // namespace rt::state
