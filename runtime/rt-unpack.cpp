// rt-unpack: images to OCI bundles. Parses the command line and calls rt::image (libcontainer);
// errors are reported here, once, as one line.
//
//   rt-unpack list   [--graph DIR | --archive FILE | --oci DIR | SOURCE] [--format table|json]
//   rt-unpack inspect SOURCE NAME
//   rt-unpack unpack  SOURCE NAME[:TAG] BUNDLE [--force] [--skip-devices] [--uid-map C:H:N]...
//   rt-unpack unpack --overlay GRAPH NAME[:TAG] BUNDLE; rt-unpack umount BUNDLE
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "rt/error.hpp"
#include "rt/image.hpp"
#include "rt_config.h"

namespace {

using nlohmann::json;
using rt::Error;
namespace img = rt::image;

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

const char* kUsage =
    "Usage: rt-unpack COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  list [SOURCE]                 list the images of a store (like docker images)\n"
    "  inspect SOURCE NAME           print an image's config and layer chain as JSON\n"
    "  unpack SOURCE NAME BUNDLE     write an OCI bundle (rootfs/ + config.json)\n"
    "  umount BUNDLE                 unmount a bundle made with unpack --overlay\n"
    "\n"
    "SOURCE is a Docker 0.x graph directory (/var/lib/docker), a `docker save` archive or an OCI\n"
    "image layout; --graph DIR, --archive FILE or --oci DIR name the kind explicitly.\n"
    "NAME is an id, a unique id prefix, or NAME[:TAG] (default tag latest).\n"
    "Run 'rt-unpack COMMAND --help' for a command's options.\n";

// The store kind of a path: a regular file is an archive; a directory with oci-layout a layout;
// a directory with graph/ a Docker graph.
img::Source detect(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) throw Error("source " + path + ": " + std::strerror(errno));
    if (S_ISREG(st.st_mode)) return {img::StoreKind::Archive, path};
    if (S_ISDIR(st.st_mode)) {
        if (::access((path + "/oci-layout").c_str(), F_OK) == 0) return {img::StoreKind::Oci, path};
        if (::access((path + "/graph").c_str(), F_OK) == 0) return {img::StoreKind::Graph, path};
    }
    throw Error("source " + path + ": not a Docker graph directory, docker save archive or OCI layout");
}

struct Parsed {
    cxxopts::ParseResult r;
    std::vector<std::string> positional;
};

void add_source_options(cxxopts::Options& o) {
    o.add_options()("graph", "Docker 0.x graph directory (e.g. /var/lib/docker)",
                    cxxopts::value<std::string>())(
        "archive", "docker save archive", cxxopts::value<std::string>())("oci", "OCI image layout directory",
                                                                         cxxopts::value<std::string>());
}

bool parse(cxxopts::Options& o, const std::vector<std::string>& args, Parsed& p) {
    o.add_options()("h,help", "Show help for this command")("positional", "",
                                                            cxxopts::value<std::vector<std::string>>());
    o.parse_positional({"positional"});
    o.positional_help("");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    p.r = o.parse(static_cast<int>(argv.size()), argv.data());
    if (p.r.count("help")) {
        std::cout << o.help({""}) << std::flush;
        return false;
    }
    if (p.r.count("positional")) p.positional = p.r["positional"].as<std::vector<std::string>>();
    return true;
}

// The source from --graph/--archive/--oci, else the first positional (consumed).
img::Source source(Parsed& p, const char* command) {
    int given = 0;
    img::Source s;
    for (auto [opt, kind] :
         {std::pair{"graph", img::StoreKind::Graph}, std::pair{"archive", img::StoreKind::Archive},
          std::pair{"oci", img::StoreKind::Oci}}) {
        if (p.r.count(opt)) {
            s = {kind, p.r[opt].as<std::string>()};
            ++given;
        }
    }
    if (given > 1) throw Error(std::string(command) + ": give one of --graph, --archive and --oci");
    if (given == 1) return s;
    if (p.positional.empty()) throw Error(std::string(command) + ": no SOURCE given");
    s = detect(p.positional.front());
    p.positional.erase(p.positional.begin());
    return s;
}

void expect_args(const Parsed& p, size_t n, const char* command, const char* what) {
    if (p.positional.size() < n) throw Error(std::string(command) + ": missing " + what);
    if (p.positional.size() > n)
        throw Error(std::string(command) + ": unexpected argument \"" + p.positional[n] + "\"");
}

// Docker's units: 1000-based, 4 significant digits ("131.5 MB", "24.65 kB").
std::string human_size(uint64_t bytes) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = static_cast<double>(bytes);
    size_t u = 0;
    while (v >= 1000 && u + 1 < std::size(units)) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g %s", v, units[u]);
    return buf;
}

// RFC 3339 -> seconds since the epoch (UTC offset applied); -1 when it does not parse.
long long parse_time(const std::string& s) {
    struct tm tm {};
    const char* rest = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return -1;
    long long t = ::timegm(&tm);
    while (*rest == '.' || (*rest >= '0' && *rest <= '9')) ++rest;
    if ((*rest == '+' || *rest == '-') && std::strlen(rest) >= 6) {
        int h = std::atoi(rest + 1), m = std::atoi(rest + 4);
        t -= (*rest == '+' ? 1 : -1) * (h * 3600LL + m * 60LL);
    }
    return t;
}

// Docker's HumanDuration + " ago".
std::string human_age(const std::string& created) {
    long long t = parse_time(created);
    if (t < 0) return "N/A";
    long long s = static_cast<long long>(::time(nullptr)) - t;
    auto n = [](long long v, const char* unit) { return std::to_string(v) + " " + unit; };
    std::string d;
    if (s < 1)
        d = "Less than a second";
    else if (s < 60)
        d = n(s, "seconds");
    else if (s / 60 == 1)
        d = "About a minute";
    else if (s / 60 < 60)
        d = n(s / 60, "minutes");
    else if (s / 3600 == 1)
        d = "About an hour";
    else if (s / 3600 < 48)
        d = n(s / 3600, "hours");
    else if (s / 3600 < 24 * 7 * 2)
        d = n(s / 86400, "days");
    else if (s / 3600 < 24 * 30 * 3)
        d = n(s / (86400 * 7), "weeks");
    else if (s / 3600 < 24 * 365 * 2)
        d = n(s / (86400 * 30), "months");
    else
        d = n(s / (86400 * 365), "years");
    return d + " ago";
}

int cmd_list(const std::vector<std::string>& args) {
    cxxopts::Options o("rt-unpack list", "List the images of a store, like docker images");
    o.custom_help("[--graph DIR | --archive FILE | --oci DIR | SOURCE] [options]");
    add_source_options(o);
    o.add_options()("format", "table or json", cxxopts::value<std::string>()->default_value("table"))(
        "q,quiet", "only ids");
    Parsed p;
    if (!parse(o, args, p)) return 0;
    img::Source src = source(p, "list");
    expect_args(p, 0, "list", "");
    std::string format = p.r["format"].as<std::string>();
    if (format != "table" && format != "json")
        throw Error("list: --format: invalid value \"" + format + "\" (table or json)");
    auto rows = img::list(src);
    if (format == "json") {
        json out = json::array();
        for (const auto& r : rows)
            out.push_back({{"repository", r.repository},
                           {"tag", r.tag},
                           {"id", r.id},
                           {"created", r.created},
                           {"size", r.size},
                           {"virtual_size", r.virtual_size}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (p.r.count("quiet")) {
        for (const auto& r : rows) std::cout << r.id.substr(0, 12) << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> table = {{"REPOSITORY", "TAG", "ID", "CREATED", "SIZE"}};
    for (const auto& r : rows)
        table.push_back({r.repository, r.tag, r.id.substr(0, 12), human_age(r.created),
                         human_size(r.size) + " (virtual " + human_size(r.virtual_size) + ")"});
    std::vector<size_t> width(5, 0);
    for (const auto& row : table)
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : table) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size())
                line += std::string(std::max<size_t>(20, width[i] + 3) - row[i].size(), ' ');
        }
        std::cout << line << "\n";
    }
    return 0;
}

int cmd_inspect(const std::vector<std::string>& args) {
    cxxopts::Options o("rt-unpack inspect", "Print an image's config and layer chain as JSON");
    o.custom_help("SOURCE NAME");
    add_source_options(o);
    Parsed p;
    if (!parse(o, args, p)) return 0;
    img::Source src = source(p, "inspect");
    expect_args(p, 1, "inspect", "NAME");
    img::ImageInfo info = img::inspect(src, p.positional[0]);
    json layers = json::array();
    for (const auto& l : info.layers) {
        json j = {{"id", l.id}, {"location", l.location}, {"mediaType", l.media_type}, {"size", l.size}};
        if (!l.digest.empty()) j["digest"] = l.digest;
        if (!l.diff_id.empty()) j["diffID"] = l.diff_id;
        layers.push_back(j);
    }
    json out = {{"id", info.id},         {"names", info.names},      {"created", info.created},
                {"config", info.config}, {"image", info.image_json}, {"layers", layers}};
    std::cout << out.dump(2) << "\n";
    return 0;
}

uint64_t parse_size(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (end == s.c_str() || errno) throw Error("--max-size: invalid size \"" + s + "\"");
    std::string unit = end;
    uint64_t mult = unit.empty()  ? 1
                    : unit == "K" ? 1ULL << 10
                    : unit == "M" ? 1ULL << 20
                    : unit == "G" ? 1ULL << 30
                    : unit == "T" ? 1ULL << 40
                                  : 0;
    if (!mult) throw Error("--max-size: invalid unit in \"" + s + "\" (K, M, G or T)");
    return v * mult;
}

int cmd_unpack(const std::vector<std::string>& args) {
    cxxopts::Options o("rt-unpack unpack", "Unpack an image into an OCI bundle (rootfs/ + config.json)");
    o.custom_help("SOURCE NAME[:TAG] BUNDLE [options]");
    add_source_options(o);
    o.add_options()("force", "replace an existing bundle")(
        "skip-devices", "skip device nodes (rootless use) instead of failing")(
        "uid-map", "shift uids: CONTAINER:HOST:SIZE (repeatable)",
        cxxopts::value<std::vector<std::string>>())("gid-map", "shift gids: CONTAINER:HOST:SIZE (repeatable)",
                                                    cxxopts::value<std::vector<std::string>>())(
        "max-size", "uncompressed bytes allowed per layer (K/M/G/T suffixes; 0: no limit)",
        cxxopts::value<std::string>()->default_value("64G"))(
        "rootless", "config.json for a rootless container")("no-progress", "no progress line on a terminal")(
        "overlay", "graph only: mount the layer directories with overlayfs at BUNDLE/rootfs, no copy");
    Parsed p;
    if (!parse(o, args, p)) return 0;
    img::Source src = source(p, "unpack");
    expect_args(p, 2, "unpack", "NAME and BUNDLE");
    img::UnpackOptions opts;
    opts.force = p.r.count("force") > 0;
    opts.layer.skip_devices = p.r.count("skip-devices") > 0;
    opts.rootless = p.r.count("rootless") > 0;
    opts.overlay = p.r.count("overlay") > 0;
    opts.max_size = parse_size(p.r["max-size"].as<std::string>());
    if (p.r.count("uid-map"))
        for (const auto& m : p.r["uid-map"].as<std::vector<std::string>>())
            opts.layer.uid_map.push_back(img::parse_id_mapping(m, "--uid-map"));
    if (p.r.count("gid-map"))
        for (const auto& m : p.r["gid-map"].as<std::vector<std::string>>())
            opts.layer.gid_map.push_back(img::parse_id_mapping(m, "--gid-map"));
    opts.layer.cancel = &g_interrupted;

    // SIGINT/SIGTERM stop the unpack between entries; the library removes its temporary tree.
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);

    bool shown = false;
    if (::isatty(STDERR_FILENO) && !p.r.count("no-progress")) {
        opts.progress = [&shown](const img::Progress& pr) {
            static struct timespec last {};
            struct timespec now {};
            ::clock_gettime(CLOCK_MONOTONIC, &now);
            double dt = static_cast<double>(now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9;
            if (shown && dt < 0.2 && pr.layer_bytes != 0) return;
            last = now;
            std::string line = "layer " + std::to_string(pr.layer) + "/" + std::to_string(pr.layers);
            if (pr.layer_size) {
                int pct = static_cast<int>(100.0 * static_cast<double>(pr.layer_bytes) /
                                           static_cast<double>(pr.layer_size));
                line += " " + std::to_string(std::min(pct, 100)) + "%";
            }
            line += ", " + human_size(pr.total_bytes) + " written";
            std::fprintf(stderr, "\r\033[K%s", line.c_str());
            shown = true;
        };
    }
    img::UnpackResult res;
    try {
        res = img::unpack(src, p.positional[0], p.positional[1], opts);
    } catch (...) {
        if (shown) std::fputs("\r\033[K", stderr);
        throw;
    }
    if (shown) std::fputs("\r\033[K", stderr);
    for (const auto& w : res.warnings) std::cerr << "rt-unpack: warning: " << w << "\n";
    return 0;
}

int cmd_umount(const std::vector<std::string>& args) {
    cxxopts::Options o("rt-unpack umount",
                       "Unmount a bundle made with unpack --overlay and remove its upper, work and whiteout "
                       "directories (the container's writes go with them)");
    o.custom_help("BUNDLE");
    Parsed p;
    if (!parse(o, args, p)) return 0;
    expect_args(p, 1, "umount", "BUNDLE");
    img::umount_overlay(p.positional[0]);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        std::cout << kUsage;
        return args.empty() ? 1 : 0;
    }
    if (args[0] == "-v" || args[0] == "--version") {
        std::cout << "rt-unpack version " << RT_VERSION << "\n";
        return 0;
    }
    try {
        if (args[0] == "list") return cmd_list(args);
        if (args[0] == "inspect") return cmd_inspect(args);
        if (args[0] == "unpack") return cmd_unpack(args);
        if (args[0] == "umount") return cmd_umount(args);
        throw Error("unknown command \"" + args[0] + "\" (see rt-unpack --help)");
    } catch (const cxxopts::exceptions::exception& e) {
        std::cerr << "rt-unpack: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "rt-unpack: " << e.what() << "\n";
    }
    return 1;
}
