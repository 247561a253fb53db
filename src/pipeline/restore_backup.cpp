// The backup as restore reads it (pipeline/restore_internal.h): the backup asked for, and its
// parts streamed (pipeline/backup_read.h) into a database sink as batches of records, with
// errors that say nothing was restored.
#include "pipeline/backup.h"
#include "pipeline/restore_internal.h"

namespace di {
namespace restore_internal {

// The manifest of `run_id`, or of the newest complete backup.
Result<Manifest> FindManifest(ObjectStore& store, const Config& config, const RestoreOptions& o) {
  std::string name = EngineName(o.engine) + "." + o.table;
  std::string key;
  if (!o.run_id.empty()) {
    key = BackupPrefix(config.s3.backup_folder, o.engine, o.table, o.run_id) + "manifest.json";
  } else {
    ASSIGN_OR_RETURN(auto list, ListBackups(store, config.s3.backup_folder, o.engine, o.table));
    if (list.empty())
      return NotFound("no complete backup of " + name + " under " +
                      store.Describe(config.s3.backup_folder + "/" + EngineName(o.engine) + "/" +
                                     o.table + "/") +
                      "; run `data-ingestion --mode backup --table " + o.table + "` first");
    key = list[0].manifest_key;
  }
  auto m = ReadManifest(store, key);
  if (!m.ok() && m.status().code() == StatusCode::kNotFound)
    return NotFound("backup " + o.run_id + " of " + name + " has no manifest (" +
                    store.Describe(key) +
                    "): it is incomplete or does not exist; `--latest` picks the newest "
                    "complete one");
  return m;
}

Status ReadPart(ObjectStore& store, const Manifest& m, const OJ& part, const RestoreOptions& o,
                DatabaseSink* sink, uint64_t* sequence, RestoreResult* result) {
  RecordLines to_target;
  ChangeBatch batch;
  batch.has_records = true;
  if (sink)
    to_target = [&](const std::vector<std::string_view>& lines) {
      batch.sequence = ++*sequence;
      batch.records = lines;
      RETURN_IF_ERROR(sink->Write(batch));
      result->rows += static_cast<int64_t>(lines.size());
      if (o.on_progress) o.on_progress(result->rows, m.doc.value("row_count", int64_t{0}));
      return Status::Ok();
    };
  Status s = StreamPart(store, m, part, o.batch_size, to_target);
  if (s.code() == StatusCode::kNotFound)
    return NotFound("backup " + result->run_id + " is " + s.message() + "; nothing was restored");
  if (s.code() == StatusCode::kCorruption)
    return Corruption(s.message() + "; nothing was restored");
  return s;
}

}  // namespace restore_internal

}  // namespace di
