// PgReplication: one walsender connection (replication=database) to a PostgreSQL database,
// for logical replication with pgoutput (sources/pgoutput.h): the server's settings checked,
// a slot created, the stream started from a position, its frames read as they come, and the
// position the slot may confirm sent back. What `--mode stream` reads PostgreSQL through.
//
// Owns its connection (closed when destroyed; a TEMPORARY slot goes with it). Not
// thread-safe: one thread reads and confirms. Failures are Status values naming the server
// and, where the server is not set up for it, the setting to change; none throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "sources/pgoutput.h"

typedef struct pg_conn PGconn;

namespace di {

class PgReplication {
 public:
  // Connected, the session's output settings those of the source's reads (TimeZone UTC,
  // ISO dates, exact floats, hex bytea): an error names the server, and the REPLICATION
  // attribute and pg_hba.conf's 'replication' line when those are what refuse it.
  static Result<std::unique_ptr<PgReplication>> Connect(const SqlSettings& s);
  ~PgReplication();
  PgReplication(const PgReplication&) = delete;
  PgReplication& operator=(const PgReplication&) = delete;

  // wal_level = logical, max_replication_slots and max_wal_senders above 0: else
  // InvalidArgument naming the setting, its value and what to set.
  Status CheckServer();

  struct Slot {
    std::string name;
    uint64_t consistent_point = 0;  // changes committed after it are streamed
    std::string snapshot;           // exported snapshot (when asked), while this session idles
  };
  // CREATE_REPLICATION_SLOT for pgoutput; `name`: lowercase letters, digits and '_'.
  Result<Slot> CreateSlot(const std::string& name, bool temporary, bool export_snapshot);
  // --- set up by `--mode setup --with-stream` (sources/pg_stream_setup.cpp); each answers
  // what it made (created: new or changed) or found, or an error naming the server and the
  // fix.
  struct SetupStep {
    bool created = false;
    std::string what;  // "publication data_ingestion (postgresql://…: users, reservations)"
  };
  // The publication `name` covers `tables` (schema public): created with them, or the
  // missing ones added. Refused, before anything changes, for a table that does not exist
  // or whose replica identity gives a delete no key (no primary key and REPLICA IDENTITY
  // DEFAULT, or NOTHING), naming the table and the two fixes.
  Result<SetupStep> EnsurePublication(const std::string& name,
                                      const std::vector<std::string>& tables);
  // The permanent pgoutput slot `name` of this database: created when missing (changes from
  // then on are kept for it), kept when there; refused when a slot of that name belongs to
  // another database or plugin.
  Result<SetupStep> EnsureSlot(const std::string& name);
  // A delete of `table` carries `column` (a child table whose rows an item embeds: its
  // deletes must name their parent): the column is in the primary key, or the table's
  // replica identity is made FULL.
  Result<SetupStep> EnsureIdentityHas(const std::string& table, const std::string& column);
  // Simple-protocol SQL on this connection (a replication=database walsender takes it): the
  // rows as text (NULL as ""), an error naming the server and the statement's failure.
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql);

  // START_REPLICATION of `slot` from `from` (0: the slot's confirmed position) with
  // proto_version 1 and `publication`. Transactions that committed before `from` are not sent.
  Status Start(const std::string& slot, const std::string& publication, uint64_t from);
  // The next frame, waiting up to `wait`: nullopt when none came in time. Its views stay valid
  // until the next call. An error when the stream ends or the connection drops.
  Result<std::optional<pgoutput::Frame>> Next(std::chrono::milliseconds wait);
  // A standby status update: `flushed` is the position the slot may confirm (everything
  // before it durably applied); `now_unix_micros` the client's clock.
  Status Confirm(uint64_t flushed, int64_t now_unix_micros, bool reply_requested = false);

  const std::string& where() const { return where_; }

 private:
  PgReplication(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  Result<std::string> Show(const std::string& setting);
  void FreeFrame();

  PGconn* conn_;
  std::string where_;
  char* frame_ = nullptr;  // the last frame PQgetCopyData gave
};

}  // namespace di
