// Streaming compressors for backup parts: gzip (zlib; whole members: libdeflate), zstd, or none.
// Each call appends compressed bytes to `out`; memory is the codec's window, not the data. Not
// thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/status.h"

namespace di {

class Compressor {
 public:
  virtual ~Compressor() = default;
  virtual Status Write(std::string_view data, std::string& out) = 0;
  virtual Status Finish(std::string& out) = 0;  // ends the stream (gzip member, zstd frame)
  virtual void Reset() = 0;                     // after Finish: ready for a new stream
  // `data` as one whole stream (a gzip member, a zstd frame) appended to `out`; between
  // streams only (not after a Write without its Finish). gzip: libdeflate at level 1, ~1.7x
  // zlib's speed at the same level, and smaller.
  virtual Status Whole(std::string_view data, std::string& out);
};

std::unique_ptr<Compressor> MakeCompressor(Compression codec);
std::string CodecName(Compression codec);       // "gzip", "zstd", "none"
std::string CodecExtension(Compression codec);  // ".gz", ".zst", ""
// Streaming decompression, for restore: compressed bytes in as they arrive, decompressed
// bytes handed to `out` in pieces (each valid during the call only); memory is the codec's
// window and one output buffer, not the data. gzip continues past each member's end (a part is
// a series of members, RFC 1952 §2.2); zstd likewise past each frame. Not thread-safe.
class Decompressor {
 public:
  using Sink = std::function<Status(std::string_view)>;
  virtual ~Decompressor() = default;
  // A Corruption status for data that is not of the codec; an error of `out` is returned as is.
  virtual Status Write(std::string_view data, const Sink& out) = 0;
  // The input ended: what is left goes to `out`; a Corruption status when the input stopped
  // inside a member or frame.
  virtual Status Finish(const Sink& out) = 0;
};

// `codec` as CodecName gives it; an unknown codec is an InvalidArgument.
Result<std::unique_ptr<Decompressor>> MakeDecompressor(const std::string& codec);

// Whole-buffer decompression, for verify and restore. `codec` as CodecName gives it. A gzip
// file may hold several members one after the other (RFC 1952 §2.2; backups write them): their
// contents are joined, as gunzip does.
Result<std::string> Decompress(const std::string& codec, std::string_view data);

}  // namespace di
