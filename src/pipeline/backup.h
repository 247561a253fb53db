// Backup: a table -> JSON Lines (plain for SQL, canonical Extended JSON for MongoDB),
// compressed, streamed into parts of an ObjectStore, then manifest.json written last
// (docs/formats.md). Memory: one batch, the codec window and one upload part.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/change.h"
#include "core/value_order.h"
#include "sinks/object_store.h"
#include "sources/resuming_read.h"
#include "sources/source.h"

namespace di {

class RecordWriter;

struct BackupOptions {
  Compression codec = Compression::kGzip;
  std::string folder = "backups";  // S3_BACKUP_FOLDER
  size_t batch_size = 1000;
  uint64_t part_bytes = 128ull << 20;       // uncompressed bytes per part file
  const std::atomic<bool>* stop = nullptr;  // set: stop at the next batch (nothing listed)
  // Called after each batch with the rows read so far.
  std::function<void(int64_t rows)> on_progress;
  // A dropped source connection: reconnected and the read carried on after the last row read
  // (sources/resuming_read.h).
  ReconnectPolicy reconnect;
};

struct TableBackup {
  Engine engine = Engine::kMySql;
  std::string table;
  std::string run_id;
  int64_t rows = 0;
  uint64_t bytes = 0;  // compressed, as stored
  size_t parts = 0;
  double seconds = 0;
  std::string manifest_key;
  Status status;
};

// "backups/<engine>/<table>/<run-id>/"
std::string BackupPrefix(const std::string& folder, Engine engine, const std::string& table,
                         const std::string& run_id);

// One table's backup being written (docs/formats.md): records appended a batch at a time
// (from cells or Values), compressed into parts of at least part_bytes cut between batches
// (a part holds whole batches), the manifest written last by Finish. Not thread-safe;
// destroyed without Finish, it lists nothing (parts without a manifest are not a backup).
class BackupWriter {
 public:
  BackupWriter(ObjectStore& store, const TableInfo& table, const BackupOptions& options,
               std::string run_id);
  ~BackupWriter();
  // The place in the source's change log the records were read at (the manifest's
  // "snapshot"; none: null).
  void set_snapshot(const LogPosition& p) { snapshot_ = p; }
  // Carries on the backup a stopped run began: its completed `parts` (as completed_parts()
  // listed them) are kept and counted; the next part is numbered after them. Before Append.
  void Resume(const nlohmann::json& parts);
  Status Append(const ChangeBatch& batch);
  // The parts completed so far, as the manifest lists them (durable: they are stored).
  const nlohmann::json& completed_parts() const;
  int64_t rows() const { return rows_; }
  uint64_t bytes() const { return bytes_; }  // stored, of completed parts
  // Ends the last part and writes the manifest (with `watermark`); its key.
  Result<std::string> Finish(const std::optional<Position>& watermark);

 private:
  struct Parts;
  Status StartPart();
  Status EndPart();
  Status RowAdded();

  ObjectStore& store_;
  const TableInfo& table_;
  const BackupOptions options_;
  const std::string run_id_, prefix_, started_;
  std::unique_ptr<RecordWriter> records_;
  std::unique_ptr<Parts> parts_;
  int64_t rows_ = 0;
  uint64_t bytes_ = 0;
  LogPosition snapshot_;
};

// A change-log position as the manifest and the state table keep it:
// {"engine", "position", "file", "offset"} (file and offset: MariaDB), null when empty.
nlohmann::json LogPositionJson(const LogPosition& p);

// Backs one table up; the result carries the status (never throws, never lists a partial
// backup: parts without a manifest are not a backup).
TableBackup BackupTable(Source& source, const TableInfo& table, ObjectStore& store,
                        const BackupOptions& options, const std::string& run_id);

// Appends one backup record (without its newline): a SQL row as an object keyed by column
// (plain JSON), a MongoDB document as canonical Extended JSON. Verify recomputes lines with it.
void AppendRecord(const std::vector<Value>& row, const TableInfo& table, std::string& out);
// (RecordWriter, in sinks/backup_record.h, is the same with the column names encoded once.)

// "20260101T020000Z" for the current UTC second.
std::string MakeRunId(std::chrono::system_clock::time_point now);

// (CompareValues, the order of positions, is in core/value_order.h.)

// The greatest (cursor, key) position among the rows of a full read: what a later
// incremental read starts after. Empty when the table has no cursor (or no key, for SQL).
class HighWater {
 public:
  explicit HighWater(const TableInfo& table);
  void Add(const std::vector<Value>& row);
  // SQL: the row's values of keyset() (cursor, then key), in that order.
  void AddKeyset(const Value* values);
  // Every row of a batch (Values or cells).
  void AddBatch(const ChangeBatch& batch);
  // SQL tables with a cursor and a key: the columns a position is made of; else empty.
  const std::vector<size_t>& keyset() const { return keyset_; }
  const std::optional<Position>& value() const { return high_; }
  // Starts from a high water found before (a resumed read's).
  void Seed(const std::optional<Position>& p) {
    if (track_) high_ = p;
  }
  bool tracked() const { return track_; }

 private:
  const TableInfo& table_;
  bool track_;
  std::vector<size_t> keyset_;
  std::optional<Position> high_;
  // Whether (cursor, key...) is past high_ (or high_ is unset).
  bool Beyond(const Value& cursor, const Value* key, size_t key_size) const;
};

}  // namespace di
