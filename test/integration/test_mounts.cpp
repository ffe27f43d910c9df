// Integration tests: mounts, /dev, rootfs handling. Mostly by reading /proc/self/mountinfo inside
// the container (or /proc/<pid>/mountinfo of a running container from the host) and by trying
// to write where it must fail.
//
// main() comes from harness_main.cpp (linked from the harness library).
#include <catch2/catch.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

using json = nlohmann::json;

namespace {

// One line of /proc/<pid>/mountinfo (proc(5)).
struct MountEntry {
    std::string root;        // field 4: the root of the mount within its filesystem
    std::string point;       // field 5: mount point, relative to the reader's root
    std::string opts;        // field 6: per-mount options ("rw,nosuid,...")
    std::string optional;    // fields 7..: "shared:N master:M ..." (space separated, may be "")
    std::string fstype;
    std::string source;
    std::string super_opts;  // per-superblock options ("rw,size=1024k,mode=700")
    std::string line;
};

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
    std::vector<MountEntry> v;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::vector<std::string> f;
        std::string w;
        while (ls >> w) f.push_back(w);
        auto sep = std::find(f.begin(), f.end(), "-");
        if (f.size() < 10 || sep == f.end() || sep - f.begin() < 6 || f.end() - sep < 4) continue;
        MountEntry e;
        e.root = f[3];
        e.point = f[4];
        e.opts = f[5];
        for (auto it = f.begin() + 6; it != sep; ++it) e.optional += (e.optional.empty() ? "" : " ") + *it;
        e.fstype = sep[1];
        e.source = sep[2];
        e.super_opts = sep[3];
        e.line = line;
        v.push_back(e);
    }
    return v;
}

// The topmost mount at point (the last one listed), if any.
// The last (topmost) entry for a mount point. Returned by value: callers often pass a temporary.
std::optional<MountEntry> find_mount(const std::vector<MountEntry>& v, const std::string& point) {
    std::optional<MountEntry> found;
    for (const auto& e : v)
        if (e.point == point) found = e;
    return found;
}

bool has_opt(const std::string& csv, const std::string& opt) {
    std::istringstream in(csv);
    std::string o;
    while (std::getline(in, o, ','))
        if (o == opt) return true;
    return false;
}

bool has_tag(const std::string& optional, const std::string& prefix) {
    return optional.find(prefix) != std::string::npos;
}

std::string host_mountinfo() { return th::read_file("/proc/self/mountinfo"); }

// Host mountinfo lines that mention path (as mount point or root).
std::vector<std::string> host_lines_mentioning(const std::string& path) {
    std::vector<std::string> v;
    for (const auto& l : th::lines(host_mountinfo()))
        if (l.find(path) != std::string::npos) v.push_back(l);
    return v;
}

bool kernel_at_least(int major, int minor) {
    struct utsname u;
    if (uname(&u) != 0) return false;
    int ma = 0, mi = 0;
    if (sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

// Mounts made on the host for a test, unmounted (lazily, in reverse order) by the destructor.
// Declare it after the TempDir/Bundle whose paths it mounts on, so it is destroyed first.
class HostMounts {
public:
    HostMounts() = default;
    HostMounts(const HostMounts&) = delete;
    HostMounts& operator=(const HostMounts&) = delete;
    ~HostMounts() {
        // A shared mount can end up stacked more than once (a container with shared root
        // propagation propagates its copy back): unmount until the point is no mount point.
        for (auto it = points_.rbegin(); it != points_.rend(); ++it)
            th::sh("for i in 1 2 3 4 5; do mountpoint -q '" + *it + "' || break; umount -l '" + *it + "'; done");
    }
    void tmpfs(const std::string& point) {
        run("mount -t tmpfs -o size=1m rt-test-tmpfs '" + point + "'");
        points_.push_back(point);
    }
    // A bind mount of dir onto itself, made a shared peer group: mounts made under it later
    // propagate to copies that are slaves or peers of it.
    void shared_self_bind(const std::string& dir) {
        run("mount --bind '" + dir + "' '" + dir + "'");
        points_.push_back(dir);
        run("mount --make-shared '" + dir + "'");
    }

private:
    static void run(const std::string& cmd) {
        auto r = th::sh(cmd);
        if (r.status != 0) throw std::runtime_error(cmd + " failed: " + r.err);
    }
    std::vector<std::string> points_;
};

json bind_mount(const std::string& dest, const std::string& src, const std::vector<std::string>& opts) {
    return {{"destination", dest}, {"type", "bind"}, {"source", src}, {"options", opts}};
}

// Run the bundle's container with args in the foreground; REQUIREs exit status 0.
std::string run_ok(th::Bundle& b, const std::vector<std::string>& args) {
    b.args(args);
    auto r = b.run(th::unique_id("mnt"));
    INFO("stdout: " << r.out);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    return r.out;
}

// Everything after a line "---" in s.
std::string after_marker(const std::string& s) {
    auto p = s.find("---\n");
    return p == std::string::npos ? "" : s.substr(p + 4);
}
std::string before_marker(const std::string& s) {
    auto p = s.find("---\n");
    return p == std::string::npos ? s : s.substr(0, p);
}

std::string proc_mountinfo(pid_t pid) { return th::read_file("/proc/" + std::to_string(pid) + "/mountinfo"); }

}  // namespace

TEST_CASE("tmpfs options: size, mode, nosuid/nodev/noexec, ro", "[mounts]") {
    th::Bundle b;
    b.add_mount({{"destination", "/t1"},
                 {"type", "tmpfs"},
                 {"source", "tmpfs"},
                 {"options", {"nosuid", "nodev", "noexec", "size=1m", "mode=700"}}});
    b.add_mount({{"destination", "/t2"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"ro"}}});
    std::string out = run_ok(b, {"sh", "-c",
                                 "cat /proc/self/mountinfo; echo ---; stat -c %a /t1; "
                                 "touch /t1/x && echo t1-writable; "
                                 "touch /t2/x 2>/dev/null && echo t2-writable || echo t2-readonly"});
    auto mi = parse_mountinfo(before_marker(out));
    auto tail = th::lines(after_marker(out));

    const std::optional<MountEntry> t1 = find_mount(mi, "/t1");
    REQUIRE(t1.has_value());
    INFO(t1->line);
    CHECK(t1->fstype == "tmpfs");
    CHECK(has_opt(t1->opts, "rw"));
    CHECK(has_opt(t1->opts, "nosuid"));
    CHECK(has_opt(t1->opts, "nodev"));
    CHECK(has_opt(t1->opts, "noexec"));
    CHECK(has_opt(t1->super_opts, "size=1024k"));
    CHECK(has_opt(t1->super_opts, "mode=700"));

    const std::optional<MountEntry> t2 = find_mount(mi, "/t2");
    REQUIRE(t2.has_value());
    INFO(t2->line);
    CHECK(t2->fstype == "tmpfs");
    CHECK(has_opt(t2->opts, "ro"));

    CHECK(tail == std::vector<std::string>{"700", "t1-writable", "t2-readonly"});
}

TEST_CASE("bind mounts of a host directory: ro and rw", "[mounts]") {
    th::TempDir src("rt-test-bindsrc");
    th::write_file(src.path() + "/hello", "hello from the host\n");
    th::Bundle b;
    b.add_mount(bind_mount("/data", src.path(), {"bind", "ro"}));
    b.add_mount(bind_mount("/data-rw", src.path(), {"bind"}));
    std::string out = run_ok(b, {"sh", "-c",
                                 "cat /proc/self/mountinfo; echo ---; cat /data/hello; "
                                 "touch /data/new 2>/dev/null && echo ro-writable || echo ro-refused; "
                                 "echo from-container > /data-rw/written && echo rw-ok"});
    auto mi = parse_mountinfo(before_marker(out));
    auto tail = th::lines(after_marker(out));
    CHECK(tail == std::vector<std::string>{"hello from the host", "ro-refused", "rw-ok"});

    const std::optional<MountEntry> ro = find_mount(mi, "/data");
    REQUIRE(ro.has_value());
    INFO(ro->line);
    CHECK(has_opt(ro->opts, "ro"));
    const std::optional<MountEntry> rw = find_mount(mi, "/data-rw");
    REQUIRE(rw.has_value());
    INFO(rw->line);
    CHECK(has_opt(rw->opts, "rw"));

    CHECK_FALSE(th::exists(src.path() + "/new"));
    CHECK(th::read_file(src.path() + "/written") == "from-container\n");
    // The host's own view of the directory is untouched (the ro is the container's mount's).
    CHECK(host_lines_mentioning(src.path()).empty());
}

TEST_CASE("rbind carries submounts along, bind does not", "[mounts]") {
    th::TempDir src("rt-test-rbindsrc");
    th::sh("mkdir -p '" + src.path() + "/sub'");
    HostMounts hm;
    hm.tmpfs(src.path() + "/sub");
    th::write_file(src.path() + "/sub/subfile", "in the submount\n");

    th::Bundle b;
    b.add_mount(bind_mount("/rb", src.path(), {"rbind"}));
    b.add_mount(bind_mount("/b", src.path(), {"bind"}));
    std::string out = run_ok(b, {"sh", "-c",
                                 "cat /proc/self/mountinfo; echo ---; cat /rb/sub/subfile; "
                                 "ls -A /b/sub | wc -l"});
    auto mi = parse_mountinfo(before_marker(out));
    auto tail = th::lines(after_marker(out));
    CHECK(tail == std::vector<std::string>{"in the submount", "0"});
    const std::optional<MountEntry> sub = find_mount(mi, "/rb/sub");
    REQUIRE(sub.has_value());
    CHECK(sub->fstype == "tmpfs");
    CHECK_FALSE(find_mount(mi, "/b/sub").has_value());
}

TEST_CASE("rro: recursively read-only (mount_setattr), plain ro only the top mount", "[mounts]") {
    if (!kernel_at_least(5, 12)) {
        WARN("skipped: rro needs mount_setattr (Linux 5.12)");
        return;
    }
    th::TempDir src("rt-test-rrosrc");
    th::sh("mkdir -p '" + src.path() + "/sub'");
    HostMounts hm;
    hm.tmpfs(src.path() + "/sub");

    th::Bundle b;
    b.add_mount(bind_mount("/rro", src.path(), {"rbind", "rro"}));
    b.add_mount(bind_mount("/ro", src.path(), {"rbind", "ro"}));
    std::string out = run_ok(b, {"sh", "-c",
                                 "cat /proc/self/mountinfo; echo ---; "
                                 "for f in /rro/x /rro/sub/x /ro/x /ro/sub/x; do "
                                 "  touch $f 2>/dev/null && echo $f:writable || echo $f:readonly; done"});
    auto mi = parse_mountinfo(before_marker(out));
    auto tail = th::lines(after_marker(out));
    CHECK(tail == std::vector<std::string>{"/rro/x:readonly", "/rro/sub/x:readonly", "/ro/x:readonly",
                                           "/ro/sub/x:writable"});
    for (const std::string p : {"/rro", "/rro/sub", "/ro"}) {
        const std::optional<MountEntry> e = find_mount(mi, p);
        REQUIRE(e.has_value());
        INFO(e->line);
        CHECK(has_opt(e->opts, "ro"));
    }
    // runc: "ro" on an rbind remounts only the top mount read-only; submounts keep their flags.
    const std::optional<MountEntry> rosub = find_mount(mi, "/ro/sub");
    REQUIRE(rosub.has_value());
    CHECK(has_opt(rosub->opts, "rw"));
    // Nothing leaked onto the host's submount.
    CHECK(th::sh("touch '" + src.path() + "/sub/host-write'").status == 0);
}

TEST_CASE("bind mount propagation: rslave, rprivate, rshared", "[mounts][propagation]") {
    th::TempDir src("rt-test-propsrc");
    th::sh("mkdir -p '" + src.path() + "/late'");
    HostMounts hm;
    hm.shared_self_bind(src.path());  // the host side is a shared peer group

    th::Bundle b;
    b.add_mount(bind_mount("/sl", src.path(), {"rbind", "rslave"}));
    b.add_mount(bind_mount("/pr", src.path(), {"rbind", "rprivate"}));
    b.add_mount(bind_mount("/sh", src.path(), {"rbind", "rshared"}));
    pid_t pid = th::start_sleeper(b, th::unique_id("mnt"));
    REQUIRE(pid > 0);

    auto mi = parse_mountinfo(proc_mountinfo(pid));
    const std::optional<MountEntry> sl = find_mount(mi, "/sl");
    const std::optional<MountEntry> pr = find_mount(mi, "/pr");
    const std::optional<MountEntry> shm = find_mount(mi, "/sh");
    REQUIRE(sl.has_value());
    REQUIRE(pr.has_value());
    REQUIRE(shm.has_value());
    {
        INFO(sl->line);
        CHECK(has_tag(sl->optional, "master:"));
        CHECK_FALSE(has_tag(sl->optional, "shared:"));
    }
    {
        INFO(pr->line);
        CHECK(pr->optional.empty());
    }
    {
        INFO(shm->line);
        CHECK(has_tag(shm->optional, "shared:"));
    }

    // A mount made on the host after the container started: slaves and peers receive it, the
    // private copy doesn't. (Paths under /proc/<pid>/root/ are looked up in the container's
    // mount namespace.)
    hm.tmpfs(src.path() + "/late");
    th::write_file(src.path() + "/late/marker", "late\n");
    const std::string root = "/proc/" + std::to_string(pid) + "/root";
    CHECK(th::exists(root + "/sl/late/marker"));
    CHECK(th::exists(root + "/sh/late/marker"));
    CHECK_FALSE(th::exists(root + "/pr/late/marker"));
}

TEST_CASE("root.readonly", "[mounts]") {
    th::Bundle b;
    SECTION("true: / is mounted ro and writes fail") {
        b.config()["root"]["readonly"] = true;
        std::string out = run_ok(b, {"sh", "-c",
                                     "cat /proc/self/mountinfo; echo ---; "
                                     "touch /x 2>/dev/null && echo writable || echo readonly"});
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(before_marker(out)), "/");
        REQUIRE(r.has_value());
        INFO(r->line);
        CHECK(has_opt(r->opts, "ro"));
        CHECK(th::lines(after_marker(out)) == std::vector<std::string>{"readonly"});
        CHECK_FALSE(th::exists(b.rootfs() + "/x"));
    }
    SECTION("true: mounts on top of a read-only root keep their own flags") {
        b.config()["root"]["readonly"] = true;
        b.add_mount({{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
        std::string out = run_ok(b, {"sh", "-c", "touch /scratch/x && echo scratch-ok; touch /dev/shm/x && echo shm-ok"});
        CHECK(th::lines(out) == std::vector<std::string>{"scratch-ok", "shm-ok"});
    }
    SECTION("false: / is rw and a file written inside shows up in the bundle's rootfs") {
        b.config()["root"]["readonly"] = false;
        std::string out = run_ok(b, {"sh", "-c",
                                     "cat /proc/self/mountinfo; echo ---; echo inside > /x && echo written"});
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(before_marker(out)), "/");
        REQUIRE(r.has_value());
        CHECK(has_opt(r->opts, "rw"));
        CHECK(th::lines(after_marker(out)) == std::vector<std::string>{"written"});
        CHECK(th::read_file(b.rootfs() + "/x") == "inside\n");
    }
}

TEST_CASE("rootfsPropagation", "[mounts][propagation]") {
    th::Bundle b;
    th::sh("mkdir -p '" + b.rootfs() + "/late'");
    HostMounts hm;
    // The rootfs is its own shared mount on the host, so the container's / has something to be a
    // slave of (on this kind of host / is usually private).
    hm.shared_self_bind(b.rootfs());

    auto start = [&](const char* prop) {
        if (prop) b.config()["linux"]["rootfsPropagation"] = prop;
        pid_t pid = th::start_sleeper(b, th::unique_id("mnt"));
        REQUIRE(pid > 0);
        return pid;
    };
    auto late_mount_visible = [&](pid_t pid) {
        hm.tmpfs(b.rootfs() + "/late");
        th::write_file(b.rootfs() + "/late/marker", "late\n");
        return th::exists("/proc/" + std::to_string(pid) + "/root/late/marker");
    };

    SECTION("rslave: / is a slave, host mounts under the rootfs propagate in") {
        pid_t pid = start("rslave");
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(proc_mountinfo(pid)), "/");
        REQUIRE(r.has_value());
        INFO(r->line);
        CHECK(has_tag(r->optional, "master:"));
        CHECK_FALSE(has_tag(r->optional, "shared:"));
        CHECK(late_mount_visible(pid));
    }
    SECTION("unset: like rslave (runc's default)") {
        pid_t pid = start(nullptr);
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(proc_mountinfo(pid)), "/");
        REQUIRE(r.has_value());
        INFO(r->line);
        CHECK(has_tag(r->optional, "master:"));
        CHECK(late_mount_visible(pid));
    }
    SECTION("rprivate: no propagation either way") {
        pid_t pid = start("rprivate");
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(proc_mountinfo(pid)), "/");
        REQUIRE(r.has_value());
        INFO(r->line);
        CHECK(r->optional.empty());
        CHECK_FALSE(late_mount_visible(pid));
    }
    SECTION("private") {
        pid_t pid = start("private");
        const std::optional<MountEntry> r = find_mount(parse_mountinfo(proc_mountinfo(pid)), "/");
        REQUIRE(r.has_value());
        INFO(r->line);
        CHECK(r->optional.empty());
    }
    SECTION("whatever the propagation, the container's mounts don't appear on the host") {
        b.add_mount({{"destination", "/late"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
        start("rslave");
        for (const auto& l : host_lines_mentioning(b.rootfs())) {
            INFO(l);
            CHECK(parse_mountinfo(l).at(0).point == b.rootfs());  // only our own self-bind
        }
    }
}

TEST_CASE("--no-pivot: the container still sees only its rootfs", "[mounts]") {
    th::Bundle b;
    th::write_file(b.rootfs() + "/marker", "rootfs-marker\n");
    b.args({"sh", "-c",
            "cat /marker; [ -e /etc/os-release ] && echo host-visible; "
            "[ \"$(ls -a /..)\" = \"$(ls -a /)\" ] && echo dotdot-is-root; "
            "echo ---; cat /proc/self/mountinfo"});
    auto r = b.run(th::unique_id("mnt"), {"--no-pivot"});
    INFO(r.out);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(th::lines(before_marker(r.out)) == std::vector<std::string>{"rootfs-marker", "dotdot-is-root"});
    auto mi = parse_mountinfo(after_marker(r.out));
    const std::optional<MountEntry> root = find_mount(mi, "/");
    REQUIRE(root.has_value());
    // Every mount the container sees is one of its own (none of the host's other mounts).
    const std::set<std::string> own = {"/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"};
    for (const auto& e : mi) {
        INFO(e.line);
        bool masked = e.point.rfind("/proc/", 0) == 0 || e.point.rfind("/sys/", 0) == 0;
        CHECK((own.count(e.point) == 1 || masked));
    }
}

TEST_CASE("/dev: default devices and symlinks", "[mounts][dev]") {
    th::Bundle b;
    std::string out = run_ok(b, {"sh", "-c",
                                 "for d in null zero full random urandom tty; do "
                                 "  stat -c '%n %F %t:%T %a' /dev/$d; done; echo ---; "
                                 "for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done; "
                                 "head -c 5 /dev/zero | wc -c; echo x > /dev/null && echo null-ok; "
                                 "[ -d /dev/pts ] && [ -d /dev/shm ] && echo dirs-ok"});
    CHECK(th::lines(before_marker(out)) == std::vector<std::string>{
                                               "/dev/null character special file 1:3 666",
                                               "/dev/zero character special file 1:5 666",
                                               "/dev/full character special file 1:7 666",
                                               "/dev/random character special file 1:8 666",
                                               "/dev/urandom character special file 1:9 666",
                                               "/dev/tty character special file 5:0 666",
                                           });
    CHECK(th::lines(after_marker(out)) == std::vector<std::string>{
                                              "fd /proc/self/fd",
                                              "stdin /proc/self/fd/0",
                                              "stdout /proc/self/fd/1",
                                              "stderr /proc/self/fd/2",
                                              "ptmx pts/ptmx",
                                              "5",
                                              "null-ok",
                                              "dirs-ok",
                                          });
}

TEST_CASE("linux.devices entries are created with type, numbers, mode and owner", "[mounts][dev]") {
    th::Bundle b;
    b.config()["linux"]["devices"] = json::array({
        {{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666}, {"uid", 0}, {"gid", 0}},
        {{"path", "/dev/rt-blk"}, {"type", "b"}, {"major", 7}, {"minor", 0}, {"fileMode", 0640}, {"uid", 1000}, {"gid", 5}},
    });
    std::string out = run_ok(b, {"stat", "-c", "%n %F %t:%T %a %u:%g", "/dev/fuse", "/dev/rt-blk"});
    CHECK(th::lines(out) == std::vector<std::string>{
                                "/dev/fuse character special file a:e5 666 0:0",
                                "/dev/rt-blk block special file 7:0 640 1000:5",
                            });
}

TEST_CASE("the host's mount table is unchanged by run, create/start/delete", "[mounts]") {
    th::TempDir src("rt-test-hostmnt");
    th::write_file(src.path() + "/f", "x\n");
    const auto before = th::lines(host_mountinfo());
    {
        th::Bundle b;
        b.add_mount(bind_mount("/data", src.path(), {"rbind", "ro"}));
        b.add_mount({{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
        b.config()["root"]["readonly"] = true;

        run_ok(b, {"cat", "/data/f"});

        const std::string id = th::unique_id("mnt");
        pid_t pid = th::start_sleeper(b, id);
        REQUIRE(pid > 0);
        // While it runs: nothing of the container's is mounted in the host's namespace.
        CHECK(host_lines_mentioning(b.dir()).empty());
        CHECK(host_lines_mentioning(src.path()).empty());
        auto k = th::rt({"kill", id, "KILL"});
        CHECK(k.status == 0);
        CHECK(th::wait_for([&] { return th::status_of(id) == "stopped"; }, 10));
        auto d = th::rt({"delete", id});
        INFO(d.err);
        CHECK(d.status == 0);
        CHECK(host_lines_mentioning(b.dir()).empty());
    }
    const auto after = th::lines(host_mountinfo());
    std::set<std::string> bs(before.begin(), before.end()), as(after.begin(), after.end());
    std::vector<std::string> added, removed;
    std::set_difference(as.begin(), as.end(), bs.begin(), bs.end(), std::back_inserter(added));
    std::set_difference(bs.begin(), bs.end(), as.begin(), as.end(), std::back_inserter(removed));
    for (const auto& l : added) UNSCOPED_INFO("added: " << l);
    for (const auto& l : removed) UNSCOPED_INFO("removed: " << l);
    CHECK(after.size() == before.size());
    CHECK(added.empty());
    CHECK(removed.empty());
}

TEST_CASE("mount destinations can't escape the rootfs through symlinks", "[mounts][security]") {
    th::TempDir target("rt-test-evil");
    th::write_file(target.path() + "/canary", "host file\n");
    const std::string name = target.path().substr(target.path().rfind('/') + 1);
    // Where the symlink resolves when the rootfs is taken as /: <rootfs>/tmp/<name>, which must
    // be where the mount lands (the host's /tmp/<name> must stay untouched).
    th::Bundle b;
    HostMounts hm;
    std::string link_target;

    SECTION("absolute symlink") { link_target = target.path(); }
    SECTION("relative symlink with many ..") {
        link_target = "../../../../../../../../.." + target.path();
    }
    SECTION("absolute symlink, rootfsPropagation rshared, the host dir a shared mount") {
        // If the runtime followed the link on the host side, the tmpfs would land on the host's
        // dir inside the container's mount namespace and, with shared propagation, show up in
        // the host's mount table.
        link_target = target.path();
        hm.shared_self_bind(target.path());
        b.config()["linux"]["rootfsPropagation"] = "rshared";
    }
    REQUIRE(th::sh("ln -s '" + link_target + "' '" + b.rootfs() + "/evil'").status == 0);
    b.add_mount({{"destination", "/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});
    b.add_mount({{"destination", "/evil/sub"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"size=1m"}}});

    const auto host_before = host_lines_mentioning(target.path());
    pid_t pid = th::start_sleeper(b, th::unique_id("mnt"));
    REQUIRE(pid > 0);

    // The host: no new mount on or under the target dir, the canary is still there and alone.
    CHECK(host_lines_mentioning(target.path()) == host_before);
    CHECK(th::list_dir(target.path()) == std::vector<std::string>{"canary"});
    CHECK(th::read_file(target.path() + "/canary") == "host file\n");

    // The container: the tmpfs is inside its rootfs, at the path the link names.
    auto mi = parse_mountinfo(proc_mountinfo(pid));
    const std::optional<MountEntry> evil = find_mount(mi, "/tmp/" + name);
    REQUIRE(evil.has_value());
    CHECK(evil->fstype == "tmpfs");
    const std::optional<MountEntry> sub = find_mount(mi, "/tmp/" + name + "/sub");
    REQUIRE(sub.has_value());
    CHECK(sub->fstype == "tmpfs");
    CHECK(th::exists(b.rootfs() + "/tmp/" + name));  // the mount point was made in the rootfs
    CHECK(th::list_dir(b.rootfs() + "/tmp/" + name).empty());
}

TEST_CASE("mount destinations with .. components stay inside the rootfs", "[mounts][security]") {
    th::TempDir target("rt-test-dotdot");
    th::write_file(target.path() + "/canary", "host file\n");
    th::Bundle b;
    b.add_mount({{"destination", "/../../../../../../../.." + target.path()},
                 {"type", "tmpfs"},
                 {"source", "tmpfs"},
                 {"options", {"size=1m"}}});
    pid_t pid = th::start_sleeper(b, th::unique_id("mnt"));
    REQUIRE(pid > 0);

    CHECK(host_lines_mentioning(target.path()).empty());
    CHECK(th::list_dir(target.path()) == std::vector<std::string>{"canary"});
    auto mi = parse_mountinfo(proc_mountinfo(pid));
    const std::optional<MountEntry> m = find_mount(mi, target.path());
    REQUIRE(m.has_value());
    CHECK(m->fstype == "tmpfs");
    CHECK(th::exists(b.rootfs() + target.path()));
}

TEST_CASE("a bind mount's destination symlink can't redirect it to the host", "[mounts][security]") {
    th::TempDir src("rt-test-bsrc");
    th::write_file(src.path() + "/payload", "payload\n");
    th::TempDir target("rt-test-btgt");
    th::write_file(target.path() + "/canary", "host file\n");
    const std::string name = target.path().substr(target.path().rfind('/') + 1);

    th::Bundle b;
    REQUIRE(th::sh("ln -s '" + target.path() + "' '" + b.rootfs() + "/evil'").status == 0);
    b.add_mount(bind_mount("/evil", src.path(), {"rbind", "rw"}));
    pid_t pid = th::start_sleeper(b, th::unique_id("mnt"));
    REQUIRE(pid > 0);

    CHECK(host_lines_mentioning(target.path()).empty());
    CHECK(th::list_dir(target.path()) == std::vector<std::string>{"canary"});
    auto mi = parse_mountinfo(proc_mountinfo(pid));
    const std::optional<MountEntry> evil = find_mount(mi, "/tmp/" + name);
    REQUIRE(evil.has_value());
    CHECK(th::read_file("/proc/" + std::to_string(pid) + "/root/tmp/" + name + "/payload") == "payload\n");
}

TEST_CASE("a cgroup mount shows the container's own cgroups, read-only", "[mounts][cgroup]") {
    th::Bundle b;
    b.add_mount({{"destination", "/sys/fs/cgroup"},
                 {"type", "cgroup"},
                 {"source", "cgroup"},
                 {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
    const std::string id = th::unique_id("cgm");
    std::string out = run_ok(b, {"sh", "-c",
                                 "cat /proc/self/mountinfo; echo ---; "
                                 "touch /sys/fs/cgroup/pids/x 2>/dev/null && echo writable || echo readonly; "
                                 "cat /sys/fs/cgroup/pids/cgroup.procs | wc -l"});
    auto mi = parse_mountinfo(before_marker(out));
    const std::optional<MountEntry> top = find_mount(mi, "/sys/fs/cgroup");
    REQUIRE(top.has_value());
    if (th::is_rt()) CHECK(has_opt(top->opts, "ro"));  // runc 1.1 leaves the tmpfs itself rw
    const std::optional<MountEntry> pids = find_mount(mi, "/sys/fs/cgroup/pids");
    REQUIRE(pids.has_value());
    INFO(pids->line);
    CHECK(has_opt(pids->opts, "ro"));
    CHECK(has_opt(pids->opts, "nosuid"));
    // The bind's root is the container's cgroup, not the host's root cgroup.
    CHECK(pids->line.find(" / /sys/fs/cgroup/pids ") == std::string::npos);
    auto after = th::lines(after_marker(out));
    REQUIRE(after.size() == 2);
    CHECK(after[0] == "readonly");
    CHECK(th::trim(after[1]) != "0");  // the container's own processes are listed
}
