// The three image stores, loaded into one model: every image with its names, config and layer
// chain (base first), and where each layer's bytes are.
//
//   graph    Docker 0.x /var/lib/docker: repositories[-<driver>] + graph/<id>/{json,layersize,layer/}
//            or aufs/diff/<id> (0.7+); layers are directories, chains follow "parent".
//   archive  `docker save`: v1.0 (repositories + <id>/{VERSION,json,layer.tar}), v1.1/v1.2
//            (manifest.json), and archives that are also OCI layouts (index.json inside).
//   oci      OCI image layout: oci-layout, index.json, blobs/<alg>/<hex>; digests checked.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "image/stream.hpp"
#include "rt/image.hpp"

namespace rt::image {

struct StoredLayer {
    LayerSummary info;
    bool directory = false;  // graph: info.location is an unpacked directory
    BlobLocation blob;       // otherwise: where its bytes are
};

struct StoredImage {
    std::string id;
    std::vector<std::pair<std::string, std::string>> tags;  // (repository, tag); repository "" = tag only
    std::string created;
    nlohmann::json image_json;
    nlohmann::json config;
    std::vector<StoredLayer> layers;  // base first
    uint64_t size = 0, virtual_size = 0;
    bool listed = true;  // graph: an untagged image that is some image's parent is not listed
};

struct Store {
    std::string description;  // "graph /var/lib/docker", for messages
    std::vector<StoredImage> images;
};

Store load_store(const Source& src);
// Docker's lookup: id or unique id prefix, else NAME[:TAG] (default tag latest).
const StoredImage& resolve(const Store& store, const std::string& name);

// A small reader of the outer tar of a docker-save archive: member name -> byte range.
class ArchiveIndex {
public:
    explicit ArchiveIndex(const std::string& file);
    bool has(const std::string& name) const;
    BlobLocation locate(const std::string& name) const;  // throws when missing
    std::string read(const std::string& name, size_t max = 64 << 20) const;
    const std::string& file() const { return file_; }
    std::vector<std::string> names() const;

private:
    struct Member {
        uint64_t offset = 0, size = 0;
        char type = '0';
        std::string link;
    };
    const Member& find(const std::string& name) const;
    std::string file_;
    std::map<std::string, Member> members_;
};

}  // namespace rt::image
