#include "image/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "image/layer.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::image {

using nlohmann::json;

namespace {

std::string dq(const std::string& s) { return "\"" + s + "\""; }

bool is_hex(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

json parse_json(const std::string& text, const std::string& where) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(where + ": invalid JSON: " + e.what());
    }
}

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t blob_size(const BlobLocation& b) {
    if (b.length != UINT64_MAX) return b.length;
    struct stat st {};
    return ::stat(b.file.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void finish_sizes(StoredImage& img) {
    img.virtual_size = 0;
    for (const auto& l : img.layers) img.virtual_size += l.info.size;
    img.size = img.layers.empty() ? 0 : img.layers.back().info.size;
}

// "docker.io/library/busybox" and "busybox" name the same repository.
std::string normalize_repo(std::string r) {
    if (r.starts_with("docker.io/")) r.erase(0, 10);
    if (r.starts_with("index.docker.io/")) r.erase(0, 16);
    if (r.starts_with("library/")) r.erase(0, 8);
    return r;
}

// NAME[:TAG]: the tag is after a ':' that follows the last '/' (a registry port is not a tag).
std::pair<std::string, std::string> split_ref(const std::string& ref, const std::string& default_tag) {
    size_t slash = ref.rfind('/');
    size_t colon = ref.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
        return {ref.substr(0, colon), ref.substr(colon + 1)};
    return {ref, default_tag};
}

// ---- Docker 0.x graph ------------------------------------------------------------------------

Store load_graph(const std::string& root) {
    Store store{"graph " + root, {}};
    const std::string graph = root + "/graph";
    if (!is_dir(graph)) throw Error(root + ": not a Docker graph directory (no graph/)");

    std::map<std::string, StoredImage> by_id;
    std::map<std::string, std::string> parent_of;
    std::map<std::string, uint64_t> layersize;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(graph.c_str()), ::closedir);
    if (!d) throw_errno("open " + graph);
    while (struct dirent* de = ::readdir(d.get())) {
        std::string dir = de->d_name;
        if (dir == "." || dir == "..") continue;
        auto text = read_file_if_exists(graph + "/" + dir + "/json");
        if (!text) continue;  // _tmp and other leftovers
        json j = json::parse(*text, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("id")) continue;
        std::string id = str(j, "id");
        if (id != dir)
            throw Error(graph + "/" + dir + "/json: id " + dq(id) + " differs from its directory name");
        if (!is_hex(id) || (id.size() != 16 && id.size() != 64)) continue;
        StoredImage img;
        img.id = id;
        img.created = str(j, "created");
        img.config = j.contains("config") ? j["config"] : json();  // as Docker 0.6: not container_config
        img.image_json = j;
        parent_of[id] = str(j, "parent");
        uint64_t size = 0;
        if (auto ls = read_file_if_exists(graph + "/" + dir + "/layersize")) {
            try {
                size = std::stoull(*ls);
            } catch (const std::exception&) {
                size = 0;
            }
        } else if (j.contains("Size") && j["Size"].is_number()) {
            size = j["Size"].get<uint64_t>();
        }
        layersize[id] = size;
        by_id.emplace(id, std::move(img));
    }

    // Tags: repositories (0.6) and repositories-<driver> (0.7+).
    std::vector<std::string> repo_files;
    std::unique_ptr<DIR, int (*)(DIR*)> rd(::opendir(root.c_str()), ::closedir);
    if (!rd) throw_errno("open " + root);
    while (struct dirent* de = ::readdir(rd.get())) {
        std::string n = de->d_name;
        if (n == "repositories" || n.starts_with("repositories-")) repo_files.push_back(root + "/" + n);
    }
    std::sort(repo_files.begin(), repo_files.end());
    for (const auto& f : repo_files) {
        json r = parse_json(read_file(f), f);
        const json& repos = r.contains("Repositories") ? r["Repositories"] : r;
        if (!repos.is_object()) throw Error(f + ": \"Repositories\" is not an object");
        for (const auto& [name, tags] : repos.items()) {
            if (!tags.is_object()) throw Error(f + ": repository " + dq(name) + " is not an object");
            for (const auto& [tag, id] : tags.items()) {
                if (!id.is_string()) throw Error(f + ": " + name + ":" + tag + " is not an id string");
                auto it = by_id.find(id.get<std::string>());
                if (it == by_id.end())
                    throw Error(f + ": " + name + ":" + tag + " names image " + id.get<std::string>() +
                                ", which is not in " + graph);
                std::pair<std::string, std::string> t{name, tag};
                if (std::find(it->second.tags.begin(), it->second.tags.end(), t) == it->second.tags.end())
                    it->second.tags.push_back(t);
            }
        }
    }

    std::set<std::string> parents;
    for (const auto& [id, p] : parent_of)
        if (!p.empty()) parents.insert(p);
    for (auto& [id, img] : by_id) {
        // The chain, base first; a loop or a missing parent is an error.
        std::vector<std::string> chain;
        std::set<std::string> seen;
        for (std::string cur = id; !cur.empty(); cur = parent_of[cur]) {
            if (!seen.insert(cur).second) throw Error(graph + ": parent loop at image " + cur);
            if (!by_id.count(cur))
                throw Error(graph + ": image " + chain.back() + " has parent " + cur + ", which is missing");
            chain.push_back(cur);
        }
        std::reverse(chain.begin(), chain.end());
        for (const auto& lid : chain) {
            StoredLayer l;
            l.directory = true;
            l.info.id = lid;
            l.info.media_type = "directory";
            l.info.size = layersize[lid];
            if (is_dir(graph + "/" + lid + "/layer"))
                l.info.location = graph + "/" + lid + "/layer";
            else if (is_dir(root + "/aufs/diff/" + lid))
                l.info.location = root + "/aufs/diff/" + lid;
            else
                l.info.location = "";  // reported when unpacked: the listing still works
            img.layers.push_back(std::move(l));
        }
        finish_sizes(img);
        img.listed = !img.tags.empty() || !parents.count(id);
    }
    for (auto& [id, img] : by_id) store.images.push_back(std::move(img));
    return store;
}

// ---- blobs: an OCI layout on disk or inside an archive ------------------------------------------

struct Blobs {
    virtual ~Blobs() = default;
    virtual bool has(const std::string& path) const = 0;
    virtual std::string read(const std::string& path) const = 0;
    virtual BlobLocation locate(const std::string& path) const = 0;
    virtual std::string where(const std::string& path) const = 0;
};

struct DirBlobs : Blobs {
    std::string root;
    explicit DirBlobs(std::string r) : root(std::move(r)) {}
    bool has(const std::string& p) const override { return is_file(root + "/" + p); }
    std::string read(const std::string& p) const override { return read_file(root + "/" + p); }
    BlobLocation locate(const std::string& p) const override {
        if (!has(p)) throw Error(root + "/" + p + ": missing");
        return {root + "/" + p, 0, UINT64_MAX};
    }
    std::string where(const std::string& p) const override { return root + "/" + p; }
};

struct ArchiveBlobs : Blobs {
    const ArchiveIndex& index;
    explicit ArchiveBlobs(const ArchiveIndex& i) : index(i) {}
    bool has(const std::string& p) const override { return index.has(p); }
    std::string read(const std::string& p) const override { return index.read(p); }
    BlobLocation locate(const std::string& p) const override { return index.locate(p); }
    std::string where(const std::string& p) const override { return index.file() + ":" + p; }
};

std::string digest_path(const std::string& digest, const std::string& where) {
    auto colon = digest.find(':');
    std::string alg = colon == std::string::npos ? "" : digest.substr(0, colon);
    std::string hex = colon == std::string::npos ? "" : digest.substr(colon + 1);
    if (alg != "sha256" || hex.size() != 64 || !is_hex(hex))
        throw Error(where + ": unsupported or malformed digest " + dq(digest));
    return "blobs/sha256/" + hex;
}

// A small blob (index, manifest, config) read whole; size and digest checked.
std::string read_descriptor(const Blobs& blobs, const json& desc, const std::string& where) {
    std::string digest = str(desc, "digest");
    std::string path = digest_path(digest, where);
    if (!blobs.has(path)) throw Error(where + ": blob " + digest + " is missing (" + blobs.where(path) + ")");
    std::string data = blobs.read(path);
    if (desc.contains("size") && desc["size"].is_number_unsigned() &&
        desc["size"].get<uint64_t>() != data.size())
        throw Error(blobs.where(path) + ": size " + std::to_string(data.size()) +
                    " differs from the descriptor's " + std::to_string(desc["size"].get<uint64_t>()));
    if ("sha256:" + sha256_hex(data) != digest) throw Error(blobs.where(path) + ": digest mismatch");
    return data;
}

bool is_index_type(const std::string& mt) {
    return mt == "application/vnd.oci.image.index.v1+json" ||
           mt == "application/vnd.docker.distribution.manifest.list.v2+json";
}

bool layer_type_ok(const std::string& mt) {
    static const char* ok[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    return mt.empty() || std::find(std::begin(ok), std::end(ok), mt) != std::end(ok);
}

// The diff_ids of a config, checked against the layer count.
std::vector<std::string> diff_ids(const json& cfg, size_t layers, const std::string& where) {
    std::vector<std::string> ids;
    if (cfg.contains("rootfs") && cfg["rootfs"].contains("diff_ids") && cfg["rootfs"]["diff_ids"].is_array())
        for (const auto& d : cfg["rootfs"]["diff_ids"])
            ids.push_back(d.is_string() ? d.get<std::string>() : "");
    if (ids.size() != layers)
        throw Error(where + ": config lists " + std::to_string(ids.size()) + " diff_ids for " +
                    std::to_string(layers) + " layers");
    return ids;
}

void add_tag(StoredImage& img, const std::string& repo, const std::string& tag) {
    std::pair<std::string, std::string> t{repo, tag};
    if (std::find(img.tags.begin(), img.tags.end(), t) == img.tags.end()) img.tags.push_back(t);
}

void add_image(Store& store, StoredImage img) {
    for (auto& other : store.images) {
        if (other.id == img.id) {
            for (const auto& t : img.tags) add_tag(other, t.first, t.second);
            return;
        }
    }
    store.images.push_back(std::move(img));
}

void load_oci_manifest(Store& store, const Blobs& blobs, const json& desc, const json& refs,
                       const std::string& where);

// Tags from a descriptor's annotations: a full reference (containerd, newer docker save) or a
// bare tag (umoci, skopeo: org.opencontainers.image.ref.name).
json refs_of(const json& desc) {
    json refs = json::array();
    if (!desc.contains("annotations") || !desc["annotations"].is_object()) return refs;
    const json& a = desc["annotations"];
    std::string full = str(a, "io.containerd.image.name");
    std::string ref = str(a, "org.opencontainers.image.ref.name");
    if (!full.empty()) {
        auto [r, t] = split_ref(full, "latest");
        refs.push_back({r, t});
    } else if (!ref.empty()) {
        if (ref.find('/') != std::string::npos || ref.find(':') != std::string::npos) {
            auto [r, t] = split_ref(ref, "latest");
            refs.push_back({r, t});
        } else {
            refs.push_back({"", ref});
        }
    }
    return refs;
}

void load_oci_index(Store& store, const Blobs& blobs, const json& index, const json& refs,
                    const std::string& where, int depth) {
    if (depth > 4) throw Error(where + ": image indexes nested too deeply");
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
        throw Error(where + ": no \"manifests\" array");
    size_t i = 0;
    for (const json& desc : index["manifests"]) {
        std::string w = where + ": manifests[" + std::to_string(i++) + "]";
        json r = depth == 0 ? refs_of(desc) : refs;
        std::string mt = str(desc, "mediaType");
        if (desc.contains("platform") && desc["platform"].is_object()) {
            // A multi-platform index: this machine's platform only.
            std::string os = str(desc["platform"], "os"), arch = str(desc["platform"], "architecture");
#if defined(__x86_64__)
            const char* host_arch = "amd64";
#elif defined(__aarch64__)
            const char* host_arch = "arm64";
#else
            const char* host_arch = "";
#endif
            if ((!os.empty() && os != "linux") || (!arch.empty() && arch != host_arch)) continue;
        }
        if (is_index_type(mt)) {
            json nested = parse_json(read_descriptor(blobs, desc, w), w);
            load_oci_index(store, blobs, nested, r, w, depth + 1);
        } else {
            load_oci_manifest(store, blobs, desc, r, w);
        }
    }
}

void load_oci_manifest(Store& store, const Blobs& blobs, const json& desc, const json& refs,
                       const std::string& where) {
    json m = parse_json(read_descriptor(blobs, desc, where), where);
    if (!m.contains("config") || !m["config"].is_object()) throw Error(where + ": manifest without a config");
    std::string cw = where + ": config";
    json cfg = parse_json(read_descriptor(blobs, m["config"], cw), cw);
    StoredImage img;
    img.id = str(m["config"], "digest").substr(7);
    img.created = str(cfg, "created");
    img.image_json = cfg;
    img.config = cfg.contains("config") ? cfg["config"] : json();
    const json& layers = m.contains("layers") && m["layers"].is_array() ? m["layers"] : json::array();
    std::vector<std::string> ids = diff_ids(cfg, layers.size(), cw);
    for (size_t i = 0; i < layers.size(); ++i) {
        const json& ld = layers[i];
        std::string lw = where + ": layers[" + std::to_string(i) + "]";
        std::string mt = str(ld, "mediaType");
        if (!layer_type_ok(mt)) throw Error(lw + ": unsupported layer media type " + dq(mt));
        StoredLayer l;
        l.info.digest = str(ld, "digest");
        std::string path = digest_path(l.info.digest, lw);
        if (!blobs.has(path))
            throw Error(lw + ": blob " + l.info.digest + " is missing (" + blobs.where(path) + ")");
        l.info.id = l.info.digest;
        l.info.media_type = mt;
        l.info.diff_id = ids[i];
        l.info.location = blobs.where(path);
        l.blob = blobs.locate(path);
        l.info.size = blob_size(l.blob);
        if (ld.contains("size") && ld["size"].is_number_unsigned() &&
            ld["size"].get<uint64_t>() != l.info.size)
            throw Error(l.info.location + ": size " + std::to_string(l.info.size) +
                        " differs from the descriptor's " + std::to_string(ld["size"].get<uint64_t>()));
        img.layers.push_back(std::move(l));
    }
    for (const auto& r : refs) add_tag(img, r[0].get<std::string>(), r[1].get<std::string>());
    finish_sizes(img);
    add_image(store, std::move(img));
}

void load_oci(Store& store, const Blobs& blobs) {
    if (!blobs.has("oci-layout"))
        throw Error(blobs.where("oci-layout") + ": missing: not an OCI image layout");
    json layout = parse_json(blobs.read("oci-layout"), blobs.where("oci-layout"));
    if (str(layout, "imageLayoutVersion").empty())
        throw Error(blobs.where("oci-layout") + ": no imageLayoutVersion");
    if (!blobs.has("index.json")) throw Error(blobs.where("index.json") + ": missing");
    json index = parse_json(blobs.read("index.json"), blobs.where("index.json"));
    load_oci_index(store, blobs, index, json::array(), blobs.where("index.json"), 0);
}

// ---- docker save ----------------------------------------------------------------------------

void load_manifest_json(Store& store, const ArchiveIndex& ar) {
    const std::string where = ar.file() + ":manifest.json";
    json manifest = parse_json(ar.read("manifest.json"), where);
    if (!manifest.is_array()) throw Error(where + ": not an array");
    size_t i = 0;
    for (const json& e : manifest) {
        std::string w = where + "[" + std::to_string(i++) + "]";
        std::string config = str(e, "Config");
        if (config.empty()) throw Error(w + ": no Config");
        std::string text = ar.read(config);
        std::string id = sha256_hex(text);
        // The config's name is its digest ("<hex>.json" or "blobs/sha256/<hex>").
        std::string base = config.substr(config.rfind('/') == std::string::npos ? 0 : config.rfind('/') + 1);
        if (base.ends_with(".json")) base.resize(base.size() - 5);
        if (base.size() == 64 && is_hex(base) && base != id)
            throw Error(ar.file() + ":" + config + ": digest mismatch (sha256:" + id + ")");
        json cfg = parse_json(text, ar.file() + ":" + config);
        StoredImage img;
        img.id = id;
        img.created = str(cfg, "created");
        img.image_json = cfg;
        img.config = cfg.contains("config") ? cfg["config"] : json();
        const json& layers = e.contains("Layers") && e["Layers"].is_array() ? e["Layers"] : json::array();
        std::vector<std::string> ids = diff_ids(cfg, layers.size(), ar.file() + ":" + config);
        for (size_t k = 0; k < layers.size(); ++k) {
            if (!layers[k].is_string())
                throw Error(w + ": Layers[" + std::to_string(k) + "] is not a string");
            std::string member = layers[k].get<std::string>();
            StoredLayer l;
            l.blob = ar.locate(member);
            l.info.location = ar.file() + ":" + member;
            l.info.media_type = "tar";
            l.info.diff_id = ids[k];
            l.info.id = ids[k];
            if (member.starts_with("blobs/sha256/")) l.info.digest = "sha256:" + member.substr(13);
            l.info.size = l.blob.length;
            img.layers.push_back(std::move(l));
        }
        if (e.contains("RepoTags") && e["RepoTags"].is_array())
            for (const auto& t : e["RepoTags"]) {
                if (!t.is_string()) continue;
                auto [r, tag] = split_ref(t.get<std::string>(), "latest");
                add_tag(img, r, tag);
            }
        finish_sizes(img);
        add_image(store, std::move(img));
    }
}

void load_v10(Store& store, const ArchiveIndex& ar) {
    // Every <id>/json in the archive, chained by parent.
    std::map<std::string, json> jsons;
    for (const auto& name : ar.names()) {
        auto slash = name.find('/');
        if (slash == std::string::npos || name.substr(slash) != "/json") continue;
        std::string dir = name.substr(0, slash);
        json j = parse_json(ar.read(name), ar.file() + ":" + name);
        std::string id = str(j, "id");
        if (id != dir)
            throw Error(ar.file() + ":" + name + ": id " + dq(id) + " differs from its directory name");
        jsons[id] = j;
    }
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> tags;
    if (ar.has("repositories")) {
        json r = parse_json(ar.read("repositories"), ar.file() + ":repositories");
        const json& repos = r.contains("Repositories") ? r["Repositories"] : r;
        for (const auto& [name, t] : repos.items())
            for (const auto& [tag, id] : t.items())
                if (id.is_string()) tags[id.get<std::string>()].emplace_back(name, tag);
    }
    std::set<std::string> parents;
    for (const auto& [id, j] : jsons)
        if (!str(j, "parent").empty()) parents.insert(str(j, "parent"));
    for (const auto& [id, j] : jsons) {
        StoredImage img;
        img.id = id;
        img.created = str(j, "created");
        img.image_json = j;
        img.config = j.contains("config") ? j["config"] : json();
        std::vector<std::string> chain;
        std::set<std::string> seen;
        for (std::string cur = id; !cur.empty(); cur = str(jsons[cur], "parent")) {
            if (!seen.insert(cur).second) throw Error(ar.file() + ": parent loop at image " + cur);
            if (!jsons.count(cur))
                throw Error(ar.file() + ": image " + chain.back() + " has parent " + cur +
                            ", which is missing");
            chain.push_back(cur);
        }
        std::reverse(chain.begin(), chain.end());
        for (const auto& lid : chain) {
            StoredLayer l;
            l.blob = ar.locate(lid + "/layer.tar");
            l.info.id = lid;
            l.info.location = ar.file() + ":" + lid + "/layer.tar";
            l.info.media_type = "tar";
            l.info.size = l.blob.length;
            img.layers.push_back(std::move(l));
        }
        for (const auto& t : tags[id]) add_tag(img, t.first, t.second);
        img.listed = !img.tags.empty() || !parents.count(id);
        finish_sizes(img);
        store.images.push_back(std::move(img));
    }
    for (const auto& [id, t] : tags)
        if (!jsons.count(id))
            throw Error(ar.file() + ":repositories: " + t[0].first + ":" + t[0].second + " names image " +
                        id + ", which is not in the archive");
}

}  // namespace

// ---- outer tar index ------------------------------------------------------------------------------

namespace {

uint64_t tar_number(const char* p, size_t n) {
    if (static_cast<unsigned char>(p[0]) & 0x80) {  // base-256 (GNU, large sizes)
        uint64_t v = static_cast<unsigned char>(p[0]) & 0x7f;
        for (size_t i = 1; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
        return v;
    }
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + static_cast<uint64_t>(p[i] - '0');
    return v;
}

std::string tar_string(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

std::string clean_member(const std::string& name) { return join(clean_components(name), SIZE_MAX); }

}  // namespace

ArchiveIndex::ArchiveIndex(const std::string& file) : file_(file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + file);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) throw_errno("stat " + file);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t off = 0;
    std::string long_name, long_link;
    uint64_t pax_size = UINT64_MAX;
    auto read_at = [&](uint64_t at, size_t n) {
        std::string s(n, '\0');
        ssize_t r = ::pread(fd.get(), s.data(), n, static_cast<off_t>(at));
        if (r != static_cast<ssize_t>(n))
            throw Error(file + ": truncated tar archive at offset " + std::to_string(at));
        return s;
    };
    while (off + 512 <= size) {
        std::string h = read_at(off, 512);
        if (h.find_first_not_of('\0') == std::string::npos) break;
        unsigned sum = 0;
        for (size_t i = 0; i < 512; ++i)
            sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
        if (sum != tar_number(h.data() + 148, 8)) {
            if (off == 0)
                throw Error(file + ": not a tar archive (compressed? docker save writes plain tar)");
            throw Error(file + ": bad tar header checksum at offset " + std::to_string(off));
        }
        char type = h[156];
        uint64_t len = pax_size != UINT64_MAX ? pax_size : tar_number(h.data() + 124, 12);
        uint64_t data = off + 512;
        if (data + len > size)
            throw Error(file + ": truncated tar archive (member at offset " + std::to_string(off) + ")");
        if (type == 'L' || type == 'K') {
            std::string v = read_at(data, static_cast<size_t>(std::min<uint64_t>(len, 65536)));
            (type == 'L' ? long_name : long_link) = v.substr(0, strnlen(v.data(), v.size()));
        } else if (type == 'x') {
            std::string v = read_at(data, static_cast<size_t>(std::min<uint64_t>(len, 1 << 20)));
            for (size_t p = 0; p < v.size();) {  // "<len> key=value\n" records
                size_t sp = v.find(' ', p);
                if (sp == std::string::npos) break;
                size_t rl = std::strtoull(v.c_str() + p, nullptr, 10);
                if (rl == 0 || p + rl > v.size()) break;
                std::string rec = v.substr(sp + 1, p + rl - sp - 2);
                auto eq = rec.find('=');
                if (eq != std::string::npos) {
                    std::string k = rec.substr(0, eq), val = rec.substr(eq + 1);
                    if (k == "path") long_name = val;
                    if (k == "linkpath") long_link = val;
                    if (k == "size") pax_size = std::strtoull(val.c_str(), nullptr, 10);
                }
                p += rl;
            }
        } else if (type != 'g') {
            std::string name = long_name;
            if (name.empty()) {
                name = tar_string(h.data(), 100);
                std::string prefix =
                    h.compare(257, 6, std::string("ustar\0", 6)) == 0 ? tar_string(h.data() + 345, 155) : "";
                if (!prefix.empty()) name = prefix + "/" + name;
            }
            Member m;
            m.offset = data;
            m.size = len;
            m.type = type;
            m.link = long_link.empty() ? tar_string(h.data() + 157, 100) : long_link;
            members_[clean_member(name)] = m;
            long_name.clear();
            long_link.clear();
            pax_size = UINT64_MAX;
        }
        if (type == 'x' || type == 'L' || type == 'K' || type == 'g') {
            if (type != 'x') pax_size = UINT64_MAX;
        }
        off = data + ((len + 511) / 512) * 512;
    }
}

std::vector<std::string> ArchiveIndex::names() const {
    std::vector<std::string> n;
    for (const auto& [k, v] : members_) n.push_back(k);
    return n;
}

const ArchiveIndex::Member& ArchiveIndex::find(const std::string& name) const {
    std::string cur = clean_member(name);
    for (int hops = 0; hops < 16; ++hops) {
        auto it = members_.find(cur);
        if (it == members_.end()) throw Error(file_ + ": member " + dq(name) + " is missing");
        const Member& m = it->second;
        if (m.type == '2') {  // symlink: relative to its directory (docker save links shared layers)
            auto slash = cur.rfind('/');
            std::string dir = slash == std::string::npos ? "" : cur.substr(0, slash + 1);
            cur = clean_member(m.link.starts_with("/") ? m.link : dir + m.link);
            continue;
        }
        if (m.type == '1') {
            cur = clean_member(m.link);
            continue;
        }
        if (m.type != '0' && m.type != '\0' && m.type != '7')
            throw Error(file_ + ": member " + dq(name) + " is not a regular file");
        return m;
    }
    throw Error(file_ + ": member " + dq(name) + ": too many links");
}

bool ArchiveIndex::has(const std::string& name) const {
    try {
        find(name);
        return true;
    } catch (const Error&) {
        return false;
    }
}

BlobLocation ArchiveIndex::locate(const std::string& name) const {
    const Member& m = find(name);
    return {file_, m.offset, m.size};
}

std::string ArchiveIndex::read(const std::string& name, size_t max) const {
    const Member& m = find(name);
    if (m.size > max) throw Error(file_ + ": member " + dq(name) + " is too large to be metadata");
    UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + file_);
    std::string s(static_cast<size_t>(m.size), '\0');
    if (::pread(fd.get(), s.data(), s.size(), static_cast<off_t>(m.offset)) != static_cast<ssize_t>(s.size()))
        throw Error(file_ + ": member " + dq(name) + " is truncated");
    return s;
}

// ---- entry points -----------------------------------------------------------------------------

Store load_store(const Source& src) {
    switch (src.kind) {
        case StoreKind::Graph:
            return load_graph(src.path);
        case StoreKind::Oci: {
            Store s{"OCI layout " + src.path, {}};
            if (!is_dir(src.path)) throw Error(src.path + ": not a directory");
            load_oci(s, DirBlobs(src.path));
            return s;
        }
        case StoreKind::Archive: {
            Store s{"archive " + src.path, {}};
            auto index = std::make_shared<ArchiveIndex>(src.path);
            if (index->has("manifest.json"))
                load_manifest_json(s, *index);
            else if (index->has("index.json") && index->has("oci-layout"))
                load_oci(s, ArchiveBlobs(*index));
            else if (index->has("repositories") || !index->names().empty())
                load_v10(s, *index);
            return s;
        }
    }
    return {};
}

const StoredImage& resolve(const Store& store, const std::string& name) {
    if (name.empty()) throw Error("empty image name");
    std::string id = name.starts_with("sha256:") ? name.substr(7) : name;
    if (is_hex(id)) {
        std::vector<const StoredImage*> hits;
        for (const auto& img : store.images)
            if (img.id.starts_with(id)) hits.push_back(&img);
        if (hits.size() == 1) return *hits[0];
        if (hits.size() > 1) {
            std::string list;
            for (const auto* h : hits) list += (list.empty() ? "" : ", ") + h->id.substr(0, 12);
            throw Error("image id prefix " + dq(name) + " is ambiguous in " + store.description + ": " +
                        list);
        }
    }
    auto [repo, tag] = split_ref(name, "latest");
    std::vector<const StoredImage*> hits;
    for (const auto& img : store.images) {
        for (const auto& [r, t] : img.tags) {
            bool match = r.empty() ? (t == name) : (normalize_repo(r) == normalize_repo(repo) && t == tag);
            if (match) {
                hits.push_back(&img);
                break;
            }
        }
    }
    if (hits.size() == 1) return *hits[0];
    if (hits.size() > 1) {
        std::string list;
        for (const auto* h : hits) list += (list.empty() ? "" : ", ") + h->id.substr(0, 12);
        throw Error("image " + dq(name) + " is ambiguous in " + store.description + ": " + list);
    }
    throw Error("image " + dq(name) + " not found in " + store.description +
                " (rt-unpack list shows what is there)");
}

}  // namespace rt::image
