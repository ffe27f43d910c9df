// Images to bundles: read a Docker 0.x graph directory, a `docker save` archive or an OCI image
// layout, resolve an image by id or NAME[:TAG] as Docker did, apply its layers into rootfs/ and
// write config.json from the image config (the OCI image-spec conversion rules).
//
//   rt::image::Source src{rt::image::StoreKind::Oci, "/srv/layout"};
//   rt::image::unpack(src, "busybox:latest", "/srv/bundles/bb", {});
//
// Everything is built in a temporary directory next to the bundle and renamed into place at the
// end, so an error (or an interruption through UnpackOptions::cancel) leaves no half bundle.
#pragma once

#include <signal.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::image {

enum class StoreKind { Graph, Archive, Oci };

struct Source {
    StoreKind kind = StoreKind::Oci;
    std::string path;  // graph: the docker root (/var/lib/docker); archive: the .tar; oci: the layout
};

// One row of `list`: one per repository tag (an untagged image: repository and tag "<none>").
struct ImageSummary {
    std::string repository, tag;
    std::string id;             // full id: 64 (or, for old graph images, 16) hex characters
    std::string created;        // RFC 3339 as the image says, "" when unknown
    uint64_t size = 0;          // bytes of the image's own layer (graph: layersize; else the blob)
    uint64_t virtual_size = 0;  // bytes of the whole layer chain
};

// One layer of an image's chain, base first.
struct LayerSummary {
    std::string id;          // graph/v1.0: the layer's image id; else the blob digest
    std::string location;    // directory or file (archive members: "archive.tar:member")
    std::string media_type;  // "directory", or the manifest's media type / "tar"
    std::string digest;      // expected digest of the stored blob ("" when none is known)
    std::string diff_id;     // expected sha256 of the uncompressed tar ("" when none is known)
    uint64_t size = 0;
};

// A resolved image: its identity, its config (Docker/OCI image config JSON, the part that has
// Cmd, Env, ...: `config` of an OCI config, `config` of a Docker 0.x json) and its layer chain.
struct ImageInfo {
    std::string id;
    std::vector<std::string> names;  // "name:tag" pointing at it
    std::string created;
    nlohmann::json image_json;  // the whole image config / graph json
    nlohmann::json config;      // its container config (may be null)
    std::vector<LayerSummary> layers;
};

// Shift of container ids to host ids: container_id..container_id+size-1 -> host_id...
struct IdMapping {
    uint32_t container_id = 0, host_id = 0, size = 0;
};
// "CONTAINER:HOST:SIZE"; throws rt::Error naming the option on bad input.
IdMapping parse_id_mapping(const std::string& text, const std::string& option);

struct LayerOptions {
    bool skip_devices = false;                      // rootless: device nodes are skipped, not an error
    std::vector<IdMapping> uid_map, gid_map;        // empty: ids as stored
    bool walk_resolution = false;                   // resolve names component by component (no openat2)
    const volatile sig_atomic_t* cancel = nullptr;  // non-zero: stop with "interrupted"
};

struct Progress {
    size_t layer = 0, layers = 0;  // 1-based index of the layer being applied, and the count
    uint64_t layer_bytes = 0;      // stored bytes of this layer read so far
    uint64_t layer_size = 0;       // its stored size (0 when unknown: directories)
    uint64_t total_bytes = 0;      // uncompressed bytes written so far over all layers
};

struct UnpackOptions {
    LayerOptions layer;
    bool force = false;               // replace an existing bundle
    uint64_t max_size = 64ULL << 30;  // uncompressed bytes per layer (0: no limit)
    bool rootless = false;            // config.json for a rootless container
    bool overlay = false;             // graph only: mount the layer directories with overlayfs, do not copy
    std::function<void(const Progress&)> progress;  // called now and then during the layers
};

struct UnpackResult {
    ImageInfo image;
    std::vector<std::string> warnings;  // e.g. labels not turned into annotations
};

// Every image of the store, one row per tag, then untagged images (graph: only heads).
std::vector<ImageSummary> list(const Source& src);
// Resolve an id, a unique id prefix, or NAME[:TAG] (tag default "latest"); ambiguity is an error
// that lists the candidates.
ImageInfo inspect(const Source& src, const std::string& name);
// Unpack into bundle (rootfs/ + config.json).
UnpackResult unpack(const Source& src, const std::string& name, const std::string& bundle,
                    const UnpackOptions& opts);

// Undo `unpack` with overlay: unmount BUNDLE/rootfs and remove BUNDLE/.rt-overlay (the generated
// whiteout layers, upper and work: the container's writes go with them). config.json and the empty
// rootfs/ stay. An error when the bundle was not made with overlay.
void umount_overlay(const std::string& bundle);

// config.json for an image config, with the image's rootfs open at rootfs_fd for user lookup.
// Warnings (dropped labels) are appended to *warnings when given.
nlohmann::json runtime_config(const nlohmann::json& image_json, const nlohmann::json& config, int rootfs_fd,
                              bool rootless, std::vector<std::string>* warnings);

}  // namespace rt::image
