#include "sinks/warehouse.h"
#include "core/lazy_lib.h"

#include <libpq-fe.h>

#include <set>

#include "aws/crypto.h"
#include "config/config.h"
#include "core/json_encode.h"
#include "core/strings.h"
#include "sinks/dynamo_key.h"
#include "sinks/pg_text.h"

namespace di {
namespace {

std::string Quote(std::string_view ident) {
  return QuoteIdentifier(ident, '"');
}

bool Starts(const std::string& s, const char* p) {
  return StartsWith(s, p);
}

std::string PgElementType(const std::string& t) {
  for (const char* keep :
       {"boolean", "smallint", "integer", "bigint", "real", "double precision", "bytea", "date"})
    if (t == keep) return t;
  if (Starts(t, "numeric")) return t;
  if (t == "oid") return "bigint";
  if (t == "time without time zone" || Starts(t, "time(")) return "time";
  if (Starts(t, "timestamp")) return "timestamptz";  // naive ones are read as SOURCE_TZ -> UTC
  if (t == "json" || t == "jsonb") return "jsonb";
  if (t == "money") return "numeric";  // read as its exact decimal
  return "text";                       // varchar, char, enums, uuid, interval, tsvector...
}

// Text of a scalar as PostgreSQL's input functions take it (no COPY escaping yet).
void AppendText(const Value& v, std::string& out);

void AppendArrayLiteral(const Array& a, std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& item : a.items) {
    if (!first) out += ',';
    first = false;
    if (item.is_null()) {
      out += "NULL";
    } else if (const auto* sub = item.get_if<Array>()) {
      AppendArrayLiteral(*sub, out);
    } else {
      std::string text;
      AppendText(item, text);
      AppendArrayElementQuoted(text, out);
    }
  }
  out += '}';
}

void AppendText(const Value& v, std::string& out) {
  switch (v.kind()) {
    case ValueKind::kBool:
      out += v.as<bool>() ? 't' : 'f';
      return;
    case ValueKind::kInt64:
      out += std::to_string(v.as<int64_t>());
      return;
    case ValueKind::kUInt64:
      out += std::to_string(v.as<uint64_t>());
      return;
    case ValueKind::kInt32:
      out += std::to_string(v.as<Int32>().v);
      return;
    case ValueKind::kDouble:
      out += FormatDouble(v.as<double>());
      return;
    case ValueKind::kDecimal:
      out += v.as<Decimal>().text;
      return;
    case ValueKind::kString:
      out += v.as<std::string>();
      return;
    case ValueKind::kDate:
      out += FormatDate(v.as<Date>().days);
      return;
    case ValueKind::kTime:
      out += FormatTime(v.as<TimeOfDay>().micros);
      return;
    case ValueKind::kTimestamp:
      out += FormatTimestamp(v.as<Timestamp>().micros);
      return;
    case ValueKind::kBsonDate:
      out += FormatTimestamp(v.as<BsonDate>().millis * 1000);
      return;
    case ValueKind::kJson:
      out += v.as<Json>().text;
      return;
    case ValueKind::kBytes:
      out += "\\x" + aws::Hex(v.as<Bytes>().data);
      return;
    case ValueKind::kObjectId:
      out += ObjectIdHex(v.as<ObjectId>());
      return;
    case ValueKind::kArray:
      AppendArrayLiteral(v.as<Array>(), out);
      return;
    default:
      AppendJson(v, JsonStyle::kPlain, out);
  }
}

class PgWarehouse : public Warehouse {
 public:
  explicit PgWarehouse(PGconn* conn) : conn_(conn) {}
  ~PgWarehouse() override {
    if (in_copy_) PQputCopyEnd(conn_, "abandoned");
    PQfinish(conn_);
  }

  Status BeginLoad(const TableInfo& table) override {
    table_ = table;
    RETURN_IF_ERROR(Exec("BEGIN"));
    RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + WarehouseTableName(table)));
    RETURN_IF_ERROR(Exec(CreateSql(table, false)));
    return StartCopy(WarehouseTableName(table));
  }

  Status Write(const std::vector<std::vector<Value>>& rows) override {
    buffer_.clear();
    for (const auto& row : rows) AppendRow(row, buffer_);
    if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1)
      return Error("COPY into " + WarehouseTableName(table_));
    return Status::Ok();
  }

  Status CommitLoad() override {
    RETURN_IF_ERROR(EndCopy(WarehouseTableName(table_)));
    return Exec("COMMIT");
  }

  Status Upsert(const TableInfo& table, const std::vector<std::vector<Value>>& rows) override {
    if (rows.empty()) return Status::Ok();
    RETURN_IF_ERROR(Begin());
    RETURN_IF_ERROR(UpsertIn(table, rows, nullptr));
    return Commit();
  }

  Status Begin() override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }

  Status UpsertIn(const TableInfo& table, const std::vector<std::vector<Value>>& rows,
                  const std::vector<bool>* keep) override {
    if (rows.empty()) return Status::Ok();
    table_ = table;
    std::vector<std::string> key = KeyColumns(table);
    if (key.empty()) return NoKey(table);
    std::string target = WarehouseTableName(table);
    RETURN_IF_ERROR(EnsureTable(table));
    const std::string stage = "di_stage_" + std::to_string(++stages_);
    RETURN_IF_ERROR(Exec("CREATE TEMP TABLE " + stage + " (LIKE " + target + ") ON COMMIT DROP"));
    RETURN_IF_ERROR(StartCopy(stage));
    RETURN_IF_ERROR(Write(rows));
    RETURN_IF_ERROR(EndCopy(target));
    std::string cols, set, keys;
    const auto names = ColumnNames(table);
    for (size_t i = 0; i < names.size(); ++i) {
      cols += (cols.empty() ? "" : ", ") + Quote(names[i]);
      if (keep && i < keep->size() && (*keep)[i]) continue;
      set += (set.empty() ? "" : ", ") + Quote(names[i]) + " = EXCLUDED." + Quote(names[i]);
    }
    for (const auto& k : key) keys += (keys.empty() ? "" : ", ") + Quote(k);
    return Exec("INSERT INTO " + target + " (" + cols + ") SELECT " + cols + " FROM " + stage +
                " ON CONFLICT (" + keys + ") " +
                (set.empty() ? "DO NOTHING" : "DO UPDATE SET " + set));
  }

  Status TruncateIn(const TableInfo& table) override {
    RETURN_IF_ERROR(EnsureTable(table));
    return Exec("TRUNCATE " + WarehouseTableName(table));
  }

  Status DeleteIn(const TableInfo& table, const std::vector<std::vector<Value>>& keys) override {
    if (keys.empty()) return Status::Ok();
    std::vector<std::string> key = KeyColumns(table);
    if (key.empty()) return NoKey(table);
    std::string target = WarehouseTableName(table), cols, match;
    RETURN_IF_ERROR(EnsureTable(table));
    const std::string stage = "di_keys_" + std::to_string(++stages_);
    for (const auto& k : key) {
      cols += (cols.empty() ? "" : ", ") + Quote(k);
      match += std::string(match.empty() ? "" : " AND ") + "t." + Quote(k) + " = k." + Quote(k);
    }
    RETURN_IF_ERROR(Exec("CREATE TEMP TABLE " + stage + " ON COMMIT DROP AS SELECT " + cols +
                         " FROM " + target + " WITH NO DATA"));
    RETURN_IF_ERROR(StartCopyOf(stage, cols));
    buffer_.clear();
    for (const auto& row : keys) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) buffer_ += '\t';
        if (table.engine == Engine::kMongo)
          AppendMongoId(&row[i], buffer_);
        else
          AppendCopyField(row[i], buffer_);
      }
      buffer_ += '\n';
    }
    if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1)
      return Error("COPY into " + stage);
    RETURN_IF_ERROR(EndCopy(stage));
    return Exec("DELETE FROM " + target + " t USING " + stage + " k WHERE " + match);
  }

  Result<int64_t> DeleteAllBut(const TableInfo& table, RowReader& source) override {
    std::vector<std::string> key = KeyColumns(table);
    if (key.empty()) return NoKey(table);
    ReadOptions by_key;
    by_key.by_key = true;
    // The key's columns in a source row (MongoDB: the document).
    const std::vector<size_t> at = OrderColumns(table, by_key);
    if (table.engine != Engine::kMongo && at.size() != key.size()) return NoKey(table);
    table_ = table;
    std::string target = WarehouseTableName(table), cols, match;
    for (const auto& k : key) {
      cols += (cols.empty() ? "" : ", ") + Quote(k);
      match += std::string(match.empty() ? "" : " AND ") + "t." + Quote(k) + " = k." + Quote(k);
    }
    RETURN_IF_ERROR(Begin());
    RETURN_IF_ERROR(EnsureTable(table));
    const std::string stage = "di_kept_" + std::to_string(++stages_);
    RETURN_IF_ERROR(Exec("CREATE TEMP TABLE " + stage + " ON COMMIT DROP AS SELECT " + cols +
                         " FROM " + target + " WITH NO DATA"));
    RETURN_IF_ERROR(StartCopyOf(stage, cols));
    if (Status s = CopyKeys(table, at, source, stage); !s.ok()) {
      PQputCopyEnd(conn_, "the source's keys could not be read");
      in_copy_ = false;
      PQclear(PQgetResult(conn_));
      Exec("ROLLBACK").ok();
      return s;
    }
    RETURN_IF_ERROR(EndCopy(stage));
    RETURN_IF_ERROR(Exec("ANALYZE " + stage));
    PGresult* r = PQexec(conn_, ("DELETE FROM " + target + " t WHERE NOT EXISTS (SELECT 1 FROM " +
                                 stage + " k WHERE " + match + ")")
                                    .c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      Status s = Unavailable(
          "warehouse: deleting the rows of " + target +
          " gone from the source failed: " + std::string(Trim(PQresultErrorMessage(r))));
      PQclear(r);
      Exec("ROLLBACK").ok();
      return s;
    }
    const int64_t deleted = std::stoll(PQcmdTuples(r));
    PQclear(r);
    RETURN_IF_ERROR(Commit());
    return deleted;
  }

  Result<int64_t> Count(const TableInfo& table) override {
    PGresult* r = PQexec(conn_, ("SELECT count(*) FROM " + WarehouseTableName(table)).c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      return Error("counting " + WarehouseTableName(table));
    }
    int64_t n = std::stoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
  }

 private:
  static std::vector<std::string> ColumnNames(const TableInfo& t) {
    if (t.engine == Engine::kMongo) return {"_id", "document"};
    std::vector<std::string> out;
    for (const auto& c : t.columns) out.push_back(c.name);
    return out;
  }
  static std::vector<std::string> KeyColumns(const TableInfo& t) {
    if (t.engine == Engine::kMongo) return {"_id"};
    return t.primary_key;
  }

  static Status NoKey(const TableInfo& table) {
    return InvalidArgument("warehouse: " + EngineName(table.engine) + "." + table.name +
                           " has no primary key to upsert or delete by");
  }

  // The table created when missing, and the columns it lacks added (once per description).
  Status EnsureTable(const TableInfo& t) {
    std::string shape = WarehouseTableName(t);
    for (const auto& c : ColumnNames(t)) shape += "," + c;
    if (ensured_.count(shape)) return Status::Ok();
    RETURN_IF_ERROR(Exec(CreateSql(t, true)));
    if (t.engine != Engine::kMongo)
      for (const auto& c : t.columns)
        RETURN_IF_ERROR(Exec("ALTER TABLE " + WarehouseTableName(t) + " ADD COLUMN IF NOT EXISTS " +
                             Quote(c.name) + " " + WarehouseColumnType(t.engine, c.source_type)));
    ensured_.insert(shape);
    return Status::Ok();
  }

  static std::string CreateSql(const TableInfo& t, bool if_missing) {
    std::string sql = std::string("CREATE TABLE ") + (if_missing ? "IF NOT EXISTS " : "") +
                      WarehouseTableName(t) + " (";
    if (t.engine == Engine::kMongo) {
      sql += "\"_id\" text NOT NULL, \"document\" jsonb NOT NULL";
    } else {
      bool first = true;
      for (const auto& c : t.columns) {
        sql += (first ? "" : ", ") + Quote(c.name) + " " +
               WarehouseColumnType(t.engine, c.source_type);
        first = false;
      }
    }
    std::vector<std::string> key = KeyColumns(t);
    if (!key.empty()) {
      sql += ", PRIMARY KEY (";
      for (size_t i = 0; i < key.size(); ++i) sql += (i ? ", " : "") + Quote(key[i]);
      sql += ")";
    }
    return sql + ")";
  }

  void AppendRow(const std::vector<Value>& row, std::string& out) {
    if (table_.engine == Engine::kMongo) {
      const Document& doc = row[0].as<Document>();
      AppendMongoId(doc.Find("_id"), out);
      out += '\t';
      field_.clear();
      AppendJson(row[0], JsonStyle::kPlain, field_);
      AppendCopyEscaped(field_, out);
      out += '\n';
      return;
    }
    for (size_t i = 0; i < row.size(); ++i) {
      if (i) out += '\t';
      AppendCopyField(row[i], out);
    }
    out += '\n';
  }

  // A document's `_id` as the warehouse keeps it: the text DynamoDB's S keys have
  // (sinks/dynamo_key.h MongoKeyText: an ObjectId's hex, a string as itself, any other value
  // its canonical Extended JSON), one text per `_id`, so `5` and `"5"` stay two rows.
  void AppendMongoId(const Value* id, std::string& out) {
    field_.clear();
    if (id) field_ = MongoKeyText(*id);
    AppendCopyEscaped(field_, out);
  }

  // The source's rows' keys, a batch at a time, as COPY lines of `stage`.
  Status CopyKeys(const TableInfo& table, const std::vector<size_t>& at, RowReader& source,
                  const std::string& stage) {
    RecordBatch batch;
    while (true) {
      ASSIGN_OR_RETURN(bool more, source.Next(&batch));
      if (!more) return Status::Ok();
      buffer_.clear();
      for (const auto& row : batch.rows) {
        if (table.engine == Engine::kMongo) {
          const Document* doc = row.empty() ? nullptr : row[0].get_if<Document>();
          const Value* id = doc ? doc->Find("_id") : nullptr;
          if (!id) return InvalidArgument("a document of " + table.name + " has no _id");
          AppendMongoId(id, buffer_);
        } else {
          for (size_t i = 0; i < at.size(); ++i) {
            if (i) buffer_ += '\t';
            AppendCopyField(row[at[i]], buffer_);
          }
        }
        buffer_ += '\n';
      }
      if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1)
        return Error("COPY into " + stage);
    }
  }

  Status StartCopyOf(const std::string& into, const std::string& cols) {
    PGresult* r = PQexec(conn_, ("COPY " + into + " (" + cols + ") FROM STDIN").c_str());
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok) return Error("COPY into " + into);
    in_copy_ = true;
    return Status::Ok();
  }

  Status StartCopy(const std::string& into) {
    std::string cols;
    for (const auto& c : ColumnNames(table_)) cols += (cols.empty() ? "" : ", ") + Quote(c);
    return StartCopyOf(into, cols);
  }

  Status EndCopy(const std::string& what) {
    in_copy_ = false;
    Status s = EndCopyIn(conn_);
    if (!s.ok()) {
      Exec("ROLLBACK").ok();
      return Unavailable("warehouse: COPY into " + what + " failed: " + s.message());
    }
    return Status::Ok();
  }

  Status Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string message = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) {
      ensured_.clear();  // what the rolled-back transaction created is gone
      if (sql != "ROLLBACK") PQclear(PQexec(conn_, "ROLLBACK"));
      return Unavailable("warehouse: " + sql.substr(0, 80) +
                         " failed: " + std::string(Trim(message)));
    }
    return Status::Ok();
  }

  Status Error(const std::string& what) {
    return Unavailable("warehouse: " + what +
                       " failed: " + std::string(Trim(PQerrorMessage(conn_))));
  }

  PGconn* conn_;
  TableInfo table_;
  bool in_copy_ = false;
  std::string buffer_, field_;
  uint64_t stages_ = 0;            // temporary tables made on this connection
  std::set<std::string> ensured_;  // table shapes created and given their columns
};

}  // namespace

std::string WarehouseTableName(const TableInfo& table) {
  return Quote(EngineName(table.engine)) + "." + Quote(table.name);
}

std::string WarehouseColumnType(Engine engine, const std::string& source_type) {
  std::string t = ToLower(Trim(source_type));
  if (engine == Engine::kPostgres) {
    if (t.size() > 2 && t.ends_with("[]")) return PgElementType(t.substr(0, t.size() - 2)) + "[]";
    return PgElementType(t);
  }
  bool is_unsigned = t.find("unsigned") != std::string::npos;
  if (t == "tinyint(1)") return "boolean";
  if (Starts(t, "bigint")) return is_unsigned ? "numeric(20,0)" : "bigint";
  if (Starts(t, "tinyint") || Starts(t, "smallint") || Starts(t, "mediumint") || Starts(t, "int") ||
      Starts(t, "year"))
    return "bigint";
  if (Starts(t, "decimal") || Starts(t, "numeric")) {
    size_t open = t.find('('), close = t.find(')');
    return "numeric" +
           (open != std::string::npos && close > open ? t.substr(open, close - open + 1) : "");
  }
  if (Starts(t, "float") || Starts(t, "double") || Starts(t, "real")) return "double precision";
  if (Starts(t, "datetime") || Starts(t, "timestamp")) return "timestamptz";
  if (Starts(t, "date")) return "date";
  if (t == "json") return "jsonb";
  if (Starts(t, "binary") || Starts(t, "varbinary") || t.find("blob") != std::string::npos ||
      Starts(t, "geometry") || Starts(t, "point") || Starts(t, "linestring") ||
      Starts(t, "polygon") || Starts(t, "multi"))
    return "bytea";
  return "text";  // char, varchar, text, enum, set, time (may pass 24 h), bit
}

void AppendCopyField(const Value& v, std::string& out) {
  if (v.is_null()) {
    out += "\\N";
    return;
  }
  std::string text;
  AppendText(v, text);
  AppendCopyEscaped(text, out);
}

Result<std::unique_ptr<Warehouse>> OpenWarehouse(const std::string& url) {
  RETURN_IF_ERROR(kPqLibrary.Load());
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message(Trim(PQerrorMessage(conn)));
    PQfinish(conn);
    return Unavailable("ANALYTICS_DATABASE_URL " + MaskUrlPassword(url) +
                       ": cannot connect to the warehouse: " + message);
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
  PQclear(PQexec(conn, "SET lc_monetary = 'C'"));  // money given as a plain decimal
  auto w = std::make_unique<PgWarehouse>(conn);
  for (const char* schema : {"mysql", "postgresql", "mongodb"}) {
    // Two workers may race to create a schema: try again once.
    for (int attempt = 0; attempt < 2; ++attempt) {
      PGresult* r =
          PQexec(conn, ("CREATE SCHEMA IF NOT EXISTS " + std::string(Quote(schema))).c_str());
      bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (ok) break;
    }
  }
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace di
