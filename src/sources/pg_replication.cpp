#include "sources/pg_replication.h"

#include <libpq-fe.h>
#include <poll.h>

#include "config/validate.h"
#include "core/lazy_lib.h"
#include "core/strings.h"
#include "sources/postgres_source.h"

namespace di {
namespace {

bool PlainName(const std::string& s) {
  return ValidateReplicationName(s).ok();
}

std::string ErrorOf(PGconn* conn) {
  return std::string(Trim(PQerrorMessage(conn)));
}

}  // namespace

Result<std::unique_ptr<PgReplication>> PgReplication::Connect(const SqlSettings& s) {
  RETURN_IF_ERROR(kPqLibrary.Load());
  const std::string where =
      "postgresql://" + s.host + ":" + std::to_string(s.port) + "/" + s.database;
  PGconn* conn = PgConnect(s, {{"connect_timeout", "10"},
                               {"application_name", "data-ingestion-stream"},
                               {"replication", "database"}});
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = ErrorOf(conn);
    PQfinish(conn);
    return Unavailable(where +
                       ": no replication connection (the user needs the REPLICATION "
                       "attribute and pg_hba.conf a 'replication' line for this host): " +
                       err);
  }
  // pgoutput writes each cell's text with this session's output settings: the same as the
  // source's reads (postgres_session.cpp), whatever the server's, role's or PGTZ's are, so a
  // streamed value reads as its snapshot read does.
  std::unique_ptr<PgReplication> repl(new PgReplication(conn, where));
  for (const char* set :
       {"SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET extra_float_digits = 3",
        "SET bytea_output = 'hex'", "SET lc_monetary = 'C'"})
    RETURN_IF_ERROR(repl->Query(set).status());
  return repl;
}

PgReplication::~PgReplication() {
  FreeFrame();
  if (conn_) PQfinish(conn_);
}

void PgReplication::FreeFrame() {
  if (frame_) PQfreemem(frame_);
  frame_ = nullptr;
}

Result<std::string> PgReplication::Show(const std::string& setting) {
  PGresult* r = PQexec(conn_, ("SHOW " + setting).c_str());
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  std::string v = ok ? PQgetvalue(r, 0, 0) : std::string(Trim(PQresultErrorMessage(r)));
  PQclear(r);
  if (!ok) return Unavailable(where_ + ": SHOW " + setting + " failed: " + v);
  return v;
}

Status PgReplication::CheckServer() {
  ASSIGN_OR_RETURN(std::string wal, Show("wal_level"));
  if (wal != "logical")
    return InvalidArgument(where_ + ": wal_level is '" + wal +
                           "'; logical replication needs wal_level = logical (postgresql.conf, "
                           "then restart the server)");
  for (const char* setting : {"max_replication_slots", "max_wal_senders"}) {
    Result<std::string> v = Show(setting);
    if (!v.ok()) return v.status();
    if (*v == "0")
      return InvalidArgument(where_ + ": " + setting +
                             " is 0; set it to at least 2 (postgresql.conf, then restart the "
                             "server)");
  }
  return Status::Ok();
}

Result<PgReplication::Slot> PgReplication::CreateSlot(const std::string& name, bool temporary,
                                                      bool export_snapshot) {
  if (!PlainName(name))
    return InvalidArgument("replication slot '" + name +
                           "': use lowercase letters, digits and '_' (at most 63)");
  const std::string sql = "CREATE_REPLICATION_SLOT " + name + (temporary ? " TEMPORARY" : "") +
                          " LOGICAL pgoutput (SNAPSHOT '" +
                          (export_snapshot ? "export" : "nothing") + "')";
  PGresult* r = PQexec(conn_, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  Slot slot{name, 0, ""};
  std::string lsn = ok ? PQgetvalue(r, 0, 1) : "";
  if (ok && !PQgetisnull(r, 0, 2)) slot.snapshot = PQgetvalue(r, 0, 2);
  std::string err = ok ? "" : std::string(Trim(PQresultErrorMessage(r)));
  PQclear(r);
  if (!ok) return Unavailable(where_ + ": creating replication slot " + name + " failed: " + err);
  ASSIGN_OR_RETURN(slot.consistent_point, pgoutput::ParseLsn(lsn));
  return slot;
}

Status PgReplication::Start(const std::string& slot, const std::string& publication,
                            uint64_t from) {
  if (!PlainName(slot) || !PlainName(publication))
    return InvalidArgument("replication slot '" + slot + "' / publication '" + publication +
                           "': use lowercase letters, digits and '_' (at most 63)");
  const std::string sql = "START_REPLICATION SLOT " + slot + " LOGICAL " + pgoutput::LsnText(from) +
                          " (proto_version '1', publication_names '" + publication + "')";
  PGresult* r = PQexec(conn_, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COPY_BOTH;
  std::string err = ok ? "" : std::string(Trim(PQresultErrorMessage(r)));
  PQclear(r);
  if (!ok)
    return Unavailable(where_ + ": starting replication from slot " + slot + " failed: " + err);
  return Status::Ok();
}

Result<std::optional<pgoutput::Frame>> PgReplication::Next(std::chrono::milliseconds wait) {
  FreeFrame();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    int n = PQgetCopyData(conn_, &frame_, 1);
    if (n > 0) {
      ASSIGN_OR_RETURN(auto frame, pgoutput::ParseFrame(std::string_view(frame_, n)));
      return std::optional<pgoutput::Frame>(frame);
    }
    if (n == -1) return Unavailable(where_ + ": the replication stream ended: " + ErrorOf(conn_));
    if (n < -1) return Unavailable(where_ + ": reading the replication stream: " + ErrorOf(conn_));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<pgoutput::Frame>();
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0)
      return Unavailable(where_ + ": waiting for the replication stream failed");
    if (PQconsumeInput(conn_) == 0)
      return Unavailable(where_ + ": reading the replication stream: " + ErrorOf(conn_));
  }
}

Status PgReplication::Confirm(uint64_t flushed, int64_t now_unix_micros, bool reply_requested) {
  const std::string msg = pgoutput::StandbyStatus(
      flushed, flushed, flushed, now_unix_micros - pgoutput::kPgEpochUnixMicros, reply_requested);
  if (PQputCopyData(conn_, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(conn_) != 0)
    return Unavailable(where_ + ": sending the confirmed position " + pgoutput::LsnText(flushed) +
                       " failed: " + ErrorOf(conn_));
  return Status::Ok();
}

}  // namespace di
