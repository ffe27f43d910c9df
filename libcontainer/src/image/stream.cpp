#include "image/stream.hpp"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include <openssl/evp.h>

#include "rt/error.hpp"

namespace rt::image {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
        throw Error("sha256: cannot initialise OpenSSL's digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, size_t len) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
}

std::string Sha256::hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) {
        s += digits[md[i] >> 4];
        s += digits[md[i] & 15];
    }
    return s;
}

std::string sha256_hex(const std::string& data) {
    Sha256 h;
    h.update(data.data(), data.size());
    return h.hex();
}

Compression detect_compression(const unsigned char* p, size_t n) {
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return Compression::Gzip;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return Compression::Zstd;
    if (n >= 6 && std::memcmp(p,
                              "\xfd"
                              "7zXZ\0",
                              6) == 0)
        return Compression::Xz;
    return Compression::None;
}

const char* compression_name(Compression c) {
    switch (c) {
        case Compression::Gzip:
            return "gzip";
        case Compression::Zstd:
            return "zstd";
        case Compression::Xz:
            return "xz";
        case Compression::None:
            break;
    }
    return "none";
}

// One of the three decompressors; each consumes in_[in_pos_, in_len_) and fills out.
struct LayerStream::Decoder {
    Compression kind;
    z_stream z{};
    ZSTD_DStream* zs = nullptr;
    lzma_stream xz = LZMA_STREAM_INIT;

    explicit Decoder(Compression k) : kind(k) {
        bool ok = true;
        if (k == Compression::Gzip) ok = inflateInit2(&z, 15 + 32) == Z_OK;
        if (k == Compression::Zstd) ok = (zs = ZSTD_createDStream()) != nullptr;
        if (k == Compression::Xz) ok = lzma_stream_decoder(&xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
        if (!ok) throw Error(std::string("cannot initialise the ") + compression_name(k) + " decoder");
    }
    ~Decoder() {
        if (kind == Compression::Gzip) inflateEnd(&z);
        if (zs) ZSTD_freeDStream(zs);
        if (kind == Compression::Xz) lzma_end(&xz);
    }
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;
};

namespace {
constexpr size_t kBlock = 1 << 20;
}

LayerStream::LayerStream(const BlobLocation& where, BlobChecks checks)
    : checks_(std::move(checks)), in_(kBlock), out_(kBlock) {
    fd_.reset(::open(where.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) throw_errno("open " + where.file);
    struct stat st {};
    if (::fstat(fd_.get(), &st) < 0) throw_errno("stat " + where.file);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (where.offset > size) throw Error(checks_.what + ": blob lies beyond the end of " + where.file);
    raw_off_ = where.offset;
    raw_len_ = where.length == UINT64_MAX ? size - where.offset : where.length;
    if (raw_off_ + raw_len_ > size) throw Error(checks_.what + ": blob is truncated in " + where.file);
    if (raw_off_ == 0 && raw_len_ == size) ::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    unsigned char magic[6] = {};
    ssize_t m = raw_len_ ? ::pread(fd_.get(), magic, std::min<uint64_t>(sizeof magic, raw_len_),
                                   static_cast<off_t>(raw_off_))
                         : 0;
    if (m < 0) throw_errno(checks_.what + ": read");
    compression_ = detect_compression(magic, static_cast<size_t>(m));
    if (compression_ != Compression::None) dec_ = std::make_unique<Decoder>(compression_);
    // A plain blob's DiffID is its digest: one hash of the raw bytes serves both.
    hash_raw_ = !checks_.digest.empty() || (!dec_ && !checks_.diff_id.empty());
}

LayerStream::~LayerStream() = default;

size_t LayerStream::fill_raw() {
    in_pos_ = in_len_ = 0;
    if (raw_done_ >= raw_len_) {
        raw_eof_ = true;
        return 0;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(in_.size(), raw_len_ - raw_done_));
    ssize_t n;
    do n = ::pread(fd_.get(), in_.data(), want, static_cast<off_t>(raw_off_ + raw_done_));
    while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno(checks_.what + ": read");
    if (n == 0) throw Error(checks_.what + ": blob ends early (truncated file)");
    raw_done_ += static_cast<uint64_t>(n);
    in_len_ = static_cast<size_t>(n);
    if (hash_raw_) raw_hash_.update(in_.data(), in_len_);
    if (raw_done_ >= raw_len_) raw_eof_ = true;
    return in_len_;
}

size_t LayerStream::decode(const void** block) {
    Decoder& d = *dec_;
    size_t produced = 0;
    while (produced == 0) {
        // A decoder that filled the whole output last time may hold more without new input.
        if (in_pos_ == in_len_ && !pending_) {
            if (raw_eof_ || fill_raw() == 0) break;
        }
        if (stream_end_) {
            // Another member may follow (concatenated gzip); anything else after the end is ignored.
            if (d.kind == Compression::Gzip && in_len_ - in_pos_ >= 2 && in_[in_pos_] == 0x1f &&
                in_[in_pos_ + 1] == 0x8b) {
                inflateReset(&d.z);
                stream_end_ = false;
            } else {
                in_pos_ = in_len_;
                continue;
            }
        }
        size_t avail = in_len_ - in_pos_;
        if (d.kind == Compression::Gzip) {
            d.z.next_in = in_.data() + in_pos_;
            d.z.avail_in = static_cast<uInt>(avail);
            d.z.next_out = out_.data();
            d.z.avail_out = static_cast<uInt>(out_.size());
            int rc = inflate(&d.z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                throw Error(checks_.what + ": gzip: " + (d.z.msg ? d.z.msg : "corrupt data"));
            in_pos_ += avail - d.z.avail_in;
            produced = out_.size() - d.z.avail_out;
            if (rc == Z_STREAM_END) stream_end_ = true;
        } else if (d.kind == Compression::Zstd) {
            ZSTD_inBuffer ib{in_.data() + in_pos_, avail, 0};
            ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
            size_t rc = ZSTD_decompressStream(d.zs, &ob, &ib);
            if (ZSTD_isError(rc)) throw Error(checks_.what + ": zstd: " + ZSTD_getErrorName(rc));
            in_pos_ += ib.pos;
            produced = ob.pos;
            if (rc == 0)
                zstd_frame_done_ = true;
            else if (ib.pos > 0 || ob.pos > 0)
                zstd_frame_done_ = false;
        } else {
            d.xz.next_in = in_.data() + in_pos_;
            d.xz.avail_in = avail;
            d.xz.next_out = out_.data();
            d.xz.avail_out = out_.size();
            lzma_ret rc = lzma_code(&d.xz, raw_eof_ ? LZMA_FINISH : LZMA_RUN);
            if (rc != LZMA_OK && rc != LZMA_STREAM_END && rc != LZMA_BUF_ERROR)
                throw Error(checks_.what + ": xz: corrupt data (lzma error " + std::to_string(rc) + ")");
            in_pos_ += avail - d.xz.avail_in;
            produced = out_.size() - d.xz.avail_out;
            if (rc == LZMA_STREAM_END) stream_end_ = true;
        }
        pending_ = produced == out_.size() && !stream_end_;
        if (produced == 0 && avail == 0) break;  // no input and nothing pending: done
        if (produced == 0 && in_len_ - in_pos_ == avail && !stream_end_)
            throw Error(checks_.what + ": " + compression_name(d.kind) +
                        ": decoder made no progress (corrupt data)");
    }
    *block = out_.data();
    return produced;
}

size_t LayerStream::next(const void** block) {
    size_t n;
    if (!dec_) {
        if (in_pos_ == in_len_ && (raw_eof_ || fill_raw() == 0)) return 0;
        *block = in_.data() + in_pos_;
        n = in_len_ - in_pos_;
        in_pos_ = in_len_;
    } else {
        n = decode(block);
        if (n == 0) return 0;
    }
    out_total_ += n;
    if (checks_.max_size && out_total_ > checks_.max_size)
        throw Error(checks_.what + ": uncompressed size exceeds the limit of " +
                    std::to_string(checks_.max_size) + " bytes (decompression bomb?); see --max-size");
    if (dec_ && !checks_.diff_id.empty()) tar_hash_.update(*block, n);
    return n;
}

void LayerStream::finish() {
    if (finished_) return;
    finished_ = true;
    const void* b;
    while (next(&b) > 0) {
    }
    while (!raw_eof_) fill_raw();  // bytes after the compressed stream still count for the digest
    if (compression_ == Compression::Zstd) stream_end_ = zstd_frame_done_;
    if (dec_ && !stream_end_)
        throw Error(checks_.what + ": " + compression_name(compression_) + " stream is truncated");
    std::string raw = hash_raw_ ? "sha256:" + raw_hash_.hex() : "";
    if (!checks_.digest.empty() && raw != checks_.digest)
        throw Error(checks_.what + ": digest mismatch: expected " + checks_.digest + ", got " + raw);
    if (!checks_.diff_id.empty()) {
        std::string tar = dec_ ? "sha256:" + tar_hash_.hex() : raw;
        if (tar != checks_.diff_id)
            throw Error(checks_.what + ": DiffID mismatch: expected " + checks_.diff_id + ", got " + tar);
    }
}

}  // namespace rt::image
