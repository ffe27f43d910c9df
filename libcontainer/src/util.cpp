#include "util.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "fd.hpp"
#include "rt/error.hpp"

namespace rt {

std::optional<std::string> read_file_if_exists(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("read " + path);
    }
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("read " + path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

std::string read_file(const std::string& path) {
    auto s = read_file_if_exists(path);
    if (!s) throw_errno("read " + path, ENOENT);
    return *s;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

ssize_t write_no_sigpipe(int fd, const void* buf, size_t len) {
    sigset_t pipe_set, old_mask, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    ssize_t n;
    do n = ::write(fd, buf, len);
    while (n < 0 && errno == EINTR);
    const int saved = errno;
    if (n < 0 && saved == EPIPE && !was_pending) {
        const timespec zero{};
        while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    errno = saved;
    return n;
}

void write_file(const std::string& path, std::string_view data, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd || !write_all(fd.get(), data)) throw_errno("write " + path);
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    auto slash = path.rfind('/');
    std::string tmp = slash == std::string::npos
                          ? "." + path + ".tmp"
                          : path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp";
    write_file(tmp, data, mode);
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw_errno("rename " + tmp + " to " + path, err);
    }
}

void mkdir_all(const std::string& path, mode_t mode) {
    if (path.empty()) return;
    if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
    if (errno != ENOENT) throw_errno("mkdir " + path);
    auto slash = path.find_last_of('/', path.size() - 1);
    if (slash != std::string::npos && slash > 0) mkdir_all(path.substr(0, slash), mode);
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw_errno("mkdir " + path);
}

std::vector<std::string> dir_entries(int dirfd, const std::string& what) {
    // A fresh open description: fdopendir would take over dirfd's offset and close it.
    UniqueFd own(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = own ? ::fdopendir(own.get()) : nullptr;
    if (!d) throw_errno("read directory " + what);
    own.release();
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    return names;
}

namespace {
// Remove the entries of dirfd (on device dev) recursively; never follows symlinks or crosses mounts.
void remove_children(int dirfd, dev_t dev, const std::string& path) {
    UniqueFd dup(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    DIR* d = ::fdopendir(dup.get());
    if (!d) throw_errno("opendir " + path);
    dup.release();
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    while (struct dirent* e = ::readdir(d)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) throw Error("remove " + path + "/" + e->d_name + ": is a mount point");
            UniqueFd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw_errno("open " + path + "/" + e->d_name);
            remove_children(sub.get(), dev, path + "/" + e->d_name);
            if (::unlinkat(dirfd, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                throw_errno("rmdir " + path + "/" + e->d_name);
        } else if (::unlinkat(dirfd, e->d_name, 0) < 0 && errno != ENOENT) {
            throw_errno("unlink " + path + "/" + e->d_name);
        }
    }
}
}  // namespace

void remove_all(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return;
        if (errno == ENOTDIR || errno == ELOOP) {
            if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw_errno("unlink " + path);
            return;
        }
        throw_errno("open " + path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) throw_errno("stat " + path);
    remove_children(fd.get(), st.st_dev, path);
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) throw_errno("rmdir " + path);
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t pos = s.find(sep, start);
        if (pos == std::string_view::npos) {
            out.emplace_back(s.substr(start));
            return out;
        }
        out.emplace_back(s.substr(start, pos - start));
        start = pos + 1;
    }
}

std::string rfc3339_now() {
    // UTC by hand (Howard Hinnant's civil_from_days): gmtime_r would read /etc/localtime first.
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    int64_t days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400;
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    char buf[128];
    ::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", static_cast<long long>(y),
               static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
               static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60), ts.tv_nsec);
    return buf;
}

namespace {
// Fields of /proc/<pid>/stat after the parenthesised comm (which may itself hold spaces or ')').
std::optional<std::vector<std::string>> stat_fields(pid_t pid) {
    auto s = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
    if (!s) return std::nullopt;
    auto close = s->rfind(')');
    if (close == std::string::npos || close + 2 > s->size()) return std::nullopt;
    return split(std::string_view(*s).substr(close + 2), ' ');  // [0] = state (field 3)
}
}  // namespace

std::optional<uint64_t> process_start_time(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    std::optional<std::vector<std::string>> f;
    try {
        f = stat_fields(pid);
    } catch (const Error&) {
        return std::nullopt;
    }
    if (!f || f->size() < 20) return std::nullopt;
    return std::stoull((*f)[19]);  // field 22
}

bool process_alive(pid_t pid, uint64_t start_time) {
    if (pid <= 0) return false;
    std::optional<std::vector<std::string>> f;
    try {
        f = stat_fields(pid);
    } catch (const Error&) {
        return false;
    }
    if (!f || f->size() < 20) return false;
    if ((*f)[0] == "Z" || (*f)[0] == "X") return false;
    return std::stoull((*f)[19]) == start_time;
}

std::string user_name(uid_t uid) {
    // /etc/passwd read directly (as runc's Go lookup does): NSS would probe nscd and
    // nsswitch.conf first, a dozen syscalls on every create.
    std::optional<std::string> passwd;
    try {
        passwd = read_file_if_exists("/etc/passwd");
    } catch (const Error&) {
    }
    if (passwd) {
        for (const auto& line : split(*passwd, '\n')) {
            auto f = split(line, ':');
            if (f.size() >= 3 && f[2] == std::to_string(uid)) return f[0];
        }
    }
    return std::to_string(uid);
}

int pidfd_open(pid_t pid, unsigned flags) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags)); }

int pidfd_send_signal(int pidfd, int sig) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

}  // namespace rt
