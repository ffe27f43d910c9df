// The Catch2 main shared by the integration tests (linked from the harness static library, so a
// test file that defines CATCH_CONFIG_MAIN itself still links: the archive member holding this
// main is then never pulled in).
//
// Differences from Catch's default main:
//  - the environment is checked first: no RT_BINARY / RT_ROOTFS / root -> "SKIP: ..." and exit 77
//    (meson's skip code) instead of a wall of failures;
//  - validating against another runtime (RT_BINARY=runc, see th::is_rt()) without an explicit
//    test spec on the command line runs "~[rt-only]", the tests that check rt's own behaviour.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"

int main(int argc, char* argv[]) {
    bool listing = false, has_spec = false;
    // Catch options that take a value (the value is not a test spec).
    static const std::set<std::string> with_value = {
        "-r", "--reporter", "-o", "--out", "-d", "--durations", "-c", "--section", "--order",
        "--rng-seed", "-x", "--abortx", "--use-colour", "--verbosity", "-w", "--warn", "-n", "--name",
        "--wait-for-keypress", "-f", "--input-file", "--benchmark-samples",
        "--benchmark-resamples", "--benchmark-confidence-interval", "--benchmark-warmup-time"};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (with_value.count(a)) {
            ++i;
            continue;
        }
        if (a.rfind("--list", 0) == 0 || a == "-l" || a == "-t" || a == "-h" || a == "--help" ||
            a == "-?")
            listing = true;
        else if (a[0] != '-')
            has_spec = true;
    }
    if (!listing) {
        th::binary();         // skip_all()s when the environment can't run the tests
        th::rootfs_source();
    }
    std::vector<char*> args(argv, argv + argc);
    static char not_rt_only[] = "~[rt-only]";
    if (!listing && !has_spec && !th::is_rt()) {
        std::printf("note: %s is not rt; running ~[rt-only]\n", th::binary().c_str());
        args.push_back(not_rt_only);
    }
    return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
