// --overlay for Docker 0.x graph images: the layer directories are mounted with overlayfs at
// BUNDLE/rootfs instead of copied (as Docker 0.6 mounted them with aufs). The graph store is
// never written: aufs whiteouts are translated by two small generated lower directories per layer
// L that has any, kept in BUNDLE/.rt-overlay/:
//
//   wh-<n>-above   just above L: an overlay whiteout (char 0/0) for each aufs marker name of L
//                  (.wh.NAME, .wh..wh..opq, .wh..wh.plnk...), so no marker shows in the rootfs;
//                  its directories carry L's owner, mode and times (they are the topmost copy)
//   wh-<n>-below   just below L: an overlay whiteout NAME for each .wh.NAME of L, and a directory
//                  with trusted.overlay.opaque=y for each .wh..wh..opq (it hides only the layers
//                  under it, so L's own entries stay); an opaque root drops the layers below L
//
// upper/ and work/ sit there too (the container's writes land in upper/), and state.json records
// the mount for `rt-unpack umount`.
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::image {

// A mounted overlay, unmounted (detached) on destruction unless released.
class OverlayMount {
public:
    OverlayMount() = default;
    ~OverlayMount();
    OverlayMount(OverlayMount&& o) noexcept;
    OverlayMount& operator=(OverlayMount&&) = delete;
    OverlayMount(const OverlayMount&) = delete;
    OverlayMount& operator=(const OverlayMount&) = delete;

    int root() const { return root_; }                      // the merged root, open
    const nlohmann::json& state() const { return state_; }  // what state.json records
    void release();

private:
    friend OverlayMount mount_overlay(const std::vector<std::string>&, const std::string&,
                                      const volatile sig_atomic_t*);
    std::string target_;
    int root_ = -1;
    nlohmann::json state_;
};

// Mount layers (directories, base first) at bundle/rootfs, generating bundle/.rt-overlay/; a
// non-zero *cancel stops it with "interrupted".
OverlayMount mount_overlay(const std::vector<std::string>& layers, const std::string& bundle,
                           const volatile sig_atomic_t* cancel = nullptr);

// Does the bundle hold an --overlay unpack (BUNDLE/.rt-overlay/state.json)?
bool is_overlay_bundle(const std::string& bundle);

}  // namespace rt::image
