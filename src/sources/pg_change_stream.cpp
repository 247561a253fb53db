// PostgreSQL's change stream (sources/pg_change_stream.h): pgoutput messages to StreamChanges.
#include "sources/pg_change_stream.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/validate.h"
#include "sources/pg_replication.h"
#include "sources/postgres_internal.h"

namespace di {
namespace {

using postgres_internal::ColumnConv;
using postgres_internal::PgSource;
using Clock = std::chrono::steady_clock;

// Keep the walsender from timing the session out (wal_sender_timeout, 60 s by default).
constexpr auto kStatusEvery = std::chrono::seconds(10);

// What the stream knows of a relation the server described.
struct Relation {
  std::shared_ptr<const TableInfo> table;  // null: not a table of this stream
  std::vector<int> column_of;              // per relation column: the table's column, or -1
  std::vector<ColumnConv> convs;           // per table column
  std::vector<size_t> key;                 // the table's primary key columns
  uint64_t snapshot = 0;                   // changes committed before it are passed over
};

class PgChangeStream : public ChangeStream {
 public:
  PgChangeStream(PgStreamOptions o, std::unique_ptr<PgReplication> repl,
                 std::unique_ptr<PgSource> source)
      : o_(std::move(o)),
        repl_(std::move(repl)),
        source_(std::move(source)),
        tables_(o_.tables.begin(), o_.tables.end()) {}

  Status Start(uint64_t slot_confirmed) {
    uint64_t from = 0;
    if (!o_.start.empty()) {
      ASSIGN_OR_RETURN(from, pgoutput::ParseLsn(o_.start));
    }
    confirmed_ = std::max(from, slot_confirmed);
    for (const auto& [table, lsn] : o_.snapshot_of) {
      ASSIGN_OR_RETURN(uint64_t at, pgoutput::ParseLsn(lsn));
      snapshot_of_[table] = at;
    }
    RETURN_IF_ERROR(repl_->Start(o_.slot, o_.publication, from));
    last_status_ = Clock::now();
    return Status::Ok();
  }

  Status Next(StreamBatch* batch, size_t max_changes, std::chrono::milliseconds wait) override {
    batch->clear();
    const auto deadline = Clock::now() + wait;
    while (batch->changes.size() < max_changes) {
      // Hand a batch over as soon as its last transaction ended and nothing more waits.
      const bool have = !batch->changes.empty() || !batch->resume.empty();
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (have && !in_transaction_) left = std::chrono::milliseconds(0);
      if (left.count() < 0) left = std::chrono::milliseconds(0);
      ASSIGN_OR_RETURN(auto frame, repl_->Next(left));
      if (!frame) break;
      if (auto* k = std::get_if<pgoutput::Keepalive>(&*frame)) {
        RETURN_IF_ERROR(OnKeepalive(*k, batch));
        continue;
      }
      const auto& x = std::get<pgoutput::XLogData>(*frame);
      log_end_ = std::max(log_end_, x.wal_end);
      ASSIGN_OR_RETURN(auto message, pgoutput::ParseMessage(x.message));
      RETURN_IF_ERROR(OnMessage(message, batch));
    }
    batch->mid_transaction = in_transaction_;
    if (Clock::now() - last_status_ > kStatusEvery) RETURN_IF_ERROR(SendStatus(false));
    return Status::Ok();
  }

  Status Confirm(const std::string& position) override {
    ASSIGN_OR_RETURN(uint64_t lsn, pgoutput::ParseLsn(position));
    confirmed_ = std::max(confirmed_, lsn);
    return SendStatus(false);
  }

  std::string Confirmed() const override { return pgoutput::LsnText(confirmed_); }
  int64_t LagBytes() const override {
    return log_end_ > confirmed_ ? static_cast<int64_t>(log_end_ - confirmed_) : 0;
  }
  std::string where() const override { return repl_->where() + " slot " + o_.slot; }

 private:
  Status SendStatus(bool reply) {
    last_status_ = Clock::now();
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return repl_->Confirm(confirmed_, now.count(), reply);
  }

  Status OnKeepalive(const pgoutput::Keepalive& k, StreamBatch* batch) {
    log_end_ = std::max(log_end_, k.wal_end);
    // Between transactions, everything before the server's end of WAL has been sent: once
    // what this batch holds is applied, the slot may move there (else an idle stream of a
    // busy server would hold its WAL for ever).
    if (!in_transaction_ && k.wal_end > confirmed_) batch->resume = pgoutput::LsnText(k.wal_end);
    if (k.reply_requested) return SendStatus(false);
    return Status::Ok();
  }

  Status OnMessage(const pgoutput::Message& m, StreamBatch* batch) {
    if (auto* b = std::get_if<pgoutput::Begin>(&m)) {
      in_transaction_ = true;
      commit_lsn_ = b->final_lsn;
      commit_micros_ = pgoutput::UnixMicros(b->commit_time);
      sequence_ = 0;
      return Status::Ok();
    }
    if (auto* c = std::get_if<pgoutput::Commit>(&m)) {
      in_transaction_ = false;
      batch->resume = pgoutput::LsnText(c->end_lsn);
      return Status::Ok();
    }
    if (auto* r = std::get_if<pgoutput::Relation>(&m)) return OnRelation(*r);
    if (auto* i = std::get_if<pgoutput::Insert>(&m))
      return OnRow(i->relation, ChangeOp::kInsert, i->row, nullptr, batch);
    if (auto* u = std::get_if<pgoutput::Update>(&m))
      return OnRow(u->relation, ChangeOp::kUpdate, u->row, u->old_kind ? &u->old : nullptr, batch,
                   u->old_kind == 'O');
    if (auto* d = std::get_if<pgoutput::Delete>(&m))
      return OnRow(d->relation, ChangeOp::kDelete, d->old, nullptr, batch);
    if (auto* t = std::get_if<pgoutput::Truncate>(&m)) {
      for (uint32_t oid : t->relations) {
        auto it = relations_.find(oid);
        if (it != relations_.end() && it->second.table)
          batch->warnings.push_back("TRUNCATE of " + it->second.table->name + " at " +
                                    pgoutput::LsnText(commit_lsn_) +
                                    " is not applied to the targets; run --mode migrate again "
                                    "to copy the table anew");
      }
    }
    return Status::Ok();
  }

  Status OnRelation(const pgoutput::Relation& r) {
    Relation rel;
    const std::string name =
        r.schema.empty() || r.schema == "public" ? r.name : r.schema + "." + r.name;
    if (tables_.count(name)) {
      ASSIGN_OR_RETURN(TableInfo info, source_->Describe(name, "updated_at"));
      auto table = std::make_shared<const TableInfo>(std::move(info));
      ASSIGN_OR_RETURN(const std::vector<ColumnConv>* convs, source_->ConvsOf(*table));
      rel.convs = *convs;
      for (const auto& c : r.columns) {
        int at = -1;
        for (size_t i = 0; i < table->columns.size(); ++i)
          if (table->columns[i].name == c.name) at = static_cast<int>(i);
        rel.column_of.push_back(at);
      }
      for (const auto& k : table->primary_key)
        for (size_t i = 0; i < table->columns.size(); ++i)
          if (table->columns[i].name == k) rel.key.push_back(i);
      auto snap = snapshot_of_.find(name);
      if (snap != snapshot_of_.end()) rel.snapshot = snap->second;
      rel.table = std::move(table);
    }
    relations_[r.oid] = std::move(rel);
    return Status::Ok();
  }

  // The tuple's cells as a row of the table: a column the relation did not send, or sent
  // as an unchanged TOAST value, is NULL and marked unchanged.
  void ToRow(const Relation& rel, const pgoutput::Tuple& tuple, std::vector<Value>* row,
             std::vector<bool>* unchanged) {
    const size_t n = rel.table->columns.size();
    row->assign(n, Value(Null{}));
    std::vector<bool> sent(n, false), same(n, false);
    for (size_t i = 0; i < tuple.size() && i < rel.column_of.size(); ++i) {
      const int at = rel.column_of[i];
      if (at < 0) continue;
      const auto& cell = tuple[i];
      sent[at] = cell.kind != pgoutput::Cell::kUnchanged;
      same[at] = !sent[at];
      if (cell.kind == pgoutput::Cell::kText)
        (*row)[at] = source_->Convert(rel.convs[at], cell.data);
    }
    if (!unchanged) return;
    bool any = false;
    for (size_t i = 0; i < n; ++i) any = any || !sent[i];
    if (any) {
      unchanged->assign(n, false);
      for (size_t i = 0; i < n; ++i) (*unchanged)[i] = !sent[i];
    }
  }

  // `whole_old`: `old` is the whole old row (REPLICA IDENTITY FULL), which holds the values an
  // update did not send because they did not change.
  Status OnRow(uint32_t oid, ChangeOp op, const pgoutput::Tuple& tuple, const pgoutput::Tuple* old,
               StreamBatch* batch, bool whole_old = false) {
    auto it = relations_.find(oid);
    if (it == relations_.end())
      return Corruption(where() + ": a change of relation " + std::to_string(oid) +
                        " came before its description");
    const Relation& rel = it->second;
    const uint32_t sequence = sequence_++;
    if (!rel.table || commit_lsn_ < rel.snapshot) return Status::Ok();
    StreamChange c;
    c.table = rel.table;
    c.op = op;
    c.position = pgoutput::LsnText(commit_lsn_);
    c.order = commit_lsn_;
    c.sequence = sequence;
    c.commit_micros = commit_micros_;
    ToRow(rel, tuple, &c.row, op == ChangeOp::kDelete ? nullptr : &c.unchanged);
    if (old) {
      std::vector<Value> old_row;
      ToRow(rel, *old, &old_row, nullptr);
      bool moved = false;
      for (size_t k : rel.key) moved = moved || !(old_row[k] == c.row[k]);
      if (moved)
        for (size_t k : rel.key) c.old_key.push_back(old_row[k]);
      if (whole_old && c.has_unchanged()) {
        for (size_t i = 0; i < c.row.size(); ++i)
          if (c.unchanged[i]) c.row[i] = old_row[i];
        c.unchanged.clear();
      }
      if (whole_old) c.old_row = std::move(old_row);
    }
    batch->changes.push_back(std::move(c));
    return Status::Ok();
  }

  PgStreamOptions o_;
  std::unique_ptr<PgReplication> repl_;
  std::unique_ptr<PgSource> source_;
  std::set<std::string> tables_;
  std::map<std::string, uint64_t> snapshot_of_;
  std::map<uint32_t, Relation> relations_;
  bool in_transaction_ = false;
  uint64_t commit_lsn_ = 0;
  int64_t commit_micros_ = 0;
  uint32_t sequence_ = 0;
  uint64_t confirmed_ = 0, log_end_ = 0;
  Clock::time_point last_status_;
};

}  // namespace

Result<PgSlotStatus> PgSlot(const SqlSettings& db, const std::string& slot) {
  RETURN_IF_ERROR(ValidateReplicationName(slot));
  ASSIGN_OR_RETURN(auto repl, PgReplication::Connect(db));
  ASSIGN_OR_RETURN(auto rows,
                   repl->Query("SELECT confirmed_flush_lsn, database, plugin, current_database(), "
                               "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM "
                               "pg_replication_slots WHERE slot_name = '" +
                               slot + "'"));
  if (rows.empty() || rows[0][1] != rows[0][3] || rows[0][2] != "pgoutput")
    return NotFound(repl->where() + ": there is no pgoutput replication slot '" + slot +
                    "' for this database; run --mode setup --with-stream (it creates the "
                    "publication and the slot)");
  return PgSlotStatus{rows[0][0], std::atoll(rows[0][4].c_str())};
}

Result<std::string> PgMarkEnd(const SqlSettings& db) {
  ASSIGN_OR_RETURN(auto repl, PgReplication::Connect(db));
  auto rows =
      repl->Query("SELECT pg_logical_emit_message(false, 'data-ingestion', 'catch-up')::text");
  if (!rows.ok())
    return Status(rows.status().code(),
                  repl->where() + ": could not mark where the stream catches up (" +
                      rows.status().message() +
                      "); the user needs EXECUTE on pg_logical_emit_message, or run the stream "
                      "without --catch-up");
  if (rows->empty()) return Internal(repl->where() + ": pg_logical_emit_message gave no place");
  return (*rows)[0][0];
}

Result<std::unique_ptr<ChangeStream>> OpenPgChangeStream(const PgStreamOptions& options) {
  ASSIGN_OR_RETURN(PgSlotStatus slot, PgSlot(options.db, options.slot));
  ASSIGN_OR_RETURN(uint64_t slot_at, pgoutput::ParseLsn(slot.confirmed));
  ASSIGN_OR_RETURN(auto repl, PgReplication::Connect(options.db));
  RETURN_IF_ERROR(repl->CheckServer());
  auto source = std::make_unique<PgSource>(SqlSourceOptions{options.db, options.source_tz});
  RETURN_IF_ERROR(source->Connect());
  auto stream = std::make_unique<PgChangeStream>(options, std::move(repl), std::move(source));
  if (Status s = stream->Start(slot_at); !s.ok()) {
    if (s.message().find("is active for PID") != std::string::npos)
      return Unavailable(s.message() +
                         " (another stream reads this slot: stop it first, or give this "
                         "one its own STREAM_SLOT)");
    return s;
  }
  return std::unique_ptr<ChangeStream>(std::move(stream));
}

}  // namespace di
