#include "sinks/compressor.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

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

Result<std::string> Decompress(const std::string& codec, std::string_view data) {
  std::string out;
  if (codec == "none") return std::string(data);
  char buf[64 * 1024];
  if (codec == "gzip") {
    z_stream z{};
    inflateInit2(&z, 15 + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    int rc = Z_OK;
    while (true) {
      if (rc == Z_STREAM_END) {  // a member ended: another may follow
        if (z.avail_in == 0) break;
        inflateReset(&z);
      }
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        inflateEnd(&z);
        return Corruption("gzip: the data is not a valid gzip stream");
      }
      out.append(buf, sizeof buf - z.avail_out);
      if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
        inflateEnd(&z);
        return Corruption("gzip: the stream is truncated");
      }
    }
    inflateEnd(&z);
    return out;
  }
  if (codec == "zstd") {
    ZSTD_DCtx* d = ZSTD_createDCtx();
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    size_t last = 1;
    while (in.pos < in.size) {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      last = ZSTD_decompressStream(d, &o, &in);
      if (ZSTD_isError(last)) {
        ZSTD_freeDCtx(d);
        return Corruption(std::string("zstd: ") + ZSTD_getErrorName(last));
      }
      out.append(buf, o.pos);
    }
    ZSTD_freeDCtx(d);
    if (last != 0) return Corruption("zstd: the stream is truncated");
    return out;
  }
  return InvalidArgument("unknown codec '" + codec + "'; expected gzip, zstd or none");
}

}  // namespace di
