// The PostgreSQL analytics warehouse (ANALYTICS_DATABASE_URL; the seed's optional RDS): a
// copy of every table for SQL, a schema per source engine ("mysql", "postgresql",
// "mongodb"). A full load replaces a table in one transaction (DROP, CREATE, COPY, COMMIT),
// so readers — and a run killed half-way — see the old table or the new one, never half.
// Sync upserts a batch by primary key (COPY into a temporary table, INSERT … ON CONFLICT).
// MongoDB collections become (_id text primary key, document jsonb). One connection per
// Warehouse: not thread-safe, one per worker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/value.h"
#include "sources/source.h"

namespace di {

class Warehouse {
 public:
  virtual ~Warehouse() = default;
  // Starts replacing `table`: the rows written next become its whole content at Commit().
  virtual Status BeginLoad(const TableInfo& table) = 0;
  virtual Status Write(const std::vector<std::vector<Value>>& rows) = 0;
  virtual Status CommitLoad() = 0;  // dropping the Warehouse before it rolls the load back
  // Inserts or updates `rows` by the table's primary key; creates the table when missing.
  virtual Status Upsert(const TableInfo& table, const std::vector<std::vector<Value>>& rows) = 0;
  // --- change capture: changes applied in one transaction, in the order given, from Begin
  // to Commit (dropping the Warehouse, or an error, rolls back what came since Begin).
  virtual Status Begin() = 0;
  // Inside Begin: the table created when missing and given the columns it lacks (a column
  // the source added); rows inserted or updated by primary key. `keep` (null, or a flag per
  // column): columns an update leaves as they are (values the source did not send).
  virtual Status UpsertIn(const TableInfo& table, const std::vector<std::vector<Value>>& rows,
                          const std::vector<bool>* keep) = 0;
  // Inside Begin: the rows whose primary key is one of `keys` (values in primary_key order)
  // deleted.
  virtual Status DeleteIn(const TableInfo& table, const std::vector<std::vector<Value>>& keys) = 0;
  // Inside Begin: every row of the table deleted (TRUNCATE: readers wait for the commit); the
  // table created when missing.
  virtual Status TruncateIn(const TableInfo& table) = 0;
  virtual Status Commit() = 0;
  // SYNC_DELETES, outside Begin: every row of the table whose primary key is none of the
  // rows `source` reads (the source table's rows, read to the end) deleted, in one
  // transaction; the count deleted. The source's keys go into a temporary table of the
  // warehouse as they are read (memory here: a batch) and the warehouse joins the two.
  // An error — the read's or the warehouse's — rolls back: nothing is deleted.
  virtual Result<int64_t> DeleteAllBut(const TableInfo& table, RowReader& source) = 0;
  // The warehouse table's row count (tests, verify).
  virtual Result<int64_t> Count(const TableInfo& table) = 0;
};

// `url`: a libpq connection URI (postgresql://user:password@host:port/db).
Result<std::unique_ptr<Warehouse>> OpenWarehouse(const std::string& url);

// The warehouse's name and column type for a source table / column.
std::string WarehouseTableName(const TableInfo& table);  // "mysql"."rooms", quoted
std::string WarehouseColumnType(Engine engine, const std::string& source_type);
// One value as a field of PostgreSQL's COPY text format (\N for NULL).
void AppendCopyField(const Value& v, std::string& out);

}  // namespace di
