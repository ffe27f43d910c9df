// rt spec [--bundle|-b DIR] [--rootless] [--seccomp default]: write a starter config.json (runc's) into DIR.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli.hpp"
#include "rt/error.hpp"
#include "rt/spec.hpp"

namespace rt::cli {

int cmd_spec(const GlobalOptions& /*g*/, const Args& args) {
    cxxopts::Options opts("rt spec", "Create a new specification file (config.json) in the bundle directory");
    opts.add_options()  //
        ("b,bundle", "path to the root of the bundle directory",
         cxxopts::value<std::string>()->default_value("."))                //
        ("rootless", "generate a configuration for a rootless container")  //
        ("seccomp", "add a seccomp profile: \"default\" is rt's (see contrib/seccomp.md)",
         cxxopts::value<std::string>())  //
        ("h,help", "show this help");

    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    auto result = opts.parse(static_cast<int>(argv.size()), argv.data());
    if (result.count("help")) {
        std::cout << opts.help();
        return 0;
    }
    if (!result.unmatched().empty())
        throw Error("spec: unexpected argument \"" + result.unmatched()[0] + "\"");

    const std::string bundle = result["bundle"].as<std::string>();
    const std::string path = (bundle.ends_with('/') ? bundle : bundle + "/") + "config.json";
    nlohmann::json spec = rt::spec::default_spec(result.count("rootless") > 0);
    if (result.count("seccomp")) {
        const auto profile = result["seccomp"].as<std::string>();
        if (profile != "default")
            throw Error("spec: --seccomp: unknown profile \"" + profile + "\" (known: default)");
        spec["linux"]["seccomp"] = rt::spec::default_seccomp_profile();
    }
    const std::string text = spec.dump(2) + "\n";

    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) throw Error("File " + path + " exists. Remove it first", EEXIST);
    if (fd < 0) throw_errno("create " + path);
    for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            throw_errno("write " + path, err);
        }
        done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) throw_errno("write " + path);
    return 0;
}

}  // namespace rt::cli
