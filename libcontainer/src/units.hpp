// Numbers as people write them in config files and on command lines: "512M", "1g", "100000".
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rt {

// A decimal unsigned integer, the whole string; nullopt otherwise (sign, spaces, overflow).
inline std::optional<uint64_t> parse_u64(std::string_view s) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// Bytes: a decimal number with an optional binary suffix k, m, g or t (either case, as the
// kernel's memparse and tmpfs size= accept them). nullopt when malformed or not below 2^63.
inline std::optional<uint64_t> parse_bytes(std::string_view s) {
    unsigned shift = 0;
    if (!s.empty()) {
        switch (s.back()) {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            case 't':
            case 'T':
                shift = 40;
                break;
            default:
                break;
        }
    }
    if (shift != 0) s.remove_suffix(1);
    auto v = parse_u64(s);
    if (!v || *v >= (uint64_t{1} << (63 - shift))) return std::nullopt;
    return *v << shift;
}

}  // namespace rt
