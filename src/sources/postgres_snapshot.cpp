// The PostgreSQL source's pinned snapshot (sources/postgres_internal.h): a temporary logical
// replication slot, made on a walsender connection, exports the snapshot that the ordered
// reads' transaction imports, and gives its LSN, where change capture starts. Another source
// (a table's lookups) joins that snapshot by importing it too.
#include <libpq-fe.h>

#include <unistd.h>

#include <atomic>

#include "core/strings.h"
#include "sources/postgres_internal.h"

namespace di::postgres_internal {

Result<LogPosition> PgSource::PinSnapshot() {
  ReleaseSnapshot();
  ASSIGN_OR_RETURN(auto wal, Query("SHOW wal_level", {}));
  if (wal.empty() || wal[0][0] != "logical")
    return InvalidArgument(
        Where() + ": wal_level is '" + (wal.empty() ? "" : wal[0][0]) +
        "', so a snapshot's place in the WAL cannot be pinned for change capture; set "
        "wal_level = logical (with max_replication_slots and max_wal_senders above 0) and "
        "restart the server");
  repl_ = Open(true);
  if (PQstatus(repl_) != CONNECTION_OK) {
    Status s = InvalidArgument(Where() +
                               ": no replication connection to pin a snapshot (the user needs the "
                               "REPLICATION attribute and pg_hba.conf a 'replication' line): " +
                               std::string(Trim(PQerrorMessage(repl_))));
    ReleaseSnapshot();
    return s;
  }
  static std::atomic<int> slots{0};
  const std::string slot =
      "di_snapshot_" + std::to_string(::getpid()) + "_" + std::to_string(++slots);
  PGresult* r = PQexec(
      repl_, ("CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')")
                 .c_str());
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  std::string lsn = ok ? PQgetvalue(r, 0, 1) : "", name = ok ? PQgetvalue(r, 0, 2) : "";
  std::string err = ok ? "" : std::string(Trim(PQresultErrorMessage(r)));
  PQclear(r);
  if (!ok) {
    ReleaseSnapshot();
    return InvalidArgument(Where() + ": could not pin a snapshot: " + err);
  }
  snapshot_ = name;  // the slot's session stays open and idle: the snapshot lives with it
  return LogPosition{Engine::kPostgres, lsn, "", 0};
}

void PgSource::ReleaseSnapshot() {
  if (repl_) PQfinish(repl_);  // (the temporary slot goes with its session)
  repl_ = nullptr;
  snapshot_.clear();
}

Status PgSource::Reconnect(std::string* note) {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  ahead_ = nullptr;  // the readers of the old session hold nothing of it (RowReader)
  reads_open_ = 0;
  joined_ = false;
  // The slot's session has sent nothing since its snapshot was exported: reading what is
  // waiting (no command sent, which would end the export) tells whether it was ended too.
  if (repl_ && (PQconsumeInput(repl_) == 0 || PQstatus(repl_) != CONNECTION_OK)) {
    ReleaseSnapshot();
    *note = Where() +
            ": the pinned snapshot was lost with its session; the rest of the table is read "
            "from the live data (what changed meanwhile is read as it is now)";
  }
  return Connect();
}

Result<bool> PgSource::JoinSnapshot(const std::string& token, std::string* missed) {
  (void)missed;
  LeaveSnapshot();
  // An exported snapshot's name is hex digits and dashes ("00000003-0000001B-1"): anything
  // else is not one, and is never put into the query.
  const bool named =
      !token.empty() && token.find_first_not_of("0123456789ABCDEFabcdef-") == std::string::npos;
  if (!named) return InvalidArgument(Where() + ": '" + token + "' is not a snapshot's name");
  if (reads_open_ > 0)
    return Internal(Where() + ": cannot join a snapshot while a read is open on the connection");
  RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  if (Status s = Exec("SET TRANSACTION SNAPSHOT '" + token + "'"); !s.ok()) {
    Exec("ROLLBACK").ok();
    return Status(s.code(), s.message() + " (importing the snapshot " + token +
                                ", which lives only while the session that pinned it is open)");
  }
  joined_ = true;
  joined_token_ = token;
  ++reads_open_;  // reads opened meanwhile nest in this transaction; LeaveSnapshot ends it
  return true;
}

void PgSource::LeaveSnapshot() {
  if (!joined_) return;
  joined_ = false;
  joined_token_.clear();
  EndRead();  // commits once no read is open in it
}

}  // namespace di::postgres_internal
