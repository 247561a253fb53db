// A backup read back, for restore and verify (the writer is BackupWriter, pipeline/backup.h;
// the format is docs/formats.md): the complete backups under the backup folder, a backup's
// manifest, and a part streamed once through its sha256 and the decompressor into batches of
// record lines — memory one batch and the codec's window, never a part.
//
// Plain functions over an ObjectStore; thread-safe as the store is. Failures are Status
// values naming the object: NotFound (no such backup or part), Corruption (a manifest that is
// not one, a part that does not match its sha256 or does not decode).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/table.h"
#include "sinks/object_store.h"

namespace di {

// A complete backup as its manifest describes it.
struct BackupListing {
  Engine engine = Engine::kMySql;
  std::string table;
  std::string run_id;
  std::string manifest_key;
  int64_t rows = 0;
  size_t parts = 0;
  uint64_t bytes = 0;
  std::string codec;
  std::string finished_at;
};

// Complete backups (those with a manifest) under the backup folder, newest first; `engine`
// and `table` filter when given. Reads every manifest listed (one that does not parse is
// passed over).
Result<std::vector<BackupListing>> ListBackups(ObjectStore& store, const std::string& folder,
                                               std::optional<Engine> engine,
                                               const std::string& table);

// The manifest key of a table's newest complete backup, from one listing (no manifest is
// read); nullopt when it has none.
// Whether run id `a` is older than `b`: by their time, then by the "-2", "-3"... that a
// second run in the same second gets ("…Z" < "…Z-2" < "…Z-10").
bool RunIdOlder(const std::string& a, const std::string& b);

Result<std::optional<std::string>> LatestManifestKey(ObjectStore& store, const std::string& folder,
                                                     Engine engine, const std::string& table);

struct BackupManifest {
  std::string key;
  nlohmann::ordered_json doc;  // as stored
  // The table as backed up: engine, name, columns (source types, nullability, PostgreSQL
  // enum labels and domain base types; none for MongoDB) and primary key.
  TableInfo table;
  std::string codec;
};

// The manifest at `key`: NotFound when there is none, Corruption when it is not a manifest.
Result<BackupManifest> ReadManifest(ObjectStore& store, const std::string& key);

// A batch of a part's record lines (without their newlines), valid during the call.
using RecordLines = std::function<Status(const std::vector<std::string_view>& lines)>;

// One part of `m` read once: its bytes through SHA-256 and the decompressor, its lines in
// batches of `batch_size` to `on_lines` (null: only checked). A part that does not decode is
// still read to its end, so a corrupted one is reported as such: the sha256 is compared when
// its stream ends, after the lines it gave. An error of `on_lines` stops the read and is
// returned.
Status StreamPart(ObjectStore& store, const BackupManifest& m, const nlohmann::ordered_json& part,
                  size_t batch_size, const RecordLines& on_lines);

}  // namespace di
