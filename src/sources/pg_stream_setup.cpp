// PgReplication's setup of change capture (sources/pg_replication.h): the publication of the
// mapped tables, their replica identities, the permanent slot. SQL runs on the walsender
// connection itself (simple protocol); names are quoted here, values are checked names.
#include <libpq-fe.h>

#include <set>

#include "config/validate.h"
#include "core/strings.h"
#include "sources/pg_replication.h"

namespace di {
namespace {

std::string Ident(const std::string& s) {
  return QuoteIdentifier(s, '"');
}

std::string Literal(const std::string& s) {  // (standard_conforming_strings: no escapes)
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string List(const std::vector<std::string>& names, std::string (*quote)(const std::string&)) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + quote(n);
  return out;
}

}  // namespace

Result<std::vector<std::vector<std::string>>> PgReplication::Query(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  std::vector<std::vector<std::string>> rows;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string err(Trim(PQresultErrorMessage(r)));
    PQclear(r);
    return Unavailable(where_ + ": " + err);
  }
  for (int i = 0; i < PQntuples(r); ++i) {
    rows.emplace_back();
    for (int j = 0; j < PQnfields(r); ++j) rows.back().emplace_back(PQgetvalue(r, i, j));
  }
  PQclear(r);
  return rows;
}

// Every table exists in schema public and its deletes carry a key.
static Status CheckReplicaIdentities(PgReplication& repl, const std::vector<std::string>& tables) {
  ASSIGN_OR_RETURN(
      auto rows,
      repl.Query("SELECT c.relname, c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE "
                 "i.indrelid = c.oid AND i.indisprimary) FROM pg_class c JOIN pg_namespace n ON "
                 "n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
                 "AND c.relname IN (" +
                 List(tables, Literal) + ")"));
  std::set<std::string> found;
  for (const auto& r : rows) {
    found.insert(r[0]);
    const bool keyless = (r[1] == "d" && r[2] != "t") || r[1] == "n";
    if (keyless)
      return InvalidArgument(
          repl.where() + ": table '" + r[0] + "' has " +
          (r[1] == "n" ? std::string("REPLICA IDENTITY NOTHING") : "no primary key") +
          ", so its deletes and updates carry no key for change capture; add a primary key, "
          "or run ALTER TABLE " +
          Ident(r[0]) + " REPLICA IDENTITY FULL");
  }
  for (const auto& t : tables)
    if (!found.count(t))
      return NotFound(repl.where() + ": table '" + t + "' does not exist in schema public");
  return Status::Ok();
}

Result<PgReplication::SetupStep> PgReplication::EnsurePublication(
    const std::string& name, const std::vector<std::string>& tables) {
  RETURN_IF_ERROR(ValidateReplicationName(name));
  if (tables.empty()) return InvalidArgument(where_ + ": no tables for publication " + name);
  RETURN_IF_ERROR(CheckReplicaIdentities(*this, tables));
  ASSIGN_OR_RETURN(auto pub, Query("SELECT puballtables, pubviaroot FROM pg_publication WHERE "
                                   "pubname = " +
                                   Literal(name)));
  const std::string what =
      "publication " + name + " (" + where_ + ": " + JoinHuman(tables, ", ") + ")";
  // A partitioned table's changes come as its own (not its partitions'), as it is mapped.
  const std::string via_root = "publish_via_partition_root = true";
  if (pub.empty()) {
    RETURN_IF_ERROR(Query("CREATE PUBLICATION " + Ident(name) + " FOR TABLE " +
                          List(tables, Ident) + " WITH (" + via_root + ")")
                        .status());
    return SetupStep{true, what};
  }
  if (pub[0][1] != "t")
    RETURN_IF_ERROR(Query("ALTER PUBLICATION " + Ident(name) + " SET (" + via_root + ")").status());
  if (pub[0][0] == "t") return SetupStep{pub[0][1] != "t", what + ", for all tables"};
  // Its own members (pg_publication_tables lists a partitioned table's partitions instead).
  ASSIGN_OR_RETURN(auto in, Query("SELECT c.relname FROM pg_publication_rel r JOIN pg_publication "
                                  "p ON p.oid = r.prpubid JOIN pg_class c ON c.oid = r.prrelid "
                                  "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                                  "n.nspname = 'public' AND p.pubname = " +
                                  Literal(name)));
  std::set<std::string> have;
  for (const auto& r : in) have.insert(r[0]);
  std::vector<std::string> missing;
  for (const auto& t : tables)
    if (!have.count(t)) missing.push_back(t);
  if (missing.empty()) return SetupStep{pub[0][1] != "t", what};
  RETURN_IF_ERROR(
      Query("ALTER PUBLICATION " + Ident(name) + " ADD TABLE " + List(missing, Ident)).status());
  return SetupStep{true, what + ", " + JoinHuman(missing, ", ") + " added"};
}

Result<PgReplication::SetupStep> PgReplication::EnsureSlot(const std::string& name) {
  RETURN_IF_ERROR(ValidateReplicationName(name));
  ASSIGN_OR_RETURN(auto rows, Query("SELECT database, plugin, current_database(), "
                                    "confirmed_flush_lsn FROM pg_replication_slots "
                                    "WHERE slot_name = " +
                                    Literal(name)));
  if (!rows.empty()) {
    const auto& r = rows[0];
    if (r[0] != r[2] || r[1] != "pgoutput")
      return InvalidArgument(where_ + ": replication slot " + name + " already exists for " +
                             (r[0].empty() ? "no database" : "database " + r[0]) + " with " +
                             (r[1].empty() ? "no plugin" : "plugin " + r[1]) +
                             "; set STREAM_SLOT to another name, or drop it "
                             "(SELECT pg_drop_replication_slot('" +
                             name + "'))");
    return SetupStep{
        false, "replication slot " + name + " (" + where_ + ", confirmed up to " + r[3] + ")"};
  }
  ASSIGN_OR_RETURN(Slot slot, CreateSlot(name, /*temporary=*/false, /*export_snapshot=*/false));
  return SetupStep{true, "replication slot " + name + " (" + where_ + ", from " +
                             pgoutput::LsnText(slot.consistent_point) +
                             "; the server keeps its WAL until a stream confirms it)"};
}

Result<PgReplication::SetupStep> PgReplication::EnsureIdentityHas(const std::string& table,
                                                                  const std::string& column) {
  ASSIGN_OR_RETURN(
      auto rows,
      Query("SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON "
            "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = c.oid AND "
            "i.indisprimary AND a.attname = " +
            Literal(column) +
            ") FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
            "'public' AND c.relname = " +
            Literal(table)));
  if (rows.empty())
    return NotFound(where_ + ": table '" + table + "' does not exist in schema public");
  const std::string what = "replica identity of " + table + " (its deletes carry " + column + ")";
  if (rows[0][0] == "f" || (rows[0][0] == "d" && rows[0][1] == "t")) return SetupStep{false, what};
  RETURN_IF_ERROR(Query("ALTER TABLE " + Ident(table) + " REPLICA IDENTITY FULL").status());
  return SetupStep{true, what + ": set to FULL"};
}

}  // namespace di
