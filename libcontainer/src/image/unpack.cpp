// rt::image entry points: list, inspect, unpack (layers into a temporary directory next to the
// bundle, config.json, then one rename).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "image/layer.hpp"
#include "image/overlay.hpp"
#include "image/store.hpp"
#include "rootfs.hpp"
#include "rt/error.hpp"
#include "rt/image.hpp"
#include "util.hpp"

namespace rt::image {

using nlohmann::json;

namespace {

// A directory removed (rm -rf) unless released.
class TempTree {
public:
    explicit TempTree(std::string p) : path_(std::move(p)) {}
    ~TempTree() {
        if (path_.empty()) return;
        try {
            remove_all(path_);
        } catch (const Error&) {
        }
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;
    const std::string& path() const { return path_; }
    void release() { path_.clear(); }

private:
    std::string path_;
};

ImageInfo info_of(const StoredImage& img) {
    ImageInfo i;
    i.id = img.id;
    for (const auto& [r, t] : img.tags) i.names.push_back(r.empty() ? t : r + ":" + t);
    i.created = img.created;
    i.image_json = img.image_json;
    i.config = img.config;
    for (const auto& l : img.layers) i.layers.push_back(l.info);
    return i;
}

// config.json (users looked up in the rootfs at root_fd), then tmp renamed to bundle (an
// existing one, with --force, moved aside and removed).
void finish(const StoredImage& img, int root_fd, const std::string& tmp, const std::string& bundle,
            const std::string& parent, const std::string& base, bool exists, const UnpackOptions& opts,
            UnpackResult& result) {
    json config = runtime_config(img.image_json, img.config, root_fd, opts.rootless, &result.warnings);
    // As Docker: a WorkingDir the layers lack is made (inside the rootfs, symlinks confined to it).
    const std::string cwd = config["process"].value("cwd", std::string("/"));
    if (cwd != "/") rootfs::open_in_root(root_fd, cwd, O_PATH | O_DIRECTORY, true);
    write_file(tmp + "/config.json", config.dump(2) + "\n", 0644);

    if (exists) {
        // --force: the old bundle moves aside, the new one in, then the old one goes.
        std::string old = parent + "/." + base + ".rt-unpack-old-XXXXXX";
        if (!::mkdtemp(old.data())) throw_errno("create a temporary directory in " + parent);
        std::string aside = old + "/bundle";
        if (::rename(bundle.c_str(), aside.c_str()) < 0) {
            ::rmdir(old.c_str());
            throw_errno("move the old bundle " + bundle + " aside");
        }
        TempTree old_tree(old);
        if (::rename(tmp.c_str(), bundle.c_str()) < 0) {
            int err = errno;
            ::rename(aside.c_str(), bundle.c_str());
            throw_errno("rename " + tmp + " to " + bundle, err);
        }
    } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, bundle.c_str(), RENAME_NOREPLACE) < 0) {
        if (errno == EEXIST) throw Error("bundle " + bundle + " exists (--force replaces it)");
        throw_errno("rename " + tmp + " to " + bundle);
    }
}

}  // namespace

IdMapping parse_id_mapping(const std::string& text, const std::string& option) {
    auto parts = split(text, ':');
    IdMapping m;
    uint32_t* fields[] = {&m.container_id, &m.host_id, &m.size};
    bool ok = parts.size() == 3;
    for (size_t i = 0; ok && i < 3; ++i) {
        const std::string& p = parts[i];
        char* end = nullptr;
        errno = 0;
        unsigned long v = p.empty() ? 0 : std::strtoul(p.c_str(), &end, 10);
        ok = !p.empty() && *end == '\0' && errno == 0 && v <= 0xffffffffUL;
        *fields[i] = static_cast<uint32_t>(v);
    }
    if (!ok || m.size == 0)
        throw Error(option + ": invalid mapping " + "\"" + text + "\" (CONTAINER:HOST:SIZE, SIZE > 0)");
    return m;
}

std::vector<ImageSummary> list(const Source& src) {
    Store store = load_store(src);
    std::vector<ImageSummary> rows;
    for (const auto& img : store.images) {
        if (!img.listed) continue;
        ImageSummary s;
        s.id = img.id;
        s.created = img.created;
        s.size = img.size;
        s.virtual_size = img.virtual_size;
        if (img.tags.empty()) {
            s.repository = s.tag = "<none>";
            rows.push_back(s);
        }
        for (const auto& [r, t] : img.tags) {
            s.repository = r.empty() ? "<none>" : r;
            s.tag = t;
            rows.push_back(s);
        }
    }
    // As docker images: newest first, then by name.
    std::stable_sort(rows.begin(), rows.end(), [](const ImageSummary& a, const ImageSummary& b) {
        if (a.created != b.created) return a.created > b.created;
        if (a.repository != b.repository) return a.repository < b.repository;
        return a.tag < b.tag;
    });
    return rows;
}

ImageInfo inspect(const Source& src, const std::string& name) {
    Store store = load_store(src);
    return info_of(resolve(store, name));
}

UnpackResult unpack(const Source& src, const std::string& name, const std::string& bundle_in,
                    const UnpackOptions& opts) {
    Store store = load_store(src);
    const StoredImage& img = resolve(store, name);
    UnpackResult result;
    result.image = info_of(img);

    std::string bundle = bundle_in;
    while (bundle.size() > 1 && bundle.back() == '/') bundle.pop_back();
    if (bundle.empty()) throw Error("empty bundle path");
    struct stat st {};
    const bool exists = ::lstat(bundle.c_str(), &st) == 0;
    if (exists && !opts.force) throw Error("bundle " + bundle + " exists (--force replaces it)");
    if (exists && !S_ISDIR(st.st_mode)) throw Error("bundle " + bundle + " exists and is not a directory");
    if (exists && is_overlay_bundle(bundle))
        throw Error("bundle " + bundle + " is an --overlay bundle (rt-unpack umount it first)");
    if (opts.overlay) {
        if (src.kind != StoreKind::Graph)
            throw Error("--overlay needs a Docker 0.x graph directory (" + src.path + " is " +
                        (src.kind == StoreKind::Oci ? "an OCI layout" : "a docker save archive") +
                        ": its layers are archives)");
        if (!opts.layer.uid_map.empty() || !opts.layer.gid_map.empty())
            throw Error("--overlay cannot shift ids (--uid-map/--gid-map): the layers are mounted as stored");
        for (size_t i = 0; i < img.layers.size(); ++i)
            if (!img.layers[i].directory || img.layers[i].info.location.empty())
                throw Error("layer " + std::to_string(i + 1) + "/" + std::to_string(img.layers.size()) +
                            " (" + img.layers[i].info.id +
                            "): contents not found (neither graph/<id>/layer nor "
                            "aufs/diff/<id>)");
    }

    // Built beside the bundle (same filesystem: the final rename is atomic).
    auto slash = bundle.rfind('/');
    std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : bundle.substr(0, slash));
    std::string base = slash == std::string::npos ? bundle : bundle.substr(slash + 1);
    std::string tmpl = parent + "/." + base + ".rt-unpack-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw_errno("create a temporary directory in " + parent);
    TempTree tmp(tmpl);
    if (::chmod(tmp.path().c_str(), 0755) < 0) throw_errno("chmod " + tmp.path());
    const std::string rootfs = tmp.path() + "/rootfs";
    if (::mkdir(rootfs.c_str(), 0755) < 0) throw_errno("mkdir " + rootfs);
    if (opts.overlay) {
        std::vector<std::string> dirs;
        for (const auto& l : img.layers) dirs.push_back(l.info.location);
        // Declared after tmp: unmounted before the temporary tree is removed.
        OverlayMount mount = mount_overlay(dirs, tmp.path(), opts.layer.cancel);
        write_file(tmp.path() + "/.rt-overlay/state.json", mount.state().dump(2) + "\n", 0644);
        finish(img, mount.root(), tmp.path(), bundle, parent, base, exists, opts, result);
        tmp.release();
        mount.release();
        return result;
    }
    UniqueFd root(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open " + rootfs);

    Progress progress;
    progress.layers = img.layers.size();
    for (size_t i = 0; i < img.layers.size(); ++i) {
        const StoredLayer& l = img.layers[i];
        const std::string what = "layer " + std::to_string(i + 1) + "/" + std::to_string(img.layers.size()) +
                                 " (" + (l.info.id.size() > 19 ? l.info.id.substr(0, 19) : l.info.id) + ")";
        progress.layer = i + 1;
        progress.layer_bytes = 0;
        progress.layer_size = l.info.size;
        if (opts.progress) opts.progress(progress);
        with_context(what, [&] {
            if (l.directory) {
                if (l.info.location.empty())
                    throw Error("contents not found (neither graph/" + l.info.id + "/layer nor aufs/diff/" +
                                l.info.id + ")");
                LayerStats s = apply_directory(root.get(), l.info.location, opts.layer);
                progress.total_bytes += s.bytes;
                return;
            }
            LayerStream stream(l.blob, {l.info.digest, l.info.diff_id, opts.max_size, l.info.location});
            uint64_t last = 0;
            LayerStats s = apply_tar(
                root.get(),
                [&](const void** block) {
                    size_t n = stream.next(block);
                    progress.layer_bytes = stream.raw_bytes();
                    if (opts.progress && stream.tar_bytes() - last >= (8u << 20)) {
                        last = stream.tar_bytes();
                        Progress p = progress;
                        p.total_bytes += stream.tar_bytes();
                        opts.progress(p);
                    }
                    return n;
                },
                opts.layer);
            stream.finish();
            progress.total_bytes += stream.tar_bytes();
            (void)s;
        });
    }
    if (opts.progress) opts.progress(progress);

    finish(img, root.get(), tmp.path(), bundle, parent, base, exists, opts, result);
    tmp.release();
    return result;
}

}  // namespace rt::image
