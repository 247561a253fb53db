// PostgreSQL's change stream (sources/pg_change_stream.h): pgoutput messages to StreamChanges.
#include "sources/pg_change_stream.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/validate.h"
#include "core/strings.h"
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
  bool key_carried = true;                 // the replica identity holds the key: deletes carry it
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
      for (uint32_t oid : t->relations) RETURN_IF_ERROR(OnTruncate(oid, batch));
    }
    return Status::Ok();
  }

  Status OnRelation(const pgoutput::Relation& r) {
    Relation rel;
    const std::string name =
        r.schema.empty() || r.schema == "public" ? r.name : r.schema + "." + r.name;
    if (tables_.count(name)) {
      ASSIGN_OR_RETURN(TableInfo info, source_->Describe(name, "updated_at"));
      if (auto key = o_.primary_key_of.find(name); key != o_.primary_key_of.end())
        info.primary_key = key->second;
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
      rel.key_carried = IdentityCarriesKey(r, *table);
      auto snap = snapshot_of_.find(name);
      if (snap != snapshot_of_.end()) rel.snapshot = snap->second;
      rel.table = std::move(table);
    }
    relations_[r.oid] = std::move(rel);
    return Status::Ok();
  }

  // A delete carries the replica identity's columns only (and an update its old ones only when
  // they changed): whether the key the targets use is among them, or the identity is FULL.
  static bool IdentityCarriesKey(const pgoutput::Relation& r, const TableInfo& table) {
    if (r.replica_identity == 'f') return true;
    return std::all_of(table.primary_key.begin(), table.primary_key.end(), [&](const auto& k) {
      return std::any_of(r.columns.begin(), r.columns.end(),
                         [&](const auto& c) { return c.key && c.name == k; });
    });
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

  // The relation of the change that comes next in its transaction (its sequence taken, into
  // `sequence`); null when the change is not given (not a table of the stream, or in the
  // table's snapshot already).
  Result<const Relation*> Given(uint32_t oid, uint32_t* sequence) {
    auto it = relations_.find(oid);
    if (it == relations_.end())
      return Corruption(where() + ": a change of relation " + std::to_string(oid) +
                        " came before its description");
    *sequence = sequence_++;
    const Relation& rel = it->second;
    if (!rel.table || commit_lsn_ < rel.snapshot) return nullptr;
    return &rel;
  }
  // A change of `rel` at its place in the current transaction, without its row.
  StreamChange Placed(const Relation& rel, ChangeOp op, uint32_t sequence) const {
    StreamChange c;
    c.table = rel.table;
    c.op = op;
    c.position = pgoutput::LsnText(commit_lsn_);
    c.order = commit_lsn_;
    c.sequence = sequence;
    c.commit_micros = commit_micros_;
    return c;
  }

  // A TRUNCATE of one relation: a change without a row (the server sent the relation first).
  Status OnTruncate(uint32_t oid, StreamBatch* batch) {
    uint32_t sequence = 0;
    ASSIGN_OR_RETURN(const Relation* rel, Given(oid, &sequence));
    if (rel) batch->changes.push_back(Placed(*rel, ChangeOp::kTruncate, sequence));
    return Status::Ok();
  }

  // `whole_old`: `old` is the whole old row (REPLICA IDENTITY FULL), which holds the values an
  // update did not send because they did not change.
  Status OnRow(uint32_t oid, ChangeOp op, const pgoutput::Tuple& tuple, const pgoutput::Tuple* old,
               StreamBatch* batch, bool whole_old = false) {
    uint32_t sequence = 0;
    ASSIGN_OR_RETURN(const Relation* given, Given(oid, &sequence));
    if (!given) return Status::Ok();
    const Relation& rel = *given;
    if (!rel.key_carried && op != ChangeOp::kInsert)
      return InvalidArgument(
          where() + ": the key of " + rel.table->name +
          " (the mapping's primary_key: " + JoinHuman(rel.table->primary_key, " and ") +
          ") is not in its replica identity, so its deletes and key changes cannot be applied "
          "by key; run ALTER TABLE " +
          rel.table->name +
          " REPLICA IDENTITY FULL, then --mode migrate for it (its changes before that are "
          "passed over), and start the stream again");
    StreamChange c = Placed(rel, op, sequence);
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
