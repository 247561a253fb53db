#include "sinks/database_sink.h"

namespace di {

Status DatabaseSink::Open(const TableInfo& table, const LogPosition& snapshot) {
  (void)snapshot;  // a restore's load starts no change capture
  backed_up_ = table;
  open_ = true;
  return Begin();
}

Status DatabaseSink::Write(const ChangeBatch& batch) {
  if (!batch.has_records)
    return InvalidArgument(name() + ": a database sink takes backup records, not rows");
  for (size_t i = 0; i < batch.records.size(); ++i)
    if (batch.op(i) != ChangeOp::kInsert)
      return InvalidArgument(name() + ": a " + ChangeOpName(batch.op(i)) +
                             " record: restoring changes is not supported yet (only a "
                             "backup's rows are restored)");
  RETURN_IF_ERROR(Load(batch.records));
  written_ = batch.sequence;
  return Status::Ok();
}

Status DatabaseSink::Finish() {
  open_ = false;
  RETURN_IF_ERROR(Commit());
  durable_ = written_;
  return Status::Ok();
}

}  // namespace di
