#include "sinks/compressor.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <vector>

namespace di {
namespace {

class GzipCompressor : public Compressor {
 public:
  GzipCompressor() {
    // Level 1: the backup is bound by compression speed; gzip -1 is the yardstick.
    deflateInit2(&z_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  }
  ~GzipCompressor() override {
    deflateEnd(&z_);
    if (whole_) libdeflate_free_compressor(whole_);
  }
  Status Whole(std::string_view data, std::string& out) override {
    if (!whole_) whole_ = libdeflate_alloc_compressor(1);
    if (!whole_) return Internal("gzip: out of memory for the compressor");
    const size_t at = out.size();
    out.resize(at + libdeflate_gzip_compress_bound(whole_, data.size()));
    const size_t n = libdeflate_gzip_compress(whole_, data.data(), data.size(), out.data() + at,
                                              out.size() - at);
    out.resize(at + n);
    if (n == 0) return Internal("gzip: compression failed");
    return Status::Ok();
  }
  Status Write(std::string_view data, std::string& out) override {
    return Run(data, out, Z_NO_FLUSH);
  }
  Status Finish(std::string& out) override { return Run({}, out, Z_FINISH); }
  void Reset() override { deflateReset(&z_); }

 private:
  Status Run(std::string_view data, std::string& out, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    char buf[64 * 1024];
    while (true) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Internal("gzip: deflate failed");
      out.append(buf, sizeof buf - z_.avail_out);
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) break;
    }
    return Status::Ok();
  }
  z_stream z_{};
  libdeflate_compressor* whole_ = nullptr;  // for Whole: allocated on first use
};

class ZstdCompressor : public Compressor {
 public:
  ZstdCompressor() : cctx_(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  Status Write(std::string_view data, std::string& out) override {
    return Run(data, out, ZSTD_e_continue);
  }
  Status Finish(std::string& out) override { return Run({}, out, ZSTD_e_end); }
  void Reset() override { ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only); }

 private:
  Status Run(std::string_view data, std::string& out, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    char buf[64 * 1024];
    while (true) {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      size_t left = ZSTD_compressStream2(cctx_, &o, &in, mode);
      if (ZSTD_isError(left)) return Internal(std::string("zstd: ") + ZSTD_getErrorName(left));
      out.append(buf, o.pos);
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
    return Status::Ok();
  }
  ZSTD_CCtx* cctx_;
};

}  // namespace

Status Compressor::Whole(std::string_view data, std::string& out) {
  Status s = Write(data, out);
  if (s.ok()) s = Finish(out);
  Reset();
  return s;
}

namespace {

class NoCompressor : public Compressor {
 public:
  Status Write(std::string_view data, std::string& out) override {
    out.append(data);
    return Status::Ok();
  }
  Status Finish(std::string&) override { return Status::Ok(); }
  void Reset() override {}
};

}  // namespace

std::unique_ptr<Compressor> MakeCompressor(Compression codec) {
  switch (codec) {
    case Compression::kGzip:
      return std::make_unique<GzipCompressor>();
    case Compression::kZstd:
      return std::make_unique<ZstdCompressor>();
    case Compression::kNone:
      return std::make_unique<NoCompressor>();
  }
  return std::make_unique<NoCompressor>();
}

std::string CodecName(Compression codec) {
  return codec == Compression::kGzip ? "gzip" : codec == Compression::kZstd ? "zstd" : "none";
}

std::string CodecExtension(Compression codec) {
  return codec == Compression::kGzip ? ".gz" : codec == Compression::kZstd ? ".zst" : "";
}

namespace {

constexpr size_t kInflateBuffer = 64 * 1024;

// zlib's streaming inflater: any gzip input, in pieces of any size.
class ZlibInflater : public Decompressor {
 public:
  ZlibInflater() : buf_(kInflateBuffer) { inflateInit2(&z_, 15 + 32); }
  ~ZlibInflater() override { inflateEnd(&z_); }
  Status Write(std::string_view data, const Sink& out) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    while (z_.avail_in > 0 || pending_) {
      if (ended_) {  // a member ended and more bytes follow: the next member
        inflateReset(&z_);
        ended_ = false;
      }
      in_member_ = true;
      z_.next_out = reinterpret_cast<Bytef*>(buf_.data());
      z_.avail_out = static_cast<uInt>(buf_.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR) break;  // needs more input
      if (rc != Z_OK && rc != Z_STREAM_END)
        return Corruption(std::string("gzip: the data is not a valid gzip stream (") +
                          (z_.msg ? z_.msg : "inflate failed") + ")");
      size_t n = buf_.size() - z_.avail_out;
      pending_ = z_.avail_out == 0;  // the buffer filled: more output may be waiting
      if (n > 0) RETURN_IF_ERROR(out(std::string_view(buf_.data(), n)));
      if (rc == Z_STREAM_END) {
        ended_ = true;
        in_member_ = false;
        pending_ = false;
      }
    }
    return Status::Ok();
  }
  Status Finish(const Sink&) override {
    if (in_member_) return Corruption("gzip: the stream is truncated");
    return Status::Ok();
  }

 private:
  z_stream z_{};
  std::vector<char> buf_;
  bool ended_ = false, in_member_ = false, pending_ = false;
};

// gzip: each whole member decoded by libdeflate (~2-3x zlib's speed), the input gathered until
// one is whole; members are small in backups (docs/formats.md: one per ~256 KiB of JSON).
// Input that does not decode that way within kMaxGathered bytes (a huge member, damage) or at
// the end goes to zlib's inflater from that member on, which streams and names the error.
class GzipDecompressor : public Decompressor {
 public:
  GzipDecompressor() : d_(libdeflate_alloc_decompressor()), out_(kFirstOut) {
    if (!d_) zlib_ = std::make_unique<ZlibInflater>();
  }
  ~GzipDecompressor() override {
    if (d_) libdeflate_free_decompressor(d_);
  }
  Status Write(std::string_view data, const Sink& out) override {
    if (zlib_) return zlib_->Write(data, out);
    gathered_.append(data);
    return gathered_.size() >= kTryAt ? Drain(false, out) : Status::Ok();
  }
  Status Finish(const Sink& out) override {
    if (!zlib_) RETURN_IF_ERROR(Drain(true, out));
    return zlib_ ? zlib_->Finish(out) : Status::Ok();
  }

 private:
  static constexpr size_t kFirstOut = 1 << 20, kMaxOut = 16 << 20;
  static constexpr size_t kTryAt = 512 << 10, kMaxGathered = 16 << 20;

  // Decodes the whole members at the start of gathered_; at the end (`final`), or when they
  // cannot be decoded so, hands the rest to zlib.
  Status Drain(bool final, const Sink& out) {
    size_t at = 0;
    bool stuck = false;  // the member at `at` does not decode whole: zlib takes over
    while (at < gathered_.size()) {
      size_t used = 0, made = 0;
      auto r = libdeflate_gzip_decompress_ex(d_, gathered_.data() + at, gathered_.size() - at,
                                             out_.data(), out_.size(), &used, &made);
      if (r == LIBDEFLATE_SUCCESS) {
        if (made > 0) RETURN_IF_ERROR(out(std::string_view(out_.data(), made)));
        at += used;
        continue;
      }
      if (r == LIBDEFLATE_INSUFFICIENT_SPACE && out_.size() < kMaxOut) {
        out_.resize(out_.size() * 2);
        continue;
      }
      // Not whole yet, or damaged, or too large: gathering more tells, up to a bound.
      stuck = final || r == LIBDEFLATE_INSUFFICIENT_SPACE || gathered_.size() - at >= kMaxGathered;
      break;
    }
    if (!stuck) {
      gathered_.erase(0, at);
      return Status::Ok();
    }
    zlib_ = std::make_unique<ZlibInflater>();
    std::string rest = gathered_.substr(at);
    gathered_.clear();
    gathered_.shrink_to_fit();
    return zlib_->Write(rest, out);
  }

  libdeflate_decompressor* d_;
  std::vector<char> out_;
  std::string gathered_;
  std::unique_ptr<ZlibInflater> zlib_;  // once the members are not decoded whole
};

class ZstdDecompressor : public Decompressor {
 public:
  ZstdDecompressor() : d_(ZSTD_createDCtx()), buf_(ZSTD_DStreamOutSize()) {}
  ~ZstdDecompressor() override { ZSTD_freeDCtx(d_); }
  Status Write(std::string_view data, const Sink& out) override {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    bool full = false;
    while (in.pos < in.size || full) {
      ZSTD_outBuffer o{buf_.data(), buf_.size(), 0};
      size_t left = ZSTD_decompressStream(d_, &o, &in);
      if (ZSTD_isError(left)) return Corruption(std::string("zstd: ") + ZSTD_getErrorName(left));
      in_frame_ = left != 0;
      full = o.pos == o.size;
      if (o.pos > 0) RETURN_IF_ERROR(out(std::string_view(buf_.data(), o.pos)));
    }
    return Status::Ok();
  }
  Status Finish(const Sink&) override {
    if (in_frame_) return Corruption("zstd: the stream is truncated");
    return Status::Ok();
  }

 private:
  ZSTD_DCtx* d_;
  std::vector<char> buf_;
  bool in_frame_ = false;
};

class PlainDecompressor : public Decompressor {
 public:
  Status Write(std::string_view data, const Sink& out) override {
    return data.empty() ? Status::Ok() : out(data);
  }
  Status Finish(const Sink&) override { return Status::Ok(); }
};

}  // namespace

Result<std::unique_ptr<Decompressor>> MakeDecompressor(const std::string& codec) {
  if (codec == "gzip") return std::unique_ptr<Decompressor>(new GzipDecompressor());
  if (codec == "zstd") return std::unique_ptr<Decompressor>(new ZstdDecompressor());
  if (codec == "none") return std::unique_ptr<Decompressor>(new PlainDecompressor());
  return InvalidArgument("unknown codec '" + codec + "'; expected gzip, zstd or none");
}

Result<std::string> Decompress(const std::string& codec, std::string_view data) {
  if (codec == "none") return std::string(data);
  ASSIGN_OR_RETURN(auto d, MakeDecompressor(codec));
  std::string out;
  auto append = [&](std::string_view piece) {
    out.append(piece);
    return Status::Ok();
  };
  RETURN_IF_ERROR(d->Write(data, append));
  RETURN_IF_ERROR(d->Finish(append));
  return out;
}

}  // namespace di
