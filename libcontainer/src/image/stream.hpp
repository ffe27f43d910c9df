// A layer blob as one stream: read once from a file range, its compressed bytes hashed (digest),
// decompressed (gzip, zstd or xz by magic bytes, else plain tar), the tar bytes hashed (DiffID)
// and counted against a size limit. No temporary file; each byte is read from disk once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fd.hpp"

namespace rt::image {

// Incremental SHA-256 (OpenSSL's, which uses the CPU's SHA extensions when there are any).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, size_t len);
    // Lower-case hex of the digest; the hash cannot be updated afterwards.
    std::string hex();

private:
    void* ctx_;
};

// sha256 of a whole string, as hex.
std::string sha256_hex(const std::string& data);

enum class Compression { None, Gzip, Zstd, Xz };
// By magic bytes: 1f 8b (gzip), 28 b5 2f fd (zstd), fd 37 7a 58 5a 00 (xz).
Compression detect_compression(const unsigned char* p, size_t n);
const char* compression_name(Compression c);

// Where a blob is: a byte range of a file (a whole file, or a member of a docker-save archive).
struct BlobLocation {
    std::string file;
    uint64_t offset = 0;
    uint64_t length = UINT64_MAX;  // UINT64_MAX: to the end of the file
};

// What to check about a blob.
struct BlobChecks {
    std::string digest;     // "sha256:<hex>" of the stored (compressed) bytes; "" = unchecked
    std::string diff_id;    // "sha256:<hex>" of the uncompressed tar; "" = unchecked
    uint64_t max_size = 0;  // uncompressed bytes allowed (0 = no limit)
    std::string what;       // for messages: "layer sha256:ab12..."
};

// The uncompressed tar stream of one blob. next() hands out the following block of tar bytes;
// finish() reads what the tar reader left (padding after the end-of-archive blocks) and checks
// the digests. Errors say which blob and why.
class LayerStream {
public:
    LayerStream(const BlobLocation& where, BlobChecks checks);
    ~LayerStream();
    LayerStream(const LayerStream&) = delete;
    LayerStream& operator=(const LayerStream&) = delete;

    // Next block of uncompressed bytes; 0 at the end. The block stays valid until the next call.
    size_t next(const void** block);
    // Drain and verify (digest, DiffID). Call once the consumer is done.
    void finish();

    Compression compression() const { return compression_; }
    uint64_t raw_bytes() const { return raw_done_; }   // compressed bytes read so far
    uint64_t tar_bytes() const { return out_total_; }  // uncompressed bytes produced
    uint64_t raw_length() const { return raw_len_; }   // compressed size of the blob

private:
    size_t fill_raw();  // read the next chunk of the file range into in_; returns bytes read
    size_t decode(const void** block);

    struct Decoder;
    BlobChecks checks_;
    UniqueFd fd_;
    uint64_t raw_off_ = 0, raw_len_ = 0, raw_done_ = 0, out_total_ = 0;
    std::vector<unsigned char> in_, out_;
    size_t in_pos_ = 0, in_len_ = 0;
    bool raw_eof_ = false, finished_ = false, stream_end_ = false, hash_raw_ = false;
    bool zstd_frame_done_ = false, pending_ = false;
    Compression compression_ = Compression::None;
    Sha256 raw_hash_, tar_hash_;
    std::unique_ptr<Decoder> dec_;
};

}  // namespace rt::image
