// Small filesystem, time and process helpers shared by the libcontainer modules.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rt {

// Whole-file read; throws rt::Error "read <path>: <why>".
std::string read_file(const std::string& path);
// As read_file, nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const std::string& path);
// Write (create/truncate) a file; throws rt::Error "write <path>: <why>".
void write_file(const std::string& path, std::string_view data, mode_t mode = 0644);
// Write path atomically: <dir>/.<name>.tmp then rename(2), so readers see old or new, never half.
void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
// write(2) all of data to fd, retrying on EINTR and short writes. Returns false on error (errno set).
bool write_all(int fd, std::string_view data);

// write(2) with SIGPIPE blocked for this thread: a peer that went away (a hook that exits without
// reading its stdin, a closed terminal) gives EPIPE instead of killing rt; the SIGPIPE it raised
// is discarded. Retries EINTR; short writes are the caller's.
ssize_t write_no_sigpipe(int fd, const void* buf, size_t len);

// mkdir -p; existing directories are fine.
void mkdir_all(const std::string& path, mode_t mode = 0755);
// rm -rf of a directory tree on one filesystem (does not cross mount points, never follows links).
void remove_all(const std::string& path);

// The names in the directory open at dirfd (without "." and ".."), in readdir order; dirfd stays
// open and its position is not used. Throws rt::Error "read directory <what>: <why>".
std::vector<std::string> dir_entries(int dirfd, const std::string& what);

// Split on a character; empty fields kept.
std::vector<std::string> split(std::string_view s, char sep);

// Current time as RFC 3339 with nanoseconds in UTC: 2026-12-03T12:56:02.123456789Z.
std::string rfc3339_now();

// Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22); nullopt when the
// process does not exist. A pid with a different start time is another process.
std::optional<uint64_t> process_start_time(pid_t pid);
// Is pid a live (not zombie) process with this start time?
bool process_alive(pid_t pid, uint64_t start_time);

// User name for a uid from the host's /etc/passwd (numeric string when unknown).
std::string user_name(uid_t uid);

// pidfd_open(2) / pidfd_send_signal(2) wrappers: a pidfd names one process, never a reused pid.
int pidfd_open(pid_t pid, unsigned flags = 0);
int pidfd_send_signal(int pidfd, int sig);

}  // namespace rt
