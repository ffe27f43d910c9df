// Runtime: the cgroup commands (update, pause, resume, ps, events). Each opens the container's
// state, rebuilds its cgroup manager from state.json and acts on the cgroup; none reads the bundle.
#include <poll.h>

#include <chrono>

#include "cgroups.hpp"
#include "fd.hpp"
#include "rt/container.hpp"
#include "state.hpp"
#include "util.hpp"

namespace rt {

namespace {

struct Opened {
    state::StateDir dir;
    state::Record record;
    std::unique_ptr<cgroups::Manager> cgroup;
};

Opened open_container(const std::string& root, const std::string& id, bool exclusive) {
    state::StateDir dir = state::StateDir::open(root, id, exclusive);
    state::Record r = dir.read();
    state::refresh(r, dir);
    auto cg = cgroups::load(r.cgroup);
    return {std::move(dir), std::move(r), std::move(cg)};
}

}  // namespace

void Runtime::update(const std::string& id, const nlohmann::json& resources) {
    with_context("update container \"" + id + "\"", [&] {
        cgroups::Resources r = cgroups::parse_resources(resources, "resources");
        Opened c = open_container(root_, id, true);
        if (c.record.state.status == Status::Stopped) throw Error("container not running");
        c.cgroup->apply(r, false);
    });
}

void Runtime::pause(const std::string& id) {
    with_context("pause container \"" + id + "\"", [&] {
        Opened c = open_container(root_, id, true);
        if (c.record.state.status == Status::Paused) throw Error("container already paused");
        if (c.record.state.status != Status::Running) throw Error("container not running");
        c.cgroup->freeze(true);
    });
}

void Runtime::resume(const std::string& id) {
    with_context("resume container \"" + id + "\"", [&] {
        Opened c = open_container(root_, id, true);
        if (c.record.state.status != Status::Paused) throw Error("container not paused");
        c.cgroup->freeze(false);
    });
}

std::vector<int> Runtime::pids(const std::string& id) {
    return with_context("ps container \"" + id + "\"", [&] {
        Opened c = open_container(root_, id, false);
        if (c.record.state.status == Status::Stopped) throw Error("container not running");
        std::vector<int> out;
        for (pid_t p : c.cgroup->pids()) out.push_back(p);
        return out;
    });
}

void Runtime::events(const std::string& id, int interval_ms, bool stats_once,
                     const std::function<bool(const nlohmann::json&)>& sink) {
    with_context("events of container \"" + id + "\"", [&] {
        std::unique_ptr<cgroups::Manager> cg;
        UniqueFd init;
        {
            Opened c = open_container(root_, id, false);  // the lock is not held while watching
            if (c.record.state.status == Status::Stopped) throw Error("container not running");
            cg = std::move(c.cgroup);
            init.reset(pidfd_open(c.record.state.pid));
            if (!init || !process_alive(c.record.state.pid, c.record.state.init_start_time))
                throw Error("container not running");
        }
        auto stats = [&] { return sink({{"type", "stats"}, {"id", id}, {"data", cg->stats()}}); };
        if (stats_once) {
            stats();
            return;
        }
        if (interval_ms <= 0) throw Error("interval must be greater than 0");
        std::unique_ptr<cgroups::OomWatch> oom = cg->oom_watch();
        auto drain_oom = [&] {
            if (!oom) return true;
            for (unsigned n = oom->consume(); n > 0; --n)
                if (!sink({{"type", "oom"}, {"id", id}})) return false;
            return true;
        };
        using clock = std::chrono::steady_clock;
        auto next = clock::now() + std::chrono::milliseconds(interval_ms);
        for (;;) {
            struct pollfd p[2] = {{init.get(), POLLIN, 0}, {oom ? oom->fd() : -1, POLLIN, 0}};
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now()).count();
            int n = ::poll(p, 2, wait > 0 ? static_cast<int>(wait) : 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno("poll");
            }
            if ((p[1].revents & POLLIN) && !drain_oom()) return;
            if (p[0].revents & POLLIN) {
                // The init is gone: report an OOM kill that raced with its exit, then stop.
                struct pollfd q {
                    oom ? oom->fd() : -1, POLLIN, 0
                };
                if (oom && ::poll(&q, 1, 0) > 0) drain_oom();
                return;
            }
            if (clock::now() >= next) {
                if (!stats()) return;
                next += std::chrono::milliseconds(interval_ms);
            }
        }
    });
}

}  // namespace rt
