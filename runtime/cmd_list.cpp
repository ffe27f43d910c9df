// rt list [--format table|json] [--quiet]
#include <iomanip>
#include <iostream>

#include "cli.hpp"

namespace rt::cli {

int cmd_list(const GlobalOptions& g, const Args& args) {
    cxxopts::Options o("rt list", "List the containers under the state root");
    std::string format = "table";
    bool quiet = false;
    o.add_options()("f,format", "table or json", cxxopts::value(format)->default_value("table"))(
        "q,quiet", "Print only the container ids", cxxopts::value(quiet));
    std::vector<std::string> pos;
    if (!parse(o, args, pos)) return 0;
    if (!pos.empty()) throw Error("list: unexpected argument \"" + pos[0] + "\"");
    if (format != "table" && format != "json")
        throw Error("list: invalid format \"" + format + "\" (table or json)");
    auto all = make_runtime(g).list();
    if (quiet) {
        for (const auto& s : all) std::cout << s.id << '\n';
        return 0;
    }
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& s : all) arr.push_back(s.to_json());
        std::cout << arr.dump() << std::endl;
        return 0;
    }
    // runc's tabwriter layout: columns padded to the widest cell plus 3, at least 12.
    std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto& s : all)
        rows.push_back(
            {s.id, std::to_string(s.pid), rt::status_name(s.status), s.bundle, s.created, s.owner});
    std::vector<size_t> width(6, 12);
    for (const auto& r : rows)
        for (size_t i = 0; i < 5; ++i) width[i] = std::max(width[i], r[i].size() + 3);
    for (const auto& r : rows) {
        for (size_t i = 0; i < 5; ++i)
            std::cout << std::left << std::setw(static_cast<int>(width[i])) << r[i];
        std::cout << r[5] << '\n';
    }
    return 0;
}

}  // namespace rt::cli
