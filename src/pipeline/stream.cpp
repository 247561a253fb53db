#include "pipeline/stream.h"

#include <algorithm>
#include <memory>
#include <set>

#include "core/strings.h"
#include "pipeline/run.h"
#include "pipeline/setup.h"
#include "pipeline/stream_sinks.h"
#include "sources/pg_change_stream.h"
#include "sources/pgoutput.h"

namespace di {

StreamState::View StreamState::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

void StreamState::Update(const std::function<void(View&)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  change(view_);
}

namespace {

constexpr auto kLogEvery = std::chrono::seconds(10);

// A message as one log line (libpq's end with "\n\tIs the server running...").
std::string OneLine(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}
constexpr auto kMaxPause = std::chrono::seconds(60);

// The stream's tables: the mapped PostgreSQL tables of the configured database (those named,
// or all), and the tables their items embed (`parents`: each embedded table -> the mapped
// tables embedding it). `from`: each mapped table's snapshot place (StartPlaces).
struct StreamTables {
  std::vector<std::string> mapped;
  std::map<std::string, std::vector<std::string>> parents;
  StreamFrom from;
  std::vector<std::string> All() const {
    std::vector<std::string> all = mapped;
    for (const auto& [t, p] : parents)
      if (std::find(mapped.begin(), mapped.end(), t) == mapped.end()) all.push_back(t);
    return all;
  }
};

bool Named(const TableMapping& m, const std::vector<std::string>& names) {
  return names.empty() || std::find(names.begin(), names.end(), m.table) != names.end() ||
         std::find(names.begin(), names.end(), m.Name()) != names.end();
}

Result<StreamTables> PickStreamTables(const Config& config,
                                      const std::vector<TableMapping>& mapping,
                                      const std::vector<std::string>& names) {
  StreamTables out;
  for (const auto& m : mapping) {
    if (m.engine != Engine::kPostgres || !Named(m, names)) continue;
    if (!m.database.empty() && m.database != config.postgres.database)
      return InvalidArgument(m.Name() + " is in database " + m.database +
                             "; the stream follows POSTGRES_DATABASE (" + config.postgres.database +
                             ") only so far");
    out.mapped.push_back(m.table);
  }
  for (const auto& m : mapping) {
    if (m.engine != Engine::kPostgres || !Named(m, names) || !m.dynamodb) continue;
    for (const auto& e : m.dynamodb->embed) out.parents[e.table].push_back(m.table);
  }
  for (const auto& n : names)
    if (std::none_of(out.mapped.begin(), out.mapped.end(),
                     [&](const std::string& t) { return n == t || n == "postgresql." + t; }))
      return InvalidArgument("--table " + n +
                             ": not a mapped PostgreSQL table (the stream follows PostgreSQL "
                             "only so far)");
  if (out.mapped.empty())
    return InvalidArgument("no mapped PostgreSQL table to stream (MAPPING_FILE maps none)");
  return out;
}

// The mapped tables with no snapshot recorded get one: a migrate of just them (its reads
// share a snapshot exported by a temporary replication slot, whose place it records), so
// the stream takes over from there. Its report is written like any migrate's.
Status TakeInitialSnapshot(const RunWorld& world, const std::vector<TableMapping>& mapping,
                           const StreamTables& tables, const StreamOptions& options,
                           const std::function<void(const std::string&)>& log) {
  std::vector<TableMapping> missing;
  for (const auto& m : mapping) {
    if (m.engine != Engine::kPostgres ||
        std::find(tables.mapped.begin(), tables.mapped.end(), m.table) == tables.mapped.end())
      continue;
    ASSIGN_OR_RETURN(nlohmann::json snap, world.state->GetSnapshot(Engine::kPostgres, m.table));
    if (!snap.is_object() || !snap.contains("snapshot")) missing.push_back(m);
  }
  if (missing.empty()) return Status::Ok();
  std::vector<std::string> names;
  for (const auto& m : missing) names.push_back(m.Name());
  log("stream: no snapshot recorded for " + JoinHuman(names, " and ") +
      ": taking one first (a migrate of " + (names.size() == 1 ? "it" : "them") + ")");
  RunHooks hooks;
  hooks.stop = options.stop;
  RunOutcome out = RunMigrate(world, missing, log, hooks);
  if (out.status == RunState::kSuccess) return Status::Ok();
  if (out.status == RunState::kStopped) return Status::Ok();  // the caller sees the stop
  return Unavailable("the initial snapshot (migrate run " + out.run_id + ") ended " +
                     RunStateName(out.status) +
                     (out.report_key.empty() ? "" : ", report " + out.report_key) +
                     "; mend what its report names and start the stream "
                     "again (the migrate resumes where it stopped)");
}

// Where each table's changes start (its last migrate's snapshot), checked against the slot:
// a snapshot older than the slot's confirmed place is refused unless a stream has followed
// the table since before it (the state table's stream record, kept here).
Status StartPlaces(const RunWorld& world, StreamTables& tables, const std::string& slot_confirmed,
                   PgStreamOptions* o) {
  const std::string task = "postgresql." + world.config.postgres.database;
  ASSIGN_OR_RETURN(nlohmann::json record, world.state->GetTask("stream", task));
  if (!record.is_object()) record = nlohmann::json::object();
  ASSIGN_OR_RETURN(uint64_t slot_at, pgoutput::ParseLsn(slot_confirmed));
  uint64_t start = UINT64_MAX;
  for (const auto& t : tables.mapped) {
    ASSIGN_OR_RETURN(nlohmann::json snap, world.state->GetSnapshot(Engine::kPostgres, t));
    std::string place =
        snap.is_object()
            ? snap.value("snapshot", nlohmann::json::object()).value("position", std::string())
            : std::string();
    if (place.empty())
      return InvalidArgument(
          "postgresql." + t +
          " has no recorded snapshot to stream from: run --mode migrate first (with the slot "
          "in place, it records where each table's copy was read, and the stream starts there)");
    ASSIGN_OR_RETURN(uint64_t at, pgoutput::ParseLsn(place));
    const auto& followed = record["tables"][t];
    auto since = followed.is_string() ? pgoutput::ParseLsn(followed.get<std::string>())
                                      : Result<uint64_t>(NotFound(""));
    const bool covered = since.ok() && *since <= at;
    if (at < slot_at && !covered)
      return InvalidArgument(
          "postgresql." + t + "'s snapshot (" + place + ", migrate run " +
          snap.value("run_id", std::string("?")) + ") is older than the replication slot " +
          o->slot + " (confirmed up to " + slot_confirmed +
          "): the changes in between are not in the slot. Run --mode migrate again: with the "
          "slot in place, its snapshot is after the slot's place");
    if (!covered) record["tables"][t] = place;
    tables.from[t] = at;
    start = std::min(start, at);
  }
  // The stream gives a table's changes from the earliest place a target of it needs: its own
  // copies' snapshot, or that of the items embedding it.
  for (const auto& t : tables.All()) {
    uint64_t at = tables.from.count(t) ? tables.from[t] : UINT64_MAX;
    if (tables.parents.count(t))
      for (const auto& p : tables.parents.at(t)) at = std::min(at, tables.from[p]);
    o->snapshot_of[t] = pgoutput::LsnText(at);
  }
  o->start = pgoutput::LsnText(std::max(start, slot_at));
  return world.state->PutTask("stream", task, record);
}

struct Sinks {
  std::unique_ptr<Source> lookup;
  std::vector<std::unique_ptr<StreamSink>> list;
};

Result<Sinks> OpenSinks(const RunWorld& world, const std::vector<TableMapping>& mapping,
                        const StreamTables& tables, const std::string& run_id) {
  Sinks s;
  const Config& c = world.config;
  s.list.push_back(std::make_unique<ChangeLogSink>(
      world.store, c.s3.backup_folder, c.s3.compression, tables.from,
      std::chrono::seconds(c.stream.change_log_seconds)));
  const bool dynamo = std::any_of(mapping.begin(), mapping.end(), [](const TableMapping& m) {
    return m.engine == Engine::kPostgres && m.dynamodb;
  });
  if (dynamo) {
    ASSIGN_OR_RETURN(s.lookup, world.sources.Open(Engine::kPostgres));
    s.list.push_back(std::make_unique<DynamoStreamSink>(
        mapping, tables.from, *s.lookup, *world.dynamodb, world.store,
        c.s3.analytics_folder + "/dead_letters/stream-" + run_id + "/"));
  }
  if (!c.analytics_database_url.empty())
    s.list.push_back(std::make_unique<WarehouseStreamSink>(c.analytics_database_url, tables.from));
  return s;
}

class Runner {
 public:
  Runner(const RunWorld& world, const std::vector<TableMapping>& mapping,
         const StreamOptions& options, const std::function<void(const std::string&)>& log)
      : world_(world), mapping_(mapping), o_(options), log_(log) {
    state_ = options.state ? options.state : &own_state_;
  }

  Status Run(PgStreamOptions po, const StreamTables& tables) {
    tables_ = &tables;
    const size_t max_changes = std::max(1, world_.config.run.batch_size);
    auto pause = world_.config.run.retry_delay;
    auto last_log = std::chrono::steady_clock::now();
    int64_t logged = 0;
    while (!Stopped()) {
      Status s = Session(po, max_changes, &pause, &last_log, &logged);
      if (Stopped()) {
        if (!s.ok())
          log_(
              "stream: stopping with the last changes unconfirmed (the next start gives them "
              "again): " +
              OneLine(s.message()));
        break;
      }
      if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument) {
        state_->Update([&](StreamState::View& v) {
          v.state = "failed";
          v.last_error = s.message();
        });
        return s;
      }
      const double since =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - last_applied_).count();
      auto slot = PgSlot(po.db, po.slot);  // the WAL the server keeps meanwhile
      state_->Update([&](StreamState::View& v) {
        v.state = "paused";
        v.last_error = s.message();
        ++v.restarts;
        v.lag_seconds = std::max(v.lag_seconds, applied_lag_ + since);  // nothing applied since
        if (slot.ok()) v.lag_bytes = slot->retained_bytes;
      });
      log_("stream paused: " + OneLine(s.message()) + "; trying again in " +
           std::to_string(pause.count()) + " ms from " + state_->Get().confirmed +
           (slot.ok()
                ? " (the slot holds " + std::to_string(slot->retained_bytes) + " bytes of WAL)"
                : ""));
      Sleep(pause);
      pause = std::min<std::chrono::milliseconds>(pause * 2, kMaxPause);
    }
    state_->Update([](StreamState::View& v) { v.state = "stopped"; });
    auto v = state_->Get();
    log_("stream: " + std::to_string(v.changes) + " changes applied in all; confirmed " +
         v.confirmed);
    return Status::Ok();
  }

  StreamState* state() { return state_; }

 private:
  bool Stopped() const { return caught_up_ || (o_.stop && o_.stop->load()); }

  // With --catch-up: whether `place` (applied, between transactions) reached the end.
  bool Reached(const std::string& place) const {
    if (!end_ || place.empty()) return false;
    auto at = pgoutput::ParseLsn(place);
    return at.ok() && *at >= end_;
  }

  static bool Holding(const Sinks& sinks) {
    return std::any_of(sinks.list.begin(), sinks.list.end(),
                       [](const auto& s) { return s->holding(); });
  }
  // Everything held made durable, then `pending` confirmed (a stop, or the catch-up's end).
  static Status FlushAndConfirm(Sinks& sinks, ChangeStream& stream, std::string* pending) {
    for (auto& sink : sinks.list)
      if (Status s = sink->Flush(); !s.ok()) return Unavailable(sink->name() + ": " + s.message());
    if (pending->empty()) return Status::Ok();
    RETURN_IF_ERROR(stream.Confirm(*pending));
    pending->clear();
    return Status::Ok();
  }

  void Sleep(std::chrono::milliseconds d) {
    SleepUnless(world_.clock, d, [this] { return Stopped(); });
  }

  // One replication session: opened from the slot's confirmed place, read and applied until
  // stopped (OK) or an error.
  Status Session(const PgStreamOptions& po, size_t max_changes, std::chrono::milliseconds* pause,
                 std::chrono::steady_clock::time_point* last_log, int64_t* logged) {
    ASSIGN_OR_RETURN(auto sinks, OpenSinks(world_, mapping_, *tables_, run_id_));
    ASSIGN_OR_RETURN(auto stream, OpenPgChangeStream(po));
    state_->Update([&](StreamState::View& v) {
      v.state = "running";
      v.where = stream->where();
      v.confirmed = stream->Confirmed();
    });
    log_("stream: following " + stream->where() + " from " + stream->Confirmed());
    StreamBatch batch;
    std::string pending;  // a place applied, not yet confirmed
    bool mid = false;     // the last batch ended inside a source transaction
    while (!Stopped()) {
      RETURN_IF_ERROR(stream->Next(&batch, max_changes, o_.wait));
      for (const auto& w : batch.warnings) log_("stream: WARNING " + w);
      const bool counted = !batch.changes.empty();
      batches_ += counted ? 1 : 0;
      for (auto& sink : sinks.list) {
        if (Status s = sink->Apply(batch); !s.ok())
          return Status(
              s.code() == StatusCode::kInvalidArgument ? s.code() : StatusCode::kUnavailable,
              sink->name() + ": " + s.message());
        if (counted && o_.after) o_.after(sink->name(), batches_);
      }
      // A sink may hold a batch that ends inside a source transaction open until the batch
      // that ends it (the warehouse's one transaction): only then is the place confirmed;
      // and not while a sink holds changes (the change log gathering an object's worth).
      if (!batch.resume.empty()) pending = batch.resume;
      mid = batch.mid_transaction;
      const bool end = !mid && (Reached(pending) || Reached(stream->Confirmed()));
      if (end) RETURN_IF_ERROR(FlushAndConfirm(sinks, *stream, &pending));
      if (!mid && !pending.empty() && !Holding(sinks)) {
        RETURN_IF_ERROR(stream->Confirm(pending));
        pending.clear();
      }
      if (counted && o_.after) o_.after("confirmed", batches_);
      *pause = world_.config.run.retry_delay;  // a batch went through: the next pause is short
      Report(batch, *stream);
      if (end) {
        caught_up_ = true;
        break;
      }
      if (std::chrono::steady_clock::now() - *last_log > kLogEvery) {
        auto v = state_->Get();
        log_("stream: " + std::to_string(v.changes - *logged) + " changes in the last " +
             std::to_string(kLogEvery.count()) + " s, " + std::to_string(v.changes) +
             " in all; confirmed " + v.confirmed + ", lag " + std::to_string(v.lag_bytes) +
             " bytes");
        *logged = v.changes;
        *last_log = std::chrono::steady_clock::now();
      }
    }
    // Stopped between transactions: what the sinks hold is made durable and confirmed.
    if (!mid && !caught_up_) RETURN_IF_ERROR(FlushAndConfirm(sinks, *stream, &pending));
    state_->Update([&](StreamState::View& v) { v.confirmed = stream->Confirmed(); });
    return Status::Ok();
  }

  void Report(const StreamBatch& batch, const ChangeStream& stream) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::microseconds>(world_.clock.Now().time_since_epoch())
            .count();
    state_->Update([&](StreamState::View& v) {
      v.state = "running";
      v.last_error.clear();
      v.confirmed = stream.Confirmed();
      v.lag_bytes = stream.LagBytes();
      v.changes += static_cast<int64_t>(batch.changes.size());
      for (const auto& c : batch.changes)
        ++v.per_table[EngineName(c.table->engine) + "." + c.table->name][ChangeOpName(c.op)];
      v.lag_seconds = batch.changes.empty()
                          ? 0
                          : std::max<double>(0, (now - batch.changes.back().commit_micros) / 1e6);
      applied_lag_ = v.lag_seconds;
    });
    last_applied_ = std::chrono::steady_clock::now();
  }

  const RunWorld& world_;
  const std::vector<TableMapping>& mapping_;
  const StreamOptions& o_;
  const std::function<void(const std::string&)>& log_;
  StreamState own_state_;
  StreamState* state_;
  std::string run_id_ = "stream";
  const StreamTables* tables_ = nullptr;
  int64_t batches_ = 0;  // with changes, since the start
  uint64_t end_ = 0;     // --catch-up: the place to reach (0: none)
  bool caught_up_ = false;
  double applied_lag_ = 0;  // the lag when the last batch was applied, and when that was
  std::chrono::steady_clock::time_point last_applied_ = std::chrono::steady_clock::now();

 public:
  void set_run_id(std::string id) { run_id_ = std::move(id); }
  void set_end(uint64_t lsn) { end_ = lsn; }
};

}  // namespace

Status RunStream(const RunWorld& world, const std::vector<TableMapping>& mapping,
                 const StreamOptions& options, const std::function<void(const std::string&)>& log) {
  if (!world.state || !world.dynamodb)
    return InvalidArgument(
        "stream needs AWS (S3_BUCKET_NAME must be an S3 bucket, with AWS credentials): its "
        "positions live in the state table");
  Runner runner(world, mapping, options, log);
  runner.state()->Update([](StreamState::View& v) { v.state = "starting"; });
  ASSIGN_OR_RETURN(StreamTables tables, PickStreamTables(world.config, mapping, options.tables));
  PgStreamOptions po;
  po.db = world.config.postgres;
  ASSIGN_OR_RETURN(po.source_tz, TimeZone::Load(world.config.run.source_tz));
  po.slot = StreamSlotName(world.config, world.config.postgres.database);
  po.publication = world.config.stream.publication;
  po.tables = tables.All();
  for (const auto& m : mapping)
    if (m.engine == Engine::kPostgres && !m.primary_key.empty())
      po.primary_key_of[m.table] = m.primary_key;
  ASSIGN_OR_RETURN(PgSlotStatus slot, PgSlot(po.db, po.slot));
  RETURN_IF_ERROR(TakeInitialSnapshot(world, mapping, tables, options, log));
  if (options.stop && options.stop->load()) return Status::Ok();
  RETURN_IF_ERROR(StartPlaces(world, tables, slot.confirmed, &po));
  if (options.catch_up) {
    ASSIGN_OR_RETURN(std::string end, PgMarkEnd(po.db));
    ASSIGN_OR_RETURN(uint64_t lsn, pgoutput::ParseLsn(end));
    runner.set_end(lsn);
    log("stream: catching up to " + end + ", then stopping");
  }
  const auto now = world.clock.Now();
  runner.set_run_id(std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()));
  return runner.Run(po, tables);
}

}  // namespace di
