// LXC config import: `rt spec --from-lxc FILE`.
//
// Reads an LXC config such as the one Docker 0.6 generated for every container (test/fixtures/
// docker-0.6.lxc) and returns the config.json that does the same with rt (design.md section 4):
//
//   lxc.utsname, lxc.uts.name           hostname
//   lxc.rootfs, lxc.rootfs.path         root.path ("dir:" prefix accepted)
//   lxc.network.type veth|empty|none    a network namespace (none: the host's), and with
//   lxc.network.link/name/mtu/ipv4/       link the annotations rt.network.bridge, .interface,
//     ipv4.gateway                        .mtu, .address, .gateway
//   lxc.mount.entry (fstab fields)      mounts; targets under lxc.rootfs become container paths
//   lxc.cgroup.devices.deny/allow       linux.resources.devices (and linux.devices for the
//                                       tun and fuse nodes an allow rule names)
//   lxc.cgroup.<ctl>.<key>              linux.resources (memory, cpu, cpuset, blkio, pids)
//   lxc.cap.drop, lxc.cap.keep          process.capabilities (bounding, effective, permitted)
//   lxc.pts, lxc.tty, lxc.console       devpts max=N, terminal (console none: no terminal)
//   lxc.aa_profile                      process.apparmorProfile
//   lxc.environment, lxc.init_cmd       process.env, process.args
//   lxc.include                         read in place (a directory: its *.conf files, sorted)
//
// Blank lines and '#' comments are skipped. A key rt does not know, or knows but cannot honour,
// is a warning "FILE:LINE: ..."; a malformed line (no '=', bad device rule, bad CIDR, bad fstab
// entry, unknown capability, include loop, ...) is an rt::Error "FILE:LINE: ...".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rt::lxc {

// Convert the LXC config at path. Warnings are appended to *warnings when it is not null.
nlohmann::json to_spec(const std::string& path, std::vector<std::string>* warnings = nullptr);

}  // namespace rt::lxc
