// DatabaseSink: one table of a MySQL/MariaDB, PostgreSQL or MongoDB database that a restore
// loads (pipeline/restore.h). It takes backup records (docs/formats.md, Records) and owns
// their encoding into the engine: COPY text (PostgreSQL), multi-row INSERTs (MySQL), BSON
// documents (MongoDB), the manifest's types deciding each value's text.
//
// Open(table) begins the load in the way SetLoad chose (create the table from `table`'s
// columns, replace it, or add to it) and opens the transaction; Write loads a batch of
// records; Finish commits (PostgreSQL and MySQL: one transaction; a created or replaced MySQL
// table and MongoDB collection are staged and renamed into place), after which Durable()
// covers every batch. A sink destroyed without Finish undoes the load: rolled back, the
// staging table or collection dropped. Change records (updates, deletes) are refused until
// point-in-time restore applies them.
//
// One thread at a time, like every Sink. Each sink owns its connection and closes it.
// Failures are Status values naming the target ("postgresql://host:5432/db table t: …");
// none throws.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/time_util.h"
#include "sinks/sink.h"

namespace di {

// How a restore meets the target table.
struct LoadMode {
  bool create = false;   // the table is missing: make it from the backup's columns
  bool replace = false;  // the existing table is replaced by the backup's
};

class DatabaseSink : public Sink {
 public:
  // The target table's columns in order; nullopt when it does not exist (MongoDB: an empty
  // list for an existing collection).
  virtual Result<std::optional<std::vector<std::string>>> Columns() = 0;
  virtual Result<bool> HasRows() = 0;
  // Whether a load that fails midway (before Finish) leaves the target as it was; when not,
  // the caller verifies every part before the first write.
  virtual bool AllOrNothing(LoadMode mode) const {
    (void)mode;
    return true;
  }
  // Before Open.
  void SetLoad(LoadMode mode) { mode_ = mode; }
  // What the load could not keep exactly (a type the target lacks, restored as text).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The Sink calls, the same for every engine: each checks and counts, the engine's Begin,
  // Load and Commit do the work.
  Status Open(const TableInfo& table, const LogPosition& snapshot) final;
  Status Write(const ChangeBatch& batch) final;  // insert records only
  Status Finish() final;
  uint64_t Durable() const final { return durable_; }
  bool TakesCells() const final { return false; }
  bool TakesRecords() const final { return true; }

 protected:
  // Begins the load of `backed_up_` (the backup's columns and key) as `mode_` says.
  virtual Status Begin() = 0;
  // Loads a batch of records (each one line of docs/formats.md, Records).
  virtual Status Load(const std::vector<std::string_view>& records) = 0;
  // Makes the load durable: the commit, the staged table renamed into place.
  virtual Status Commit() = 0;
  // A load that did not finish: nothing of it stays. Best effort: errors are ignored. Each
  // engine's destructor calls it while open() (a base destructor cannot).
  virtual void Abort() = 0;
  // Between Open and Finish (or Abort): a load to undo if the sink is destroyed.
  bool open() const { return open_; }
  void Closed() { open_ = false; }

  TableInfo backed_up_;  // from Open
  LoadMode mode_;
  std::vector<std::string> warnings_;

 private:
  bool open_ = false;
  uint64_t written_ = 0;  // the sequence of the last batch written
  uint64_t durable_ = 0;  // set to written_ by Finish
};

// Each engine's sink for `table` (PostgreSQL: schema.table outside public), connected (a
// connection error names the target). `tz` is the zone the source's naive date-times were
// read in (SOURCE_TZ): they go back as wall time in it.
Result<std::unique_ptr<DatabaseSink>> ConnectPostgresSink(const SqlSettings& s,
                                                          const std::string& table,
                                                          std::shared_ptr<const TimeZone> tz);
Result<std::unique_ptr<DatabaseSink>> ConnectMySqlSink(const SqlSettings& s,
                                                       const std::string& table,
                                                       std::shared_ptr<const TimeZone> tz);
Result<std::unique_ptr<DatabaseSink>> ConnectMongoSink(const MongoSettings& s,
                                                       const std::string& collection);

}  // namespace di
