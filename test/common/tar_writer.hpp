// A small tar writer for tests: ustar headers, PAX records for long names and xattrs. Makes the
// hostile layers no real tar program would write ("../x", "/abs", ".wh.", links out of the root).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace tw {

struct Item {
    std::string name;
    char type = '0';  // '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
    unsigned mode = 0644;
    unsigned uid = 0, gid = 0;
    long long mtime = 1700000000;
    std::string data;  // file contents
    std::string link;  // symlink target / hard link name
    unsigned major = 0, minor = 0;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

class Tar {
public:
    Tar& file(const std::string& n, const std::string& data, unsigned mode = 0644, unsigned uid = 0,
              unsigned gid = 0) {
        Item i;
        i.name = n;
        i.data = data;
        i.mode = mode;
        i.uid = uid;
        i.gid = gid;
        return add(i);
    }
    Tar& dir(const std::string& n, unsigned mode = 0755, long long mtime = 1700000000) {
        Item i;
        i.name = n;
        i.type = '5';
        i.mode = mode;
        i.mtime = mtime;
        return add(i);
    }
    Tar& symlink(const std::string& n, const std::string& target, unsigned uid = 0) {
        Item i;
        i.name = n;
        i.type = '2';
        i.link = target;
        i.mode = 0777;
        i.uid = uid;
        return add(i);
    }
    Tar& hardlink(const std::string& n, const std::string& target) {
        Item i;
        i.name = n;
        i.type = '1';
        i.link = target;
        return add(i);
    }
    Tar& add(const Item& i) {
        bool pax = i.name.size() > 99 || i.link.size() > 99 || !i.xattrs.empty();
        if (pax) {
            std::string recs;
            if (i.name.size() > 99) recs += record("path", i.name);
            if (i.link.size() > 99) recs += record("linkpath", i.link);
            for (const auto& [k, v] : i.xattrs) recs += record("SCHILY.xattr." + k, v);
            header("PaxHeader", 'x', 0644, 0, 0, 0, recs.size(), "", 0, 0);
            body(recs);
        }
        header(i.name.substr(0, 99), i.type, i.mode, i.uid, i.gid, i.mtime, i.type == '0' ? i.data.size() : 0,
               i.link.substr(0, 99), i.major, i.minor);
        if (i.type == '0') body(i.data);
        return *this;
    }
    // The archive with its two zero end blocks.
    std::string bytes() const { return out_ + std::string(1024, '\0'); }

private:
    static std::string record(const std::string& k, const std::string& v) {
        std::string body = " " + k + "=" + v + "\n";
        size_t len = body.size() + 1;
        while (std::to_string(len).size() + body.size() != len) ++len;
        return std::to_string(len) + body;
    }
    static void octal(char* p, size_t n, unsigned long long v) {
        for (size_t i = n - 1; i-- > 0; v >>= 3) p[i] = static_cast<char>('0' + (v & 7));
        p[n - 1] = '\0';
    }
    void header(const std::string& name, char type, unsigned mode, unsigned uid, unsigned gid,
                long long mtime, size_t size, const std::string& link, unsigned major, unsigned minor) {
        char h[512] = {};
        std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
        octal(h + 100, 8, mode);
        octal(h + 108, 8, uid);
        octal(h + 116, 8, gid);
        octal(h + 124, 12, size);
        octal(h + 136, 12, static_cast<unsigned long long>(mtime));
        h[156] = type;
        std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
        std::memcpy(h + 257, "ustar", 6);
        std::memcpy(h + 263, "00", 2);
        octal(h + 329, 8, major);
        octal(h + 337, 8, minor);
        std::memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (unsigned char c : h) sum += c;
        octal(h + 148, 7, sum);
        out_.append(h, 512);
    }
    void body(const std::string& d) {
        out_ += d;
        out_.append((512 - d.size() % 512) % 512, '\0');
    }
    std::string out_;
};

}  // namespace tw
