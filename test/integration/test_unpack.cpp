// rt-unpack: every store kind built offline (test/fixtures/make-images.sh), unpacked into a
// bundle, and the bundle run with rt: the image's files, whiteouts, env, cwd, user, groups,
// HOME and hostname are checked from inside the container.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "../common/tar_writer.hpp"
#include "harness.hpp"

using namespace th;
using json = nlohmann::json;

namespace {

const std::string& unpack_binary() {
    static const std::string b = [] {
        const char* e = std::getenv("RT_UNPACK_BINARY");
        if (!e || !*e) skip_all("RT_UNPACK_BINARY is not set (run through `meson test`)");
        return std::string(e);
    }();
    return b;
}

Result unpack(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {unpack_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_argv(argv, "", 120);
}

// The stores, built once per test binary.
const std::string& images() {
    static TempDir dir("rt-images");
    static const std::string path = [] {
        std::string src = std::getenv("RT_SOURCE_DIR") ? std::getenv("RT_SOURCE_DIR") : "";
        Result r =
            sh(shell_quote({src + "/test/fixtures/make-images.sh", rootfs_source(), dir.path() + "/s"}));
        INFO(r.err);
        REQUIRE(r.status == 0);
        return dir.path() + "/s";
    }();
    return path;
}

// What CMD of the fixture image prints when the bundle is right.
const std::vector<std::string> kExpected = {
    "from the upper layer",  // upper layer's file over the base's
    "gone",                  // .wh.removed-by-upper hid the base's file
    "hello from the image",  // Env
    "/app",                  // WorkingDir
    "1000",                  // User tester -> uid
    "1000",                  //   and its primary gid
    "1000 50",               //   and staff from the image's /etc/group (additionalGids)
    "/home/tester",          // HOME from the image's /etc/passwd
    "imagehost",             // Hostname
};

void unpack_and_run(const std::vector<std::string>& source, const std::string& name) {
    TempDir out("rt-bundle");
    const std::string bundle = out.path() + "/bundle";
    std::vector<std::string> args = {"unpack"};
    args.insert(args.end(), source.begin(), source.end());
    args.insert(args.end(), {name, bundle});
    Result u = unpack(args);
    INFO(u.err);
    REQUIRE(u.status == 0);
    CHECK(u.err.find("label \"rt.network.bridge\" not converted") != std::string::npos);
    CHECK(list_dir(out.path()) == std::vector<std::string>{"bundle"});  // no temporary left
    CHECK(list_dir(bundle) == std::vector<std::string>{"config.json", "rootfs"});
    CHECK_FALSE(exists(bundle + "/rootfs/etc/.wh.removed-by-upper"));

    json cfg = json::parse(read_file(bundle + "/config.json"));
    CHECK(cfg["annotations"]["org.example.store"] == "test");
    CHECK_FALSE(cfg["annotations"].contains("rt.network.bridge"));
    bool data_mount = false;
    for (const auto& m : cfg["mounts"]) data_mount |= m["destination"] == "/data" && m["type"] == "tmpfs";
    CHECK(data_mount);

    const std::string id = unique_id("unpack");
    Result r = rt({"run", "--bundle", bundle, id});
    rt({"delete", "--force", id});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(lines(r.out) == kExpected);
}

}  // namespace

TEST_CASE("Docker 0.6 graph directory: unpack and run", "[unpack][graph]") {
    unpack_and_run({"--graph", images() + "/graph"}, "busybox");
    unpack_and_run({images() + "/graph"}, "busybox:1.0");
    unpack_and_run({images() + "/graph"}, "b750fe");  // a unique id prefix
}

TEST_CASE("Docker 0.7 aufs graph: unpack and run", "[unpack][graph]") {
    unpack_and_run({images() + "/aufs"}, "busybox:latest");
}

TEST_CASE("docker save v1.0 and v1.2 archives: unpack and run", "[unpack][archive]") {
    unpack_and_run({"--archive", images() + "/save-v10.tar"}, "busybox");
    unpack_and_run({images() + "/save-v12.tar"}, "example/app:v12");
}

TEST_CASE("OCI image layout (gzip and zstd layers): unpack and run", "[unpack][oci]") {
    unpack_and_run({"--oci", images() + "/oci"}, "v1");
    unpack_and_run({images() + "/oci"}, "app:oci");  // docker.io/library/app:oci
}

TEST_CASE("list prints REPOSITORY TAG ID CREATED SIZE like docker images", "[unpack][list]") {
    Result r = unpack({"list", "--graph", images() + "/graph"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    auto ls = lines(r.out);
    REQUIRE(ls.size() == 5);
    CHECK(ls[0].starts_with(
        "REPOSITORY          TAG                 ID                  CREATED             SIZE"));
    auto has_row = [&](const std::string& repo, const std::string& tag, const std::string& id) {
        for (const auto& l : ls)
            if (l.starts_with(repo) && l.find(" " + tag + " ") != std::string::npos &&
                l.find(id) != std::string::npos && l.find("ago") != std::string::npos &&
                l.find("(virtual ") != std::string::npos)
                return true;
        return false;
    };
    CHECK(has_row("busybox", "latest", "b750fe79269d"));
    CHECK(has_row("busybox", "1.0", "b750fe79269d"));
    CHECK(has_row("base", "latest", "27cf78414709"));
    CHECK(has_row("<none>", "<none>", "b700aa123456"));  // an untagged head

    Result j = unpack({"list", "--format", "json", images() + "/save-v12.tar"});
    REQUIRE(j.status == 0);
    json rows = json::parse(j.out);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["repository"] == "example/app");
    CHECK(rows[0]["tag"] == "v12");
    CHECK(rows[0]["id"].get<std::string>().size() == 64);
    CHECK(rows[0]["created"] == "2024-01-02T03:04:05Z");
}

TEST_CASE("inspect prints the config and the layer chain, base first", "[unpack][inspect]") {
    Result r = unpack({"inspect", images() + "/graph", "busybox"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    json j = json::parse(r.out);
    CHECK(j["id"] == "b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc");
    REQUIRE(j["layers"].size() == 2);
    CHECK(j["layers"][0]["id"] == "27cf784147099545");  // the 16-hex parent
    CHECK(j["config"]["WorkingDir"] == "/app");         // config, not container_config

    Result o = unpack({"inspect", images() + "/oci", "v1"});
    REQUIRE(o.status == 0);
    json oj = json::parse(o.out);
    REQUIRE(oj["layers"].size() == 2);
    CHECK(oj["layers"][1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd");
    CHECK(oj["layers"][0]["diffID"].get<std::string>().starts_with("sha256:"));
}

TEST_CASE("name resolution errors: ambiguous prefix, unknown name, unknown tag", "[unpack][names]") {
    TempDir out("rt-bundle");
    Result amb = unpack({"unpack", images() + "/graph", "b7", out.path() + "/b"});
    CHECK(amb.status != 0);
    CHECK(amb.err.find("ambiguous") != std::string::npos);
    CHECK(amb.err.find("b750fe79269d") != std::string::npos);
    CHECK(amb.err.find("b700aa123456") != std::string::npos);
    CHECK(lines(amb.err).size() == 1);

    Result none = unpack({"unpack", images() + "/graph", "nosuch", out.path() + "/b"});
    CHECK(none.status != 0);
    CHECK(none.err.find("image \"nosuch\" not found") != std::string::npos);
    Result tag = unpack({"inspect", images() + "/graph", "busybox:2.0"});
    CHECK(tag.status != 0);
    CHECK(tag.err.find("not found") != std::string::npos);
    CHECK(list_dir(out.path()).empty());
}

TEST_CASE("an existing bundle is kept unless --force", "[unpack]") {
    TempDir out("rt-bundle");
    const std::string bundle = out.path() + "/b";
    REQUIRE(unpack({"unpack", images() + "/oci", "v1", bundle}).status == 0);
    write_file(bundle + "/marker", "old");
    Result again = unpack({"unpack", images() + "/oci", "v1", bundle});
    CHECK(again.status != 0);
    CHECK(again.err.find("exists (--force replaces it)") != std::string::npos);
    CHECK(exists(bundle + "/marker"));
    Result forced = unpack({"unpack", "--force", images() + "/oci", "v1", bundle});
    INFO(forced.err);
    CHECK(forced.status == 0);
    CHECK_FALSE(exists(bundle + "/marker"));
    CHECK(exists(bundle + "/rootfs/app/data"));
    CHECK(list_dir(out.path()) == std::vector<std::string>{"b"});
}

TEST_CASE("a corrupted blob fails the unpack and leaves nothing behind", "[unpack][digest]") {
    TempDir work("rt-corrupt");
    REQUIRE(
        sh("cp -a " + shell_quote({images() + "/oci"}) + " " + shell_quote({work.path() + "/oci"})).status ==
        0);
    // Flip the upper (zstd) layer's last byte: its digest no longer matches.
    json m;
    for (const auto& f : list_dir(work.path() + "/oci/blobs/sha256")) {
        std::string t = read_file(work.path() + "/oci/blobs/sha256/" + f);
        if (t.starts_with("{\"schemaVersion\"")) m = json::parse(t);
    }
    REQUIRE(m.is_object());
    std::string layer =
        work.path() + "/oci/blobs/sha256/" + m["layers"][1]["digest"].get<std::string>().substr(7);
    std::string data = read_file(layer);
    data.back() = static_cast<char>(data.back() ^ 1);
    write_file(layer, data);

    const std::string bundle = work.path() + "/b";
    Result r = unpack({"unpack", work.path() + "/oci", "v1", bundle});
    CHECK(r.status != 0);
    CHECK(lines(r.err).size() == 1);
    CHECK((r.err.find("digest mismatch") != std::string::npos || r.err.find("zstd") != std::string::npos));
    CHECK(r.err.find("layer 2/2") != std::string::npos);
    CHECK(list_dir(work.path()) == std::vector<std::string>{"oci"});  // no bundle, no temporary
}

TEST_CASE("graph: an id that differs from its directory is an error", "[unpack][graph]") {
    TempDir work("rt-graph");
    const std::string g = work.path() + "/g";
    REQUIRE(sh("cp -a " + shell_quote({images() + "/graph"}) + " " + shell_quote({g})).status == 0);
    REQUIRE(sh("mkdir -p " + g + "/graph/0123456789abcdef && echo '{\"id\":\"fedcba9876543210\"}' > " + g +
               "/graph/0123456789abcdef/json")
                .status == 0);
    Result r = unpack({"list", g});
    CHECK(r.status != 0);
    CHECK(
        r.err.find("graph/0123456789abcdef/json: id \"fedcba9876543210\" differs from its directory name") !=
        std::string::npos);
}

TEST_CASE("bad arguments: one-line errors", "[unpack][errors]") {
    Result a = unpack({"unpack", images() + "/oci", "v1"});
    CHECK(a.status != 0);
    CHECK(a.err.find("missing NAME and BUNDLE") != std::string::npos);
    Result b = unpack({"list", "/nonexistent-rt-source"});
    CHECK(b.status != 0);
    CHECK(b.err.find("/nonexistent-rt-source") != std::string::npos);
    Result c = unpack({"unpack", "--uid-map", "0:1", images() + "/oci", "v1", "/tmp/never"});
    CHECK(c.status != 0);
    CHECK(c.err.find("--uid-map: invalid mapping") != std::string::npos);
    Result d = unpack({"frobnicate"});
    CHECK(d.status != 0);
    CHECK(d.err.find("unknown command") != std::string::npos);
}

TEST_CASE("layouts made by umoci and v1.2 archives made by skopeo", "[unpack][umoci][skopeo]") {
    if (sh("command -v umoci && command -v skopeo").status != 0) {
        WARN("SKIP: umoci or skopeo is not installed (apt-get install umoci skopeo)");
        return;
    }
    TempDir work("rt-umoci");
    const std::string w = work.path();
    // An image whose one layer is the busybox rootfs plus /etc/made-by, run as tester in /srv/work
    // (not in the layer: rt-unpack makes it, as Docker did).
    std::string script =
        "set -e; cd " + shell_quote({w}) +
        "; umoci init --layout oci; umoci new --image oci:bb; umoci unpack --image oci:bb b >/dev/null"
        "; cp -a " +
        shell_quote({rootfs_source() + "/."}) +
        " b/rootfs/; echo umoci > b/rootfs/etc/made-by"
        "; umoci repack --image oci:bb b"
        "; umoci config --image oci:bb --config.cmd sh --config.cmd -c"
        " --config.cmd 'cat /etc/made-by; pwd; id -u' --config.user tester --config.workingdir /srv/work"
        "; skopeo copy oci:oci:bb docker-archive:" +
        w + "/save.tar:umoci/bb:latest >/dev/null";
    Result mk = sh(script);
    INFO(mk.err);
    REQUIRE(mk.status == 0);
    for (const auto& [source, name] :
         {std::pair{w + "/oci", std::string("bb")}, std::pair{w + "/save.tar", std::string("umoci/bb")}}) {
        INFO(source);
        const std::string bundle = w + "/bundle";
        Result u = unpack({"unpack", source, name, bundle});
        INFO(u.err);
        REQUIRE(u.status == 0);
        const std::string id = unique_id("umoci");
        Result r = rt({"run", "--bundle", bundle, id});
        rt({"delete", "--force", id});
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK(lines(r.out) == std::vector<std::string>{"umoci", "/srv/work", "1000"});
        REQUIRE(sh("rm -rf " + shell_quote({bundle})).status == 0);
    }
}

namespace {

// A one-layer OCI layout (tag "x") around a tar stream, made with sha256sum.
void make_layout(const std::string& dir, const std::string& tar) {
    REQUIRE(sh("mkdir -p " + shell_quote({dir + "/blobs/sha256"})).status == 0);
    write_file(dir + "/layer", tar);
    std::string script =
        "set -e; cd " + shell_quote({dir}) +
        "; sha() { sha256sum \"$1\" | cut -d' ' -f1; }"
        "; l=$(sha layer); mv layer blobs/sha256/$l"
        "; printf '{\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}' $l > c"
        "; c=$(sha c); mv c blobs/sha256/$c"
        "; printf '{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:%s\"},\"layers\":[{\"mediaType\":"
        "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\"}]}' $c $l > m"
        "; m=$(sha m); mv m blobs/sha256/$m"
        "; echo '{\"imageLayoutVersion\":\"1.0.0\"}' > oci-layout"
        "; printf '{\"manifests\":[{\"digest\":\"sha256:%s\",\"annotations\":"
        "{\"org.opencontainers.image.ref.name\":\"x\"}}]}' $m > index.json";
    Result r = sh(script);
    INFO(r.err);
    REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("hostile layers: nothing lands outside the rootfs", "[unpack][escape]") {
    TempDir work("rt-hostile");
    const std::string tag = "rt-evil-" + std::to_string(::getpid());
    tw::Tar t;
    t.file("../../../../tmp/" + tag, "dotdot");
    t.file("/tmp/" + tag + "-abs", "absolute");
    t.dir("etc/");  // the rootfs's /etc: where /etc leads inside the rootfs
    t.symlink("etc-link", "/etc");
    t.file("etc-link/" + tag, "through a symlinked parent");
    t.symlink("up", "../../../../..");
    t.file("up/" + tag + "-up", "through a relative symlink");
    make_layout(work.path() + "/oci", t.bytes());
    const std::string bundle = work.path() + "/b";
    Result u = unpack({"unpack", work.path() + "/oci", "x", bundle});
    INFO(u.err);
    REQUIRE(u.status == 0);
    for (const std::string& host : {"/tmp/" + tag, "/tmp/" + tag + "-abs", "/etc/" + tag, "/" + tag + "-up"})
        CHECK_FALSE(exists(host));
    CHECK(read_file(bundle + "/rootfs/tmp/" + tag) == "dotdot");
    CHECK(read_file(bundle + "/rootfs/tmp/" + tag + "-abs") == "absolute");
    CHECK(read_file(bundle + "/rootfs/etc/" + tag) == "through a symlinked parent");
    CHECK(read_file(bundle + "/rootfs/" + tag + "-up") == "through a relative symlink");

    // A hard link to the host's /etc/passwd names the rootfs's, which does not exist: an error,
    // one line naming the entry, and no bundle.
    tw::Tar h;
    h.hardlink("passwd", "../../../../etc/passwd");
    make_layout(work.path() + "/oci2", h.bytes());
    Result e = unpack({"unpack", work.path() + "/oci2", "x", work.path() + "/b2"});
    CHECK(e.status != 0);
    CHECK(lines(e.err).size() == 1);
    CHECK(e.err.find("entry \"passwd\": hard link target \"../../../../etc/passwd\" does not exist") !=
          std::string::npos);
    CHECK_FALSE(exists(work.path() + "/b2"));
    // A symlinked parent leading where the rootfs has nothing: an error, never the host's.
    tw::Tar d;
    d.symlink("var-link", "/var/lib").file("var-link/" + tag, "x");
    make_layout(work.path() + "/oci3", d.bytes());
    Result v = unpack({"unpack", work.path() + "/oci3", "x", work.path() + "/b3"});
    CHECK(v.status != 0);
    CHECK(v.err.find("resolve \"var-link\" in the rootfs") != std::string::npos);
    CHECK_FALSE(exists("/var/lib/" + tag));
    CHECK(list_dir(work.path()) == std::vector<std::string>{"b", "oci", "oci2", "oci3"});
}

// ---- --overlay: graph layers mounted with overlayfs ---------------------------------------

namespace {

// Is path a mount point in this mount namespace (field 5 of /proc/self/mountinfo)?
bool mounted(const std::string& path) {
    for (const auto& l : lines(read_file("/proc/self/mountinfo"))) {
        std::vector<std::string> f;
        size_t pos = 0;
        for (int i = 0; i < 5 && pos != std::string::npos; ++i) {
            size_t next = l.find(' ', pos);
            f.push_back(l.substr(pos, next == std::string::npos ? next : next - pos));
            pos = next == std::string::npos ? next : next + 1;
        }
        if (f.size() == 5 && f[4] == path) return true;
    }
    return false;
}

// Unmounts an --overlay bundle's rootfs when the test ends, however it ends (declare it after the
// TempDir holding the bundle: it runs first).
class OverlayGuard {
public:
    explicit OverlayGuard(std::string bundle) : bundle_(std::move(bundle)) {}
    ~OverlayGuard() {
        if (!mounted(bundle_ + "/rootfs")) return;
        unpack({"umount", bundle_});
        while (mounted(bundle_ + "/rootfs") && ::umount2((bundle_ + "/rootfs").c_str(), MNT_DETACH) == 0) {
        }
    }
    OverlayGuard(const OverlayGuard&) = delete;
    OverlayGuard& operator=(const OverlayGuard&) = delete;

private:
    std::string bundle_;
};

// Every path of a tree with its type, mode, owner, size, mtime and (files) sha256: equal listings
// mean the tree was not changed.
std::string tree_listing(const std::string& dir) {
    Result r =
        sh("cd " + shell_quote({dir}) +
           " && find . -printf '%p %y %m %U:%G %s %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + "
           "| sort");
    REQUIRE(r.status == 0);
    REQUIRE(!r.out.empty());
    return r.out;
}

void overlay_unpack_and_run(const std::string& store, const std::string& name, const std::string& layer_dir) {
    INFO(store);
    const std::string before = tree_listing(store);
    TempDir out("rt-overlay");
    const std::string bundle = out.path() + "/bundle";
    OverlayGuard guard(bundle);
    Result u = unpack({"unpack", "--overlay", store, name, bundle});
    INFO(u.err);
    REQUIRE(u.status == 0);
    CHECK(list_dir(out.path()) == std::vector<std::string>{"bundle"});  // no temporary left
    CHECK(mounted(bundle + "/rootfs"));
    CHECK(list_dir(bundle) == std::vector<std::string>{".rt-overlay", "config.json", "rootfs"});
    json cfg = json::parse(read_file(bundle + "/config.json"));
    CHECK(cfg["root"]["path"] == "rootfs");

    // The merged view: the upper layer's files, the whiteout and the opaque dir applied, no aufs
    // marker, the opaque dir with the upper layer's mode (from the generated "above" layer).
    const std::string root = bundle + "/rootfs";
    CHECK(read_file(root + "/etc/motd") == "from the upper layer\n");
    CHECK_FALSE(exists(root + "/etc/removed-by-upper"));
    CHECK(list_dir(root + "/opq") == std::vector<std::string>{"upper-b"});
    struct stat st {};
    REQUIRE(::stat((root + "/opq").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0711);
    Result wh = sh("find " + shell_quote({root}) + " -name '.wh.*'");
    CHECK(wh.status == 0);
    CHECK(wh.out.empty());
    CHECK(exists(store + "/" + layer_dir + "/opq/.wh..wh..opq"));  // still in the store

    // Run it as unpacked.
    const std::string id = unique_id("overlay");
    Result r = rt({"run", "--bundle", bundle, id});
    rt({"delete", "--force", id});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(lines(r.out) == kExpected);

    // A write inside the container (root, writable rootfs) lands in the bundle's upper dir.
    cfg["root"]["readonly"] = false;
    cfg["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    cfg["process"]["args"] = {"sh", "-c", "echo written > /written && rm /etc/motd && ls /opq"};
    write_file(bundle + "/config.json", cfg.dump(2));
    const std::string id2 = unique_id("overlay");
    Result w = rt({"run", "--bundle", bundle, id2});
    rt({"delete", "--force", id2});
    INFO(w.err);
    CHECK(w.status == 0);
    CHECK(lines(w.out) == std::vector<std::string>{"upper-b"});
    CHECK(read_file(bundle + "/.rt-overlay/upper/written") == "written\n");
    CHECK_FALSE(exists(root + "/etc/motd"));
    CHECK(tree_listing(store) == before);  // the store, byte for byte

    // umount: no mount, no generated dirs; config.json and the empty rootfs stay.
    Result um = unpack({"umount", bundle});
    INFO(um.err);
    CHECK(um.status == 0);
    CHECK_FALSE(mounted(root));
    CHECK(list_dir(bundle) == std::vector<std::string>{"config.json", "rootfs"});
    CHECK(list_dir(root).empty());
    Result again = unpack({"umount", bundle});
    CHECK(again.status != 0);
    CHECK(lines(again.err).size() == 1);
    CHECK(again.err.find("was not made with `rt-unpack unpack --overlay`") != std::string::npos);
    CHECK(tree_listing(store) == before);
}

}  // namespace

TEST_CASE("--overlay: graph layers mounted, whiteouts translated, run, umount", "[unpack][overlay]") {
    if (!exists("/sys/module/overlay") &&
        read_file("/proc/filesystems").find("overlay") == std::string::npos &&
        sh("modprobe overlay").status != 0) {
        WARN("SKIP: overlayfs is not available on this machine");
        return;
    }
    // Copies: the test's own stores, so the listings compare only what this test could change.
    TempDir work("rt-overlay-store");
    REQUIRE(sh("cp -a " + shell_quote({images() + "/graph", images() + "/aufs", work.path()})).status == 0);
    overlay_unpack_and_run(work.path() + "/graph", "busybox",
                           "graph/b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc/layer");
    overlay_unpack_and_run(work.path() + "/aufs", "busybox",
                           "aufs/diff/b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc");
}

TEST_CASE("--overlay errors: other stores, umount of a copied bundle, bad whiteout; nothing left",
          "[unpack][overlay]") {
    TempDir out("rt-overlay-err");
    const std::string o = out.path();
    OverlayGuard guard(o + "/b");

    Result oci = unpack({"unpack", "--overlay", images() + "/oci", "v1", o + "/b"});
    CHECK(oci.status != 0);
    CHECK(lines(oci.err).size() == 1);
    CHECK(oci.err.find("--overlay needs a Docker 0.x graph directory") != std::string::npos);
    CHECK(oci.err.find("an OCI layout") != std::string::npos);
    Result arc = unpack({"unpack", "--overlay", images() + "/save-v12.tar", "example/app:v12", o + "/b"});
    CHECK(arc.status != 0);
    CHECK(arc.err.find("a docker save archive") != std::string::npos);
    CHECK(list_dir(o).empty());

    // A copied bundle is not an overlay one.
    REQUIRE(unpack({"unpack", images() + "/graph", "busybox", o + "/copied"}).status == 0);
    Result um = unpack({"umount", o + "/copied"});
    CHECK(um.status != 0);
    CHECK(lines(um.err).size() == 1);
    CHECK(um.err.find("bundle " + o + "/copied was not made with `rt-unpack unpack --overlay`") !=
          std::string::npos);
    CHECK(exists(o + "/copied/rootfs/bin/busybox"));  // untouched
    REQUIRE(sh("rm -rf " + shell_quote({o + "/copied"})).status == 0);

    // A bad whiteout (".wh." alone) in the upper layer: a one-line error, no mount, no bundle.
    REQUIRE(sh("cp -a " + shell_quote({images() + "/graph", o + "/g"})).status == 0);
    write_file(o + "/g/graph/b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc/layer/etc/.wh.",
               "");
    Result bad = unpack({"unpack", "--overlay", o + "/g", "busybox", o + "/b"});
    CHECK(bad.status != 0);
    CHECK(lines(bad.err).size() == 1);
    CHECK(bad.err.find("etc/.wh.\": a whiteout without a name") != std::string::npos);
    CHECK(list_dir(o) == std::vector<std::string>{"g"});
    CHECK(read_file("/proc/self/mountinfo").find(o) == std::string::npos);

    // --force never replaces a mounted --overlay bundle.
    REQUIRE(unpack({"unpack", "--overlay", images() + "/graph", "busybox", o + "/b"}).status == 0);
    Result f = unpack({"unpack", "--force", images() + "/graph", "busybox", o + "/b"});
    CHECK(f.status != 0);
    CHECK(f.err.find("is an --overlay bundle (rt-unpack umount it first)") != std::string::npos);
    CHECK(mounted(o + "/b/rootfs"));
    CHECK(unpack({"umount", o + "/b"}).status == 0);
    CHECK_FALSE(mounted(o + "/b/rootfs"));
}

TEST_CASE("--overlay: umount refuses while a container still holds the overlay", "[unpack][overlay]") {
    TempDir out("rt-overlay-busy");
    const std::string bundle = out.path() + "/b";
    OverlayGuard guard(bundle);
    REQUIRE(unpack({"unpack", "--overlay", images() + "/graph", "busybox", bundle}).status == 0);
    json cfg = json::parse(read_file(bundle + "/config.json"));
    cfg["process"]["args"] = {"sleep", "1000"};
    write_file(bundle + "/config.json", cfg.dump(2));
    const std::string id = unique_id("overlay-busy");
    struct Deleter {
        std::string id;
        ~Deleter() { rt({"delete", "--force", id}); }
    } deleter{id};
    Result c = rt({"create", "--bundle", bundle, id});
    INFO(c.err);
    REQUIRE(c.status == 0);
    REQUIRE(rt({"start", id}).status == 0);
    json st = state(id);
    REQUIRE(st.contains("pid"));

    // Gone from here, but the container's mount namespace still has it: upper/ stays.
    Result busy = unpack({"umount", bundle});
    CHECK(busy.status != 0);
    CHECK(lines(busy.err).size() == 1);
    CHECK(busy.err.find("still mounted in the mount namespace of pid") != std::string::npos);
    CHECK(exists(bundle + "/.rt-overlay/upper"));
    CHECK(status_of(id) == "running");

    REQUIRE(rt({"delete", "--force", id}).status == 0);
    Result um = unpack({"umount", bundle});
    INFO(um.err);
    CHECK(um.status == 0);
    CHECK_FALSE(mounted(bundle + "/rootfs"));
    CHECK(list_dir(bundle) == std::vector<std::string>{"config.json", "rootfs"});
}

TEST_CASE("--overlay: an opaque root hides every layer below it", "[unpack][overlay]") {
    TempDir work("rt-overlay-opqroot");
    const std::string g = work.path() + "/g";
    REQUIRE(sh("cp -a " + shell_quote({images() + "/graph", g})).status == 0);
    write_file(
        g + "/graph/b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc/layer/.wh..wh..opq", "");
    // The image's user must be in the top layer now.
    write_file(g + "/graph/b750fe79269d2ec9a3c593ef05b4332b1d1a02a62b4accb2c21d589ff2f5f2dc/layer/etc/passwd",
               "tester:x:1000:1000::/home/tester:/bin/sh\n");
    const std::string bundle = work.path() + "/b";
    OverlayGuard guard(bundle);
    Result u = unpack({"unpack", "--overlay", g, "busybox", bundle});
    INFO(u.err);
    REQUIRE(u.status == 0);
    CHECK(list_dir(bundle + "/rootfs") == std::vector<std::string>{"app", "etc", "opq"});
    CHECK(list_dir(bundle + "/rootfs/etc") == std::vector<std::string>{"group", "motd", "passwd"});
    json st = json::parse(read_file(bundle + "/.rt-overlay/state.json"));
    CHECK(st["lowerdirs"].size() == 2);  // the top layer and its "above" whiteouts
    CHECK(unpack({"umount", bundle}).status == 0);
    CHECK_FALSE(mounted(bundle + "/rootfs"));
}
