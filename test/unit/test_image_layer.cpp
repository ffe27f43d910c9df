// Layer application rules (image/layer.hpp), one test per rule, hostile layers included. Each
// test applies tar streams made by test/common/tar_writer.hpp into a fresh rootfs and looks at it.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "../common/tar_writer.hpp"
#include "fd.hpp"
#include "image/layer.hpp"
#include "image/stream.hpp"
#include "rt/error.hpp"
#include "util.hpp"

using rt::image::LayerOptions;

namespace {

// base/rootfs is the root; base/outside holds what no layer may touch.
struct Root {
    std::string base, rootfs, outside;
    rt::UniqueFd fd;
    Root() {
        char tmpl[] = "/tmp/rt-layer-XXXXXX";
        base = ::mkdtemp(tmpl);
        rootfs = base + "/rootfs";
        outside = base + "/outside";
        rt::mkdir_all(rootfs);
        rt::mkdir_all(outside);
        rt::write_file(outside + "/secret", "host\n");
        fd.reset(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    ~Root() { rt::remove_all(base); }
    rt::image::LayerStats apply(const tw::Tar& t, LayerOptions o = {}) {
        std::string data = t.bytes();
        bool done = false;
        return rt::image::apply_tar(
            fd.get(),
            [&](const void** b) -> size_t {
                if (done) return 0;
                done = true;
                *b = data.data();
                return data.size();
            },
            o);
    }
    std::string path(const std::string& rel) const { return rootfs + "/" + rel; }
    bool exists(const std::string& rel) const {
        struct stat st {};
        return ::lstat(path(rel).c_str(), &st) == 0;
    }
    struct stat lst(const std::string& rel) const {
        struct stat st {};
        REQUIRE(::lstat(path(rel).c_str(), &st) == 0);
        return st;
    }
    std::string read(const std::string& rel) const {
        return rt::read_file_if_exists(path(rel)).value_or("<missing>");
    }
    // Nothing appeared beside rootfs/ and outside/ and the host file is intact.
    void check_outside_untouched() const {
        CHECK(rt::read_file(outside + "/secret") == "host\n");
        struct stat st {};
        CHECK(::lstat((base + "/evil").c_str(), &st) < 0);
        CHECK(::lstat((outside + "/evil").c_str(), &st) < 0);
        CHECK(::lstat("/evil-rt-layer-test", &st) < 0);
    }
};

LayerOptions walk_opts(bool walk) {
    LayerOptions o;
    o.walk_resolution = walk;
    return o;
}

}  // namespace

TEST_CASE("files, directories, symlinks, modes and owners land as stored", "[image][layer]") {
    Root r;
    tw::Tar t;
    t.dir("usr/", 0755).dir("usr/bin/", 0711);
    t.file("usr/bin/tool", "#!/bin/sh\n", 04755, 1000, 1000);
    t.file("usr/bin/sg", "x", 02711, 0, 50);
    t.dir("tmp/", 01777);
    t.symlink("usr/bin/alias", "tool", 1000);
    t.file("etc/missing-parent/file", "made with its parents");
    r.apply(t);
    struct stat st = r.lst("usr/bin/tool");
    CHECK((st.st_mode & 07777) == 04755);  // setuid survives the chown
    CHECK(st.st_uid == 1000);
    CHECK(st.st_gid == 1000);
    CHECK(st.st_mtim.tv_sec == 1700000000);
    CHECK((r.lst("usr/bin/sg").st_mode & 07777) == 02711);
    CHECK(r.lst("usr/bin/sg").st_gid == 50);
    CHECK((r.lst("tmp").st_mode & 07777) == 01777);
    CHECK((r.lst("usr/bin").st_mode & 07777) == 0711);
    CHECK(S_ISLNK(r.lst("usr/bin/alias").st_mode));
    CHECK(r.lst("usr/bin/alias").st_uid == 1000);
    CHECK(r.read("etc/missing-parent/file") == "made with its parents");
    CHECK((r.lst("etc/missing-parent").st_mode & 0777) == 0755);
}

TEST_CASE("\"..\" and absolute names resolve as under chroot", "[image][layer][escape]") {
    bool walk = GENERATE(false, true);
    INFO("walk resolution: " << walk);
    Root r;
    tw::Tar t;
    t.file("../../evil", "a");
    t.file("/abs", "b");
    t.file("a/../../../outside/secret", "c");
    t.file("./x/./../y", "d");
    r.apply(t, walk_opts(walk));
    CHECK(r.read("evil") == "a");
    CHECK(r.read("abs") == "b");
    CHECK(r.read("outside/secret") == "c");
    CHECK(r.read("y") == "d");
    r.check_outside_untouched();
}

TEST_CASE("symlinked parents resolve inside the rootfs", "[image][layer][escape]") {
    bool walk = GENERATE(false, true);
    INFO("walk resolution: " << walk);
    Root r;
    tw::Tar t;
    t.symlink("up", "../../..");
    t.symlink("abs", "/");
    t.symlink("out", r.outside);  // an absolute host path: means rootfs + that path
    t.dir("real/");
    t.symlink("rel", "real");
    t.file("up/evil", "1");
    t.file("abs/evil2", "2");
    t.file("rel/inside", "3");
    r.apply(t, walk_opts(walk));
    CHECK(r.read("evil") == "1");
    CHECK(r.read("evil2") == "2");
    CHECK(r.read("real/inside") == "3");
    r.check_outside_untouched();

    // A dangling link whose target does not exist in the rootfs: an error, nothing outside.
    tw::Tar t2;
    t2.file("out/evil", "4");
    CHECK_THROWS_WITH(r.apply(t2, walk_opts(walk)), Catch::Contains("entry \"out/evil\""));
    r.check_outside_untouched();
}

TEST_CASE("an existing symlink is replaced, never written through", "[image][layer][escape]") {
    Root r;
    tw::Tar lower;
    lower.symlink("target", "../outside/secret");
    lower.symlink("d", r.outside);
    r.apply(lower);
    tw::Tar upper;
    upper.file("target", "layer data");
    upper.dir("d/");
    r.apply(upper);
    CHECK(S_ISREG(r.lst("target").st_mode));
    CHECK(r.read("target") == "layer data");
    CHECK(S_ISDIR(r.lst("d").st_mode));
    r.check_outside_untouched();
}

TEST_CASE("owner, mode and times of a symlink are set without following it", "[image][layer][escape]") {
    Root r;
    struct stat before {};
    REQUIRE(::stat((r.outside + "/secret").c_str(), &before) == 0);
    tw::Item link;
    link.name = "s";
    link.type = '2';
    link.link = r.outside + "/../outside/secret";
    link.uid = 4321;
    link.gid = 4321;
    link.mode = 0600;
    link.mtime = 1000;
    tw::Tar t;
    t.add(link);
    r.apply(t);
    struct stat st = r.lst("s");
    CHECK(st.st_uid == 4321);
    CHECK(st.st_mtim.tv_sec == 1000);
    struct stat after {};
    REQUIRE(::stat((r.outside + "/secret").c_str(), &after) == 0);
    CHECK(after.st_uid == before.st_uid);
    CHECK((after.st_mode & 07777) == (before.st_mode & 07777));
    CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
}

TEST_CASE("a non-directory root entry is refused", "[image][layer]") {
    Root r;
    tw::Tar ok;
    ok.dir("./", 0750);
    r.apply(ok);
    CHECK((r.lst(".").st_mode & 07777) == 0750);
    tw::Tar bad;
    bad.file(".", "x");
    CHECK_THROWS_WITH(r.apply(bad), Catch::Contains("root of a layer must be a directory"));
    tw::Tar bad2;
    bad2.symlink("/", "/etc");
    CHECK_THROWS_WITH(r.apply(bad2), Catch::Contains("root of a layer must be a directory"));
}

TEST_CASE("directory over directory merges, anything else is replaced", "[image][layer]") {
    Root r;
    tw::Tar lower;
    lower.dir("d/", 0755).file("d/lower", "l").file("f", "file").dir("dir2/").file("dir2/x", "x");
    r.apply(lower);
    tw::Tar upper;
    upper.dir("d/", 0700).file("d/upper", "u");
    upper.dir("f/");                   // a directory over a file
    upper.file("dir2", "now a file");  // a file over a directory (and its contents)
    r.apply(upper);
    CHECK(r.read("d/lower") == "l");
    CHECK(r.read("d/upper") == "u");
    CHECK((r.lst("d").st_mode & 07777) == 0700);
    CHECK(S_ISDIR(r.lst("f").st_mode));
    CHECK(r.read("dir2") == "now a file");
}

TEST_CASE("hard links resolve inside the rootfs and need an existing target", "[image][layer][escape]") {
    bool walk = GENERATE(false, true);
    INFO("walk resolution: " << walk);
    Root r;
    tw::Tar t;
    t.file("etc/passwd", "root:x:0:0::/:/bin/sh\n");
    t.hardlink("same", "etc/passwd");
    t.hardlink("dotted", "../../../etc/passwd");  // "..": still the rootfs's /etc/passwd
    t.symlink("lnk", "/");
    t.hardlink("via-link", "lnk/etc/passwd");
    r.apply(t, walk_opts(walk));
    ino_t ino = r.lst("etc/passwd").st_ino;
    CHECK(r.lst("same").st_ino == ino);
    CHECK(r.lst("dotted").st_ino == ino);
    CHECK(r.lst("via-link").st_ino == ino);
    CHECK(r.lst("etc/passwd").st_nlink == 4);

    tw::Tar missing;
    missing.hardlink("h", "no/such/file");
    CHECK_THROWS_WITH(r.apply(missing, walk_opts(walk)), Catch::Contains("does not exist in the rootfs"));
    tw::Tar out;
    out.hardlink("h2", "../outside/secret");  // outside/secret of the host is not in the rootfs
    CHECK_THROWS_WITH(r.apply(out, walk_opts(walk)), Catch::Contains("does not exist in the rootfs"));
    CHECK_FALSE(r.exists("h2"));
    struct stat st {};
    REQUIRE(::stat((r.outside + "/secret").c_str(), &st) == 0);
    CHECK(st.st_nlink == 1);
}

TEST_CASE("whiteouts remove lower entries and never appear", "[image][layer][whiteout]") {
    Root r;
    tw::Tar lower;
    lower.dir("a/").file("a/b", "b").file("a/c", "c").dir("a/sub/").file("a/sub/deep", "d");
    lower.dir("op/").file("op/x", "x").dir("op/y/").file("op/y/z", "z");
    lower.dir("mix/").dir("mix/d/").file("mix/d/lower", "l");
    r.apply(lower);
    tw::Tar upper;
    upper.file("a/.wh.b", "");
    upper.file("a/.wh.sub", "");
    upper.file("a/.wh.never-existed", "");
    upper.dir("op/").file("op/.wh..wh..opq", "").file("op/new", "n");
    // The layer's own entries survive its whiteouts, whatever the order.
    upper.file("mine/own", "o").file("mine/.wh.own", "");
    upper.file("mix/d/upper", "u").file("mix/.wh.d", "");
    upper.file("a/.wh..wh.plnk", "");  // aufs metadata: ignored
    auto stats = r.apply(upper);
    CHECK_FALSE(r.exists("a/b"));
    CHECK_FALSE(r.exists("a/sub"));
    CHECK(r.read("a/c") == "c");
    CHECK_FALSE(r.exists("a/.wh.b"));
    CHECK_FALSE(r.exists("a/.wh.never-existed"));
    CHECK_FALSE(r.exists("a/.wh..wh.plnk"));
    CHECK(rt::read_file_if_exists(r.path("op/x")) == std::nullopt);
    CHECK_FALSE(r.exists("op/y"));
    CHECK(r.read("op/new") == "n");
    CHECK_FALSE(r.exists("op/.wh..wh..opq"));
    CHECK(r.read("mine/own") == "o");
    CHECK(r.read("mix/d/upper") == "u");
    CHECK_FALSE(r.exists("mix/d/lower"));
    CHECK(stats.whiteouts == 7);
}

TEST_CASE("an opaque directory before its own entries, and at the root", "[image][layer][whiteout]") {
    Root r;
    tw::Tar lower;
    lower.file("keep-not", "1").dir("etc/").file("etc/old", "o");
    r.apply(lower);
    tw::Tar upper;
    upper.file(".wh..wh..opq", "").file("etc/new", "n");
    r.apply(upper);
    CHECK_FALSE(r.exists("keep-not"));
    CHECK_FALSE(r.exists("etc/old"));
    CHECK(r.read("etc/new") == "n");
}

TEST_CASE("\".wh.\" alone is an error", "[image][layer][whiteout]") {
    Root r;
    tw::Tar t;
    t.file("dir/.wh.", "");
    CHECK_THROWS_WITH(r.apply(t), Catch::Contains("entry \"dir/.wh.\"") && Catch::Contains("without a name"));
    tw::Tar t2;
    t2.file(".wh.x/y", "");
    CHECK_THROWS_WITH(r.apply(t2), Catch::Contains("whiteout cannot be a directory"));
}

TEST_CASE("device nodes are made, or skipped on request", "[image][layer]") {
    Root r;
    tw::Item null;
    null.name = "dev/null";
    null.type = '3';
    null.major = 1;
    null.minor = 3;
    null.mode = 0666;
    tw::Item fifo;
    fifo.name = "dev/fifo";
    fifo.type = '6';
    fifo.mode = 0600;
    tw::Tar t;
    t.add(null).add(fifo);
    if (::geteuid() != 0) {
        WARN("SKIP: device nodes need root");
        return;
    }
    r.apply(t);
    struct stat st = r.lst("dev/null");
    CHECK(S_ISCHR(st.st_mode));
    CHECK(major(st.st_rdev) == 1);
    CHECK(minor(st.st_rdev) == 3);
    CHECK((st.st_mode & 07777) == 0666);
    CHECK(S_ISFIFO(r.lst("dev/fifo").st_mode));

    Root r2;
    LayerOptions o;
    o.skip_devices = true;
    auto stats = r2.apply(t, o);
    CHECK(stats.skipped_devices == 1);
    CHECK_FALSE(r2.exists("dev/null"));
    CHECK(S_ISFIFO(r2.lst("dev/fifo").st_mode));
}

TEST_CASE("uid and gid maps shift owners; unmapped ids are errors", "[image][layer]") {
    Root r;
    LayerOptions o;
    o.uid_map = {rt::image::parse_id_mapping("0:100000:65536", "--uid-map")};
    o.gid_map = {rt::image::parse_id_mapping("0:200000:65536", "--gid-map")};
    tw::Tar t;
    t.file("root-file", "r", 0644, 0, 0).file("user-file", "u", 04755, 1000, 1001).dir("d/");
    r.apply(t, o);
    CHECK(r.lst("root-file").st_uid == 100000);
    CHECK(r.lst("root-file").st_gid == 200000);
    CHECK(r.lst("user-file").st_uid == 101000);
    CHECK(r.lst("user-file").st_gid == 201001);
    CHECK((r.lst("user-file").st_mode & 07777) == 04755);
    CHECK(r.lst("d").st_uid == 100000);
    tw::Tar bad;
    bad.file("far", "x", 0644, 70000, 0);
    CHECK_THROWS_WITH(r.apply(bad, o), Catch::Contains("uid 70000 is outside the uid map"));
    CHECK_THROWS_WITH(rt::image::parse_id_mapping("0:1", "--uid-map"),
                      Catch::Contains("--uid-map: invalid mapping"));
}

TEST_CASE("xattrs from PAX records: kept, security.selinux dropped, trusted.* refused", "[image][layer]") {
    Root r;
    {
        // Does this filesystem take user xattrs at all?
        std::string probe = r.base + "/probe";
        rt::write_file(probe, "");
        if (::setxattr(probe.c_str(), "user.probe", "1", 1, 0) < 0) {
            WARN("SKIP: " << r.base << " takes no user.* xattrs");
            return;
        }
    }
    tw::Item f;
    f.name = "with-xattrs";
    f.data = "x";
    f.xattrs = {{"user.comment", "hello"}, {"security.selinux", "system_u:object_r:etc_t:s0"}};
    tw::Tar t;
    t.add(f);
    r.apply(t);
    char buf[64] = {};
    ssize_t n = ::lgetxattr(r.path("with-xattrs").c_str(), "user.comment", buf, sizeof buf);
    CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "hello");
    tw::Item bad;
    bad.name = "trusted";
    bad.data = "y";
    bad.xattrs = {{"trusted.overlay.opaque", "y"}};
    tw::Tar t2;
    t2.add(bad);
    CHECK_THROWS_WITH(r.apply(t2), Catch::Contains("entry \"trusted\"") && Catch::Contains("refused"));
}

TEST_CASE("directory times are set after their contents", "[image][layer]") {
    Root r;
    tw::Tar t;
    t.dir("old/", 0755, 1000000).file("old/a", "a").dir("old/sub/", 0755, 2000000).file("old/sub/b", "b");
    t.file("old/c", "c");
    r.apply(t);
    CHECK(r.lst("old").st_mtim.tv_sec == 1000000);
    CHECK(r.lst("old/sub").st_mtim.tv_sec == 2000000);
}

TEST_CASE("long names and link targets through PAX", "[image][layer]") {
    Root r;
    std::string deep = std::string(120, 'd') + "/" + std::string(120, 'f');
    tw::Tar t;
    t.file(deep, "long");
    t.symlink("l", "/" + deep);
    r.apply(t);
    CHECK(r.read(deep) == "long");
    char buf[512] = {};
    CHECK(::readlink(r.path("l").c_str(), buf, sizeof buf - 1) == static_cast<ssize_t>(deep.size() + 1));
    CHECK(std::string(buf) == "/" + deep);
}

namespace {

struct Blob {
    std::string dir, path;
    Blob(const std::string& tar, const std::string& compress_cmd) {
        char tmpl[] = "/tmp/rt-blob-XXXXXX";
        dir = ::mkdtemp(tmpl);
        rt::write_file(dir + "/layer.tar", tar);
        path = dir + "/layer.tar";
        if (!compress_cmd.empty()) {
            REQUIRE(std::system((compress_cmd + " " + dir + "/layer.tar").c_str()) == 0);
            for (const char* ext : {".gz", ".zst", ".xz"})
                if (rt::read_file_if_exists(dir + "/layer.tar" + ext)) path = dir + "/layer.tar" + ext;
        }
    }
    ~Blob() { rt::remove_all(dir); }
};

std::string drain(rt::image::LayerStream& s) {
    std::string out;
    const void* b;
    while (size_t n = s.next(&b)) out.append(static_cast<const char*>(b), n);
    s.finish();
    return out;
}

}  // namespace

TEST_CASE("gzip, zstd and xz layers by magic bytes, DiffID and digest checked", "[image][stream]") {
    tw::Tar t;
    t.file("a", std::string(300000, 'a')).file("b", "b");
    const std::string tar = t.bytes();
    const std::string diff_id = "sha256:" + rt::image::sha256_hex(tar);
    for (auto [cmd, kind] :
         {std::pair{"", rt::image::Compression::None}, std::pair{"gzip -1", rt::image::Compression::Gzip},
          std::pair{"zstd -q --rm", rt::image::Compression::Zstd},
          std::pair{"xz -0", rt::image::Compression::Xz}}) {
        INFO("compression: " << cmd);
        Blob blob(tar, cmd);
        std::string digest = "sha256:" + rt::image::sha256_hex(rt::read_file(blob.path));
        rt::image::LayerStream s({blob.path, 0, UINT64_MAX}, {digest, diff_id, 0, "layer"});
        CHECK(s.compression() == kind);
        CHECK(drain(s) == tar);

        rt::image::LayerStream wrong({blob.path, 0, UINT64_MAX},
                                     {"", "sha256:" + std::string(64, '0'), 0, "layer x"});
        CHECK_THROWS_WITH(drain(wrong), Catch::Contains("layer x: DiffID mismatch"));
        rt::image::LayerStream wrong2({blob.path, 0, UINT64_MAX},
                                      {"sha256:" + std::string(64, '1'), "", 0, "layer y"});
        CHECK_THROWS_WITH(drain(wrong2), Catch::Contains("layer y: digest mismatch"));
    }
}

TEST_CASE("a truncated compressed layer is an error", "[image][stream]") {
    tw::Tar t;
    t.file("a", std::string(200000, 'x'));
    Blob blob(t.bytes(), "gzip -1");
    std::string data = rt::read_file(blob.path);
    rt::write_file(blob.path, data.substr(0, data.size() / 2));
    rt::image::LayerStream s({blob.path, 0, UINT64_MAX}, {"", "", 0, "layer t"});
    CHECK_THROWS_WITH(drain(s), Catch::Contains("layer t: gzip"));
}

TEST_CASE("a decompression bomb stops at the size limit", "[image][stream]") {
    tw::Tar t;
    t.file("zeros", std::string(32 << 20, '\0'));  // 32 MiB of zeros: ~32 KiB gzipped
    Blob blob(t.bytes(), "gzip -9");
    CHECK(rt::read_file(blob.path).size() < (1 << 20));
    Root r;
    rt::image::LayerStream s({blob.path, 0, UINT64_MAX}, {"", "", 4 << 20, "layer bomb"});
    CHECK_THROWS_WITH(rt::image::apply_tar(r.fd.get(), [&](const void** b) { return s.next(b); }, {}),
                      Catch::Contains("layer bomb: uncompressed size exceeds the limit of 4194304 bytes"));
}
