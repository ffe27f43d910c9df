// Where entries come from: a tar stream parsed by libarchive (every tar dialect, PAX xattrs), or an
// unpacked layer directory of a Docker 0.x graph. Both hand Entry records to a LayerWriter.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <memory>

#include "image/layer.hpp"
#include "rt/error.hpp"
#include "util.hpp"

namespace rt::image {

namespace {

bool write_full(int fd, const char* p, size_t n, off_t off) {
    while (n > 0) {
        ssize_t w = ::pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
        off += w;
    }
    return true;
}

// libarchive calls back into C++ here: exceptions must not cross its C frames, so they are kept
// and rethrown once archive_read_* returns.
struct ReadCtx {
    const BlockReader* read;
    std::exception_ptr error;
};

la_ssize_t read_cb(struct archive*, void* client, const void** buf) {
    auto* ctx = static_cast<ReadCtx*>(client);
    try {
        return static_cast<la_ssize_t>((*ctx->read)(buf));
    } catch (...) {
        ctx->error = std::current_exception();
        return -1;
    }
}

Entry::Type entry_type(struct archive_entry* ae, const std::string& name) {
    if (archive_entry_hardlink(ae)) return Entry::Type::Hardlink;
    switch (archive_entry_filetype(ae)) {
        case AE_IFREG:
            return Entry::Type::File;
        case AE_IFDIR:
            return Entry::Type::Dir;
        case AE_IFLNK:
            return Entry::Type::Symlink;
        case AE_IFCHR:
            return Entry::Type::CharDev;
        case AE_IFBLK:
            return Entry::Type::BlockDev;
        case AE_IFIFO:
            return Entry::Type::Fifo;
        default:
            break;
    }
    throw Error("entry \"" + name + "\": unsupported file type (sockets cannot be stored)");
}

}  // namespace

LayerStats apply_tar(int root_fd, const BlockReader& read, const LayerOptions& opts) {
    std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
    if (!a) throw Error("libarchive: out of memory");
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    ReadCtx ctx{&read, nullptr};
    auto check = [&](int rc, const std::string& where) {
        if (ctx.error) std::rethrow_exception(ctx.error);
        if (rc == ARCHIVE_FATAL || rc == ARCHIVE_FAILED) {
            const char* msg = archive_error_string(a.get());
            throw Error(where + ": " + (msg ? msg : "malformed tar"));
        }
    };
    check(archive_read_open(a.get(), &ctx, nullptr, read_cb, nullptr), "tar");

    LayerWriter w(root_fd, opts);
    LayerStats stats;
    std::string last = "(start of the layer)";
    for (;;) {
        struct archive_entry* ae = nullptr;
        int rc = archive_read_next_header(a.get(), &ae);
        if (rc == ARCHIVE_EOF) break;
        check(rc, "tar after entry \"" + last + "\"");
        const char* p = archive_entry_pathname(ae);
        if (!p) p = archive_entry_pathname_utf8(ae);
        if (!p) throw Error("tar after entry \"" + last + "\": entry without a name");
        Entry e;
        e.name = p;
        last = e.name;
        e.type = entry_type(ae, e.name);
        e.mode = archive_entry_perm(ae) & 07777;
        e.uid = static_cast<uid_t>(archive_entry_uid(ae));
        e.gid = static_cast<gid_t>(archive_entry_gid(ae));
        e.mtime = {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
        e.atime = archive_entry_atime_is_set(ae)
                      ? timespec{archive_entry_atime(ae), archive_entry_atime_nsec(ae)}
                      : e.mtime;
        if (e.type == Entry::Type::Hardlink) e.link = archive_entry_hardlink(ae);
        if (e.type == Entry::Type::Symlink) {
            const char* t = archive_entry_symlink(ae);
            e.link = t ? t : "";
        }
        if (e.type == Entry::Type::CharDev || e.type == Entry::Type::BlockDev)
            e.rdev = makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
        archive_entry_xattr_reset(ae);
        const char* xname;
        const void* xval;
        size_t xsize;
        while (archive_entry_xattr_next(ae, &xname, &xval, &xsize) == ARCHIVE_OK)
            e.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xval), xsize));

        const int64_t size = archive_entry_size(ae);
        w.apply(e, [&](int fd) {
            int64_t end = 0;
            for (;;) {
                const void* buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(a.get(), &buf, &len, &off);
                if (r == ARCHIVE_EOF) break;
                check(r, "entry \"" + e.name + "\"");
                if (!write_full(fd, static_cast<const char*>(buf), len, static_cast<off_t>(off)))
                    throw_errno("entry \"" + e.name + "\": write");
                end = off + static_cast<int64_t>(len);
                stats.bytes += len;
            }
            // A sparse file may end in a hole.
            if (size > end && ::ftruncate(fd, size) < 0) throw_errno("entry \"" + e.name + "\": truncate");
        });
    }
    w.finish();
    LayerStats ws = w.stats();
    ws.bytes = stats.bytes;
    return ws;
}

namespace {

// Walk of an unpacked layer directory; hard links (same inode twice) become link entries.
struct DirWalk {
    LayerWriter& w;
    std::map<std::pair<dev_t, ino_t>, std::string> inodes;
    uint64_t bytes = 0;

    void copy(int src, int dst, uint64_t size, const std::string& name) {
        uint64_t done = 0;
        while (done < size) {
            ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, size - done, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
                char buf[1 << 16];
                n = ::read(src, buf, sizeof buf);
                if (n > 0 && !write_full(dst, buf, static_cast<size_t>(n), static_cast<off_t>(done))) n = -1;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("layer file \"" + name + "\": copy");
            if (n == 0) break;  // the file shrank under us
            done += static_cast<uint64_t>(n);
        }
        bytes += done;
    }

    void dir(int dirfd, const std::string& rel) {
        for (const std::string& n : dir_entries(dirfd, "layer directory \"" + rel + "\""))
            entry(dirfd, n, rel.empty() ? n : rel + "/" + n);
    }

    void entry(int dirfd, const std::string& name, const std::string& rel) {
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("layer file \"" + rel + "\"");
        // aufs keeps its own bookkeeping in .wh..wh.plnk/.wh..wh.orph directories: not content.
        if (S_ISDIR(st.st_mode) && name.starts_with(".wh..wh.")) return;
        Entry e;
        e.name = rel;
        e.mode = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.atime = st.st_atim;
        e.mtime = st.st_mtim;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
            auto [it, fresh] = inodes.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
            if (!fresh) {
                e.type = Entry::Type::Hardlink;
                e.link = it->second;
                w.apply(e, {});
                return;
            }
        }
        if (S_ISREG(st.st_mode)) {
            e.type = Entry::Type::File;
            char cap[1024];
            std::string p = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
            ssize_t n = ::lgetxattr(p.c_str(), "security.capability", cap, sizeof cap);
            if (n > 0) e.xattrs.emplace_back("security.capability", std::string(cap, static_cast<size_t>(n)));
            bool whiteout = name.starts_with(".wh.");
            UniqueFd src;
            if (!whiteout) {
                src.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
                if (!src) throw_errno("layer file \"" + rel + "\": open");
            }
            w.apply(e, [&](int fd) { copy(src.get(), fd, static_cast<uint64_t>(st.st_size), rel); });
        } else if (S_ISDIR(st.st_mode)) {
            e.type = Entry::Type::Dir;
            w.apply(e, {});
            UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw_errno("layer directory \"" + rel + "\": open");
            dir(sub.get(), rel);
        } else if (S_ISLNK(st.st_mode)) {
            e.type = Entry::Type::Symlink;
            std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
            ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
            if (n < 0) throw_errno("layer symlink \"" + rel + "\": readlink");
            target.resize(static_cast<size_t>(n));
            e.link = target;
            w.apply(e, {});
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
            e.type = S_ISCHR(st.st_mode)   ? Entry::Type::CharDev
                     : S_ISBLK(st.st_mode) ? Entry::Type::BlockDev
                                           : Entry::Type::Fifo;
            e.rdev = st.st_rdev;
            w.apply(e, {});
        }
        // Sockets are not layer content: skipped.
    }
};

}  // namespace

LayerStats apply_directory(int root_fd, const std::string& dir, const LayerOptions& opts) {
    UniqueFd src(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!src) throw_errno("open layer directory " + dir);
    LayerWriter w(root_fd, opts);
    DirWalk walk{w, {}, 0};
    walk.dir(src.get(), "");
    w.finish();
    LayerStats s = w.stats();
    s.bytes = walk.bytes;
    return s;
}

}  // namespace rt::image
