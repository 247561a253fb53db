#include "pipeline/restore.h"
#include "core/lazy_lib.h"

#include <libpq-fe.h>
#include <mysql.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "aws/crypto.h"
#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "pipeline/backup.h"
#include "sinks/backup_record.h"
#include "sinks/compressor.h"
#include "sinks/pg_text.h"
#include "sources/factory.h"
#include "sources/mongo_source.h"
#include "sources/postgres_source.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;
using Say = std::function<void(const std::string&)>;

struct Column {
  std::string name, type;
  bool nullable = true;
  std::vector<std::string> enum_values;  // PostgreSQL enum: its labels
  std::string domain_of;                 // PostgreSQL domain: its base type
};

struct Manifest {
  std::string key;
  OJ doc;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
  std::string codec;
};

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// "2024-01-02T03:04:05.000006Z" (an instant) -> wall time in `tz`, "2024-01-02 03:04:05.000006";
// other text is returned as it is (e.g. "infinity", a year past 9999).
std::string WallTime(const std::string& iso, const TimeZone& tz) {
  int64_t micros = 0;
  bool has_offset = false;
  if (!ParseSqlTimestamp(iso, &micros, &has_offset)) return iso;
  if (has_offset) micros = tz.UtcMicrosToLocal(micros);
  std::string s = FormatTimestamp(micros);  // ...T...Z
  s[10] = ' ';
  s.pop_back();
  return s;
}

std::string HexOfBase64(const std::string& b64) {
  std::string bytes;
  Base64Decode(b64, &bytes);
  return aws::Hex(bytes);
}

bool IsBinaryType(const std::string& t) {
  return StartsWith(t, "binary") || StartsWith(t, "varbinary") ||
         t.find("blob") != std::string::npos || StartsWith(t, "geometry") ||
         StartsWith(t, "point") || StartsWith(t, "linestring") || StartsWith(t, "polygon") ||
         StartsWith(t, "multi") || t == "bytea";
}

// ---------------------------------------------------------------------------------------
// Targets

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string Describe() const = 0;
  // The table's columns in order; nullopt when it does not exist (MongoDB: empty list).
  virtual Result<std::optional<std::vector<std::string>>> Columns() = 0;
  virtual Result<bool> HasRows() = 0;
  // create: make the table from the manifest; replace: the existing one is replaced.
  virtual Status Begin(bool create, bool replace) = 0;
  virtual Status Write(const std::vector<std::string_view>& lines) = 0;
  virtual Status Commit() = 0;
  // After a failed load: nothing of it stays (the transaction rolled back, the staging table
  // or collection dropped). Best effort: errors are ignored.
  virtual void Abort() = 0;
  // Whether a load that fails midway (before Commit) leaves the target as it was; when not,
  // every part is verified before the first write.
  virtual bool AllOrNothing(bool /*create*/, bool /*replace*/) const { return true; }
  std::vector<std::string> warnings;
};

// MySQL / MariaDB: multi-row INSERTs in one transaction; a new or replacing table is loaded
// as `<table>__di_restore` and renamed into place.
class MySqlTarget : public Target {
 public:
  MySqlTarget(SqlSettings s, std::string table, const Manifest& m,
              std::shared_ptr<const TimeZone> tz)
      : s_(std::move(s)), table_(std::move(table)), m_(m), tz_(std::move(tz)) {}
  ~MySqlTarget() override {
    if (db_) mysql_close(db_);
  }
  Status Connect() {
    db_ = mysql_init(nullptr);
    unsigned timeout = 10;
    mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(db_, s_.host.c_str(), s_.user.c_str(), s_.password.c_str(),
                            s_.database.c_str(), static_cast<unsigned>(s_.port), nullptr, 0))
      return Unavailable(Describe() + ": cannot connect: " + mysql_error(db_));
    RETURN_IF_ERROR(Exec("SET NAMES utf8mb4"));
    RETURN_IF_ERROR(Exec("SET time_zone = '+00:00'"));
    RETURN_IF_ERROR(Exec("SET foreign_key_checks = 0"));
    return Exec("SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  }
  std::string Describe() const override {
    return "mysql://" + s_.host + ":" + std::to_string(s_.port) + "/" + s_.database + " table " +
           table_;
  }
  Result<std::optional<std::vector<std::string>>> Columns() override {
    ASSIGN_OR_RETURN(auto rows, Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                                      "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                                      Literal(table_) + " ORDER BY ORDINAL_POSITION"));
    if (rows.empty()) return std::optional<std::vector<std::string>>();
    std::vector<std::string> names;
    for (auto& r : rows) names.push_back(r[0]);
    return std::optional<std::vector<std::string>>(names);
  }
  Result<bool> HasRows() override {
    ASSIGN_OR_RETURN(auto rows, Query("SELECT 1 FROM " + Q(table_) + " LIMIT 1"));
    return !rows.empty();
  }
  Status Begin(bool create, bool replace) override {
    staged_ = create || replace;
    replace_ = replace;
    into_ = staged_ ? table_ + "__di_restore" : table_;
    if (staged_) {
      RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + Q(into_)));
      std::string sql = "CREATE TABLE " + Q(into_) + " (";
      for (size_t i = 0; i < m_.columns.size(); ++i)
        sql += (i ? ", " : "") + Q(m_.columns[i].name) + " " + m_.columns[i].type +
               (m_.columns[i].nullable ? " NULL" : " NOT NULL");
      if (!m_.primary_key.empty()) {
        sql += ", PRIMARY KEY (";
        for (size_t i = 0; i < m_.primary_key.size(); ++i)
          sql += (i ? ", " : "") + Q(m_.primary_key[i]);
        sql += ")";
      }
      RETURN_IF_ERROR(Exec(sql + ") DEFAULT CHARSET = utf8mb4"));
    }
    for (const auto& c : m_.columns) cols_ += (cols_.empty() ? "" : ", ") + Q(c.name);
    return Exec("START TRANSACTION");
  }
  Status Write(const std::vector<std::string_view>& lines) override {
    std::string sql = "INSERT INTO " + Q(into_) + " (" + cols_ + ") VALUES ";
    bool first = true;
    for (auto line : lines) {
      OJ row = OJ::parse(line, nullptr, false);
      if (!row.is_object()) return Corruption("a backup line is not a JSON object");
      sql += first ? "(" : ", (";
      first = false;
      for (size_t i = 0; i < m_.columns.size(); ++i) {
        if (i) sql += ", ";
        auto it = row.find(m_.columns[i].name);
        AppendLiteral(it == row.end() ? OJ(nullptr) : *it, ToLower(m_.columns[i].type), sql);
      }
      sql += ")";
    }
    return first ? Status::Ok() : Exec(sql);
  }
  Status Commit() override {
    RETURN_IF_ERROR(Exec("COMMIT"));
    if (!staged_) return Status::Ok();
    if (replace_) {
      std::string old = table_ + "__di_old";
      RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + Q(old)));
      RETURN_IF_ERROR(Exec("RENAME TABLE " + Q(table_) + " TO " + Q(old) + ", " + Q(into_) +
                           " TO " + Q(table_)));
      return Exec("DROP TABLE " + Q(old));
    }
    return Exec("RENAME TABLE " + Q(into_) + " TO " + Q(table_));
  }
  void Abort() override {
    (void)Exec("ROLLBACK");
    if (staged_) (void)Exec("DROP TABLE IF EXISTS " + Q(into_));
  }

 private:
  static std::string Q(const std::string& ident) { return QuoteIdentifier(ident, '`'); }
  std::string Literal(std::string_view s) {
    std::string out(s.size() * 2 + 3, '\0');
    out[0] = '\'';
    unsigned long n = mysql_real_escape_string(db_, out.data() + 1, s.data(), s.size());
    out.resize(n + 1);
    return out + "'";
  }
  void AppendLiteral(const OJ& v, const std::string& type, std::string& out) {
    switch (v.type()) {
      case OJ::value_t::null:
        out += "NULL";
        return;
      case OJ::value_t::boolean:
        out += v.get<bool>() ? "1" : "0";
        return;
      case OJ::value_t::number_integer:
      case OJ::value_t::number_unsigned:
      case OJ::value_t::number_float:
        out += v.dump();
        return;
      case OJ::value_t::string: {
        const std::string& s = v.get_ref<const std::string&>();
        if (IsBinaryType(type)) {
          out += "X'" + HexOfBase64(s) + "'";
        } else if (StartsWith(type, "datetime")) {
          out += Literal(WallTime(s, *tz_));
        } else if (StartsWith(type, "timestamp")) {
          out += Literal(WallTime(s, *TimeZone::Utc()));
        } else {
          out += Literal(s);
        }
        return;
      }
      default:
        out += Literal(v.dump());
    }
  }
  Status Exec(const std::string& sql) {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0)
      return Unavailable(Describe() + ": " + sql.substr(0, 60) + "… failed: " + mysql_error(db_));
    return Status::Ok();
  }
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) {
    RETURN_IF_ERROR(Exec(sql));
    MYSQL_RES* res = mysql_store_result(db_);
    std::vector<std::vector<std::string>> rows;
    if (!res) return rows;
    unsigned n = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
      rows.emplace_back();
      for (unsigned i = 0; i < n; ++i) rows.back().push_back(r[i] ? r[i] : "");
    }
    mysql_free_result(res);
    return rows;
  }

  SqlSettings s_;
  std::string table_, into_, cols_;
  const Manifest& m_;
  std::shared_ptr<const TimeZone> tz_;
  MYSQL* db_ = nullptr;
  bool staged_ = false, replace_ = false;
};

// PostgreSQL: COPY FROM STDIN inside one transaction (a new or replaced table included).
class PgTarget : public Target {
 public:
  PgTarget(std::string conninfo, std::string where, std::string table, const Manifest& m,
           std::shared_ptr<const TimeZone> tz)
      : conninfo_(std::move(conninfo)),
        where_(std::move(where)),
        table_(std::move(table)),
        m_(m),
        tz_(std::move(tz)) {}
  ~PgTarget() override {
    if (conn_) PQfinish(conn_);
  }
  Status Connect() {
    RETURN_IF_ERROR(kPqLibrary.Load());
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK)
      return Unavailable(where_ + ": cannot connect: " + std::string(Trim(PQerrorMessage(conn_))));
    RETURN_IF_ERROR(Exec("SET client_min_messages = warning"));
    return Exec("SET TIME ZONE 'UTC'");
  }
  std::string Describe() const override { return where_ + " table " + table_; }
  Result<std::optional<std::vector<std::string>>> Columns() override {
    auto [schema, name] = Split();
    ASSIGN_OR_RETURN(auto rows, Query("SELECT column_name FROM information_schema.columns WHERE "
                                      "table_schema = $1 AND table_name = $2 ORDER BY "
                                      "ordinal_position",
                                      {schema, name}));
    if (rows.empty()) return std::optional<std::vector<std::string>>();
    std::vector<std::string> names;
    for (auto& r : rows) names.push_back(r[0]);
    return std::optional<std::vector<std::string>>(names);
  }
  Result<bool> HasRows() override {
    ASSIGN_OR_RETURN(auto rows, Query("SELECT 1 FROM " + QTable() + " LIMIT 1", {}));
    return !rows.empty();
  }
  Status Begin(bool create, bool replace) override {
    // Types the target lacks: an enum or domain of the source database is created from the
    // manifest (a domain without its constraints); any other becomes text, with a warning.
    RETURN_IF_ERROR(Exec("BEGIN"));
    SetKinds();
    types_.clear();
    std::set<std::string> made;
    for (const auto& c : m_.columns) {
      std::string t = c.type;
      bool array = EndsWith(t, "[]");
      std::string base = array ? t.substr(0, t.size() - 2) : t;
      ASSIGN_OR_RETURN(auto known, Query("SELECT to_regtype($1) IS NOT NULL", {base}));
      if ((known.empty() || known[0][0] != "t") && !made.count(base)) {
        if (!c.enum_values.empty()) {
          std::string labels;
          for (const auto& l : c.enum_values) {
            std::string q = "'";
            for (char ch : l) q += ch == '\'' ? std::string("''") : std::string(1, ch);
            labels += (labels.empty() ? "" : ", ") + q + "'";
          }
          RETURN_IF_ERROR(Exec("CREATE TYPE " + base + " AS ENUM (" + labels + ")"));
          made.insert(base);
        } else if (!c.domain_of.empty() && !array) {
          RETURN_IF_ERROR(Exec("CREATE DOMAIN " + base + " AS " + c.domain_of));
          made.insert(base);
        } else {
          warnings.push_back("column " + c.name + ": type " + t +
                             " is not in the target; restored as " + (array ? "text[]" : "text"));
          t = array ? "text[]" : "text";
        }
      }
      types_.push_back(t);
    }
    if (replace) RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + QTable()));
    if (create || replace) {
      auto [schema, name] = Split();
      if (schema != "public")
        RETURN_IF_ERROR(Exec("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(schema, '"')));
      std::string sql = "CREATE TABLE " + QTable() + " (";
      for (size_t i = 0; i < m_.columns.size(); ++i)
        sql += (i ? ", " : "") + QuoteIdentifier(m_.columns[i].name, '"') + " " + types_[i] +
               (m_.columns[i].nullable ? "" : " NOT NULL");
      if (!m_.primary_key.empty()) {
        sql += ", PRIMARY KEY (";
        for (size_t i = 0; i < m_.primary_key.size(); ++i)
          sql += (i ? ", " : "") + QuoteIdentifier(m_.primary_key[i], '"');
        sql += ")";
      }
      RETURN_IF_ERROR(Exec(sql + ")"));
    }
    std::string cols;
    for (const auto& c : m_.columns)
      cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c.name, '"');
    PGresult* r = PQexec(conn_, ("COPY " + QTable() + " (" + cols + ") FROM STDIN").c_str());
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    std::string message = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) return Unavailable(Describe() + ": COPY failed: " + std::string(Trim(message)));
    return Status::Ok();
  }
  Status Write(const std::vector<std::string_view>& lines) override {
    buf_.clear();
    for (auto line : lines) {
      // The fast path: the record's fields in the manifest's column order, each value turned
      // into COPY text straight from its JSON text; any other record goes through a JSON tree.
      if (!SplitRecord(line, &fields_)) return Corruption("a backup line is not a JSON object");
      bool in_order = fields_.size() == kinds_.size();
      for (size_t i = 0; in_order && i < fields_.size(); ++i)
        in_order = !fields_[i].key_escaped && fields_[i].key == m_.columns[i].name;
      if (in_order) {
        for (size_t i = 0; i < fields_.size(); ++i) {
          if (i) buf_ += '\t';
          RETURN_IF_ERROR(AppendField(fields_[i], i));
        }
        buf_ += '\n';
        continue;
      }
      OJ row = OJ::parse(line, nullptr, false);
      if (!row.is_object()) return Corruption("a backup line is not a JSON object");
      for (size_t i = 0; i < m_.columns.size(); ++i) {
        if (i) buf_ += '\t';
        auto it = row.find(m_.columns[i].name);
        if (it == row.end() || it->is_null()) {
          buf_ += "\\N";
          continue;
        }
        field_.clear();
        AppendText(*it, kinds_[i].type, field_);
        AppendCopyEscaped(field_, buf_);
      }
      buf_ += '\n';
    }
    if (PQputCopyData(conn_, buf_.data(), static_cast<int>(buf_.size())) != 1)
      return Unavailable(Describe() + ": COPY failed: " + std::string(Trim(PQerrorMessage(conn_))));
    return Status::Ok();
  }
  void Abort() override {
    if (PQputCopyEnd(conn_, "restore stopped") == 1)
      while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    (void)Exec("ROLLBACK");
  }
  Status Commit() override {
    Status s = EndCopyIn(conn_);
    if (!s.ok()) {
      Exec("ROLLBACK").ok();
      return Unavailable(Describe() + ": COPY failed: " + s.message());
    }
    return Exec("COMMIT");
  }

 private:
  std::pair<std::string, std::string> Split() const {
    size_t dot = table_.find('.');
    if (dot == std::string::npos) return {"public", table_};
    return {table_.substr(0, dot), table_.substr(dot + 1)};
  }
  std::string QTable() const {
    auto [schema, name] = Split();
    return QuoteIdentifier(schema, '"') + "." + QuoteIdentifier(name, '"');
  }
  // How a column's string values become text: as they are, or converted.
  struct ColumnKind {
    std::string type;  // the manifest's type, lowercase
    enum { kAsIs, kBytea, kWallTime } text = kAsIs;
    bool array = false, json = false;
  };
  void SetKinds() {
    kinds_.clear();
    for (const auto& c : m_.columns) {
      ColumnKind k{ToLower(c.type)};
      if (k.type == "bytea")
        k.text = ColumnKind::kBytea;
      else if (StartsWith(k.type, "timestamp") &&
               k.type.find("with time zone") == std::string::npos)
        k.text = ColumnKind::kWallTime;
      k.array = EndsWith(k.type, "[]");
      k.json = k.type == "json" || k.type == "jsonb";
      kinds_.push_back(std::move(k));
    }
  }
  // One value of the fast path, as AppendText would give it, escaped for COPY.
  Status AppendField(const RecordField& f, size_t column) {
    const ColumnKind& k = kinds_[column];
    if (k.json && f.kind != RecordField::kNull) {  // json, jsonb: the value's own JSON text
      if (f.kind == RecordField::kString) buf_ += '"';
      AppendCopyEscaped(f.value, buf_);
      if (f.kind == RecordField::kString) buf_ += '"';
      return Status::Ok();
    }
    switch (f.kind) {
      case RecordField::kNull:
        buf_ += "\\N";
        return Status::Ok();
      case RecordField::kTrue:
      case RecordField::kFalse:
        buf_ += f.kind == RecordField::kTrue ? 't' : 'f';
        return Status::Ok();
      case RecordField::kNumber:
        buf_.append(f.value);
        return Status::Ok();
      case RecordField::kString: {
        if (k.text == ColumnKind::kAsIs && !f.value_escaped) {
          AppendCopyEscaped(f.value, buf_);
          return Status::Ok();
        }
        field_.clear();
        if (!AppendUnescaped(f.value, field_))
          return Corruption("a backup line has a malformed JSON string");
        if (k.text == ColumnKind::kBytea) {
          buf_ += "\\\\x";  // \x, escaped for COPY
          buf_ += HexOfBase64(field_);
        } else if (k.text == ColumnKind::kWallTime) {
          AppendCopyEscaped(WallTime(field_, *tz_), buf_);
        } else {
          AppendCopyEscaped(field_, buf_);
        }
        return Status::Ok();
      }
      default: {
        field_.clear();
        if (f.kind == RecordField::kArray && k.array && AppendArrayText(f.value, field_)) {
          AppendCopyEscaped(field_, buf_);
          return Status::Ok();
        }
        OJ v = OJ::parse(f.value, nullptr, false);  // any other: through the tree
        if (v.is_discarded()) return Corruption("a backup line is not valid JSON");
        field_.clear();
        AppendText(v, k.type, field_);
        AppendCopyEscaped(field_, buf_);
        return Status::Ok();
      }
    }
  }
  // A JSON array as an array literal {…}, as AppendArray gives it; false (with `out` to be
  // discarded) for what it leaves to AppendArray: an object element, a malformed string.
  bool AppendArrayText(std::string_view array, std::string& out, size_t depth = 0) {
    if (depth >= elements_.size()) elements_.resize(depth + 1);
    if (!SplitArray(array, &elements_[depth])) return false;
    out += '{';
    for (size_t i = 0; i < elements_[depth].size(); ++i) {
      const RecordField e = elements_[depth][i];
      if (i) out += ',';
      switch (e.kind) {
        case RecordField::kNull:
          out += "NULL";
          break;
        case RecordField::kArray:
          if (!AppendArrayText(e.value, out, depth + 1)) return false;
          break;
        case RecordField::kTrue:
        case RecordField::kFalse:
          AppendArrayElementQuoted(e.kind == RecordField::kTrue ? "t" : "f", out);
          break;
        case RecordField::kString:
          if (e.value_escaped) {
            element_.clear();
            if (!AppendUnescaped(e.value, element_)) return false;
            AppendArrayElementQuoted(element_, out);
          } else {
            AppendArrayElementQuoted(e.value, out);
          }
          break;
        case RecordField::kNumber:
          AppendArrayElementQuoted(e.value, out);
          break;
        default:
          return false;
      }
    }
    out += '}';
    return true;
  }
  void AppendText(const OJ& v, const std::string& type, std::string& out) {
    switch (v.type()) {
      case OJ::value_t::boolean:
        out += v.get<bool>() ? "t" : "f";
        return;
      case OJ::value_t::string: {
        const std::string& s = v.get_ref<const std::string&>();
        if (type == "bytea")
          out += "\\x" + HexOfBase64(s);
        else if (StartsWith(type, "timestamp") && type.find("with time zone") == std::string::npos)
          out += WallTime(s, *tz_);
        else
          out += s;
        return;
      }
      case OJ::value_t::array:
        if (EndsWith(type, "[]")) {
          AppendArray(v, out);
          return;
        }
        out += v.dump();
        return;
      default:
        out += v.dump();
    }
  }
  void AppendArray(const OJ& a, std::string& out) {
    out += '{';
    bool first = true;
    for (const auto& e : a) {
      if (!first) out += ',';
      first = false;
      if (e.is_null()) {
        out += "NULL";
      } else if (e.is_array()) {
        AppendArray(e, out);
      } else {
        std::string text = e.is_string()    ? e.get<std::string>()
                           : e.is_boolean() ? (e.get<bool>() ? "t" : "f")
                                            : e.dump();
        AppendArrayElementQuoted(text, out);
      }
    }
    out += '}';
  }
  Status Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string message = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) {
      if (sql != "ROLLBACK") PQclear(PQexec(conn_, "ROLLBACK"));
      return Unavailable(Describe() + ": " + sql.substr(0, 60) +
                         "… failed: " + std::string(Trim(message)));
    }
    return Status::Ok();
  }
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql,
                                                      const std::vector<std::string>& params) {
    std::vector<const char*> p;
    for (const auto& s : params) p.push_back(s.c_str());
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                               nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(r);
      PQclear(r);
      return Unavailable(Describe() + ": " + std::string(Trim(message)));
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      rows.emplace_back();
      for (int c = 0; c < PQnfields(r); ++c) rows.back().push_back(PQgetvalue(r, i, c));
    }
    PQclear(r);
    return rows;
  }

  std::string conninfo_, where_, table_;
  const Manifest& m_;
  std::shared_ptr<const TimeZone> tz_;
  PGconn* conn_ = nullptr;
  std::vector<std::string> types_;
  std::vector<ColumnKind> kinds_;
  std::vector<RecordField> fields_;
  std::vector<std::vector<RecordField>> elements_;  // of arrays, per nesting depth
  std::string buf_, field_, element_;
};

// MongoDB: insertMany of the canonical Extended JSON documents (every BSON type comes
// back); a new or replacing collection is loaded as a staging one and renamed into place.
class MongoTarget : public Target {
 public:
  MongoTarget(MongoSettings s, std::string collection)
      : s_(std::move(s)), name_(std::move(collection)) {}
  ~MongoTarget() override {
    if (into_) mongoc_collection_destroy(into_);
    if (client_) mongoc_client_destroy(client_);
  }
  Status Connect() {
    ASSIGN_OR_RETURN(client_, OpenMongoClient(s_, &where_));
    return Status::Ok();
  }
  std::string Describe() const override { return where_ + " collection " + name_; }
  Result<std::optional<std::vector<std::string>>> Columns() override {
    mongoc_database_t* db = mongoc_client_get_database(client_, s_.database.c_str());
    bson_error_t error;
    char** names = mongoc_database_get_collection_names_with_opts(db, nullptr, &error);
    mongoc_database_destroy(db);
    if (!names) return Unavailable(Describe() + ": " + error.message);
    bool found = false;
    for (char** n = names; *n; ++n) found = found || name_ == *n;
    bson_strfreev(names);
    if (!found) return std::optional<std::vector<std::string>>();
    return std::optional<std::vector<std::string>>(std::vector<std::string>{});
  }
  Result<bool> HasRows() override {
    mongoc_collection_t* c =
        mongoc_client_get_collection(client_, s_.database.c_str(), name_.c_str());
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(c, &filter, nullptr, nullptr, nullptr, &error);
    mongoc_collection_destroy(c);
    if (n < 0) return Unavailable(Describe() + ": " + error.message);
    return n > 0;
  }
  Status Begin(bool create, bool replace) override {
    staged_ = create || replace;
    replace_ = replace;
    std::string into = staged_ ? name_ + "__di_restore" : name_;
    into_ = mongoc_client_get_collection(client_, s_.database.c_str(), into.c_str());
    if (staged_) {
      bson_error_t error;
      if (!mongoc_collection_drop(into_, &error) &&
          std::string(error.message).find("not found") == std::string::npos && error.code != 26)
        return Unavailable(Describe() + ": " + error.message);
    }
    return Status::Ok();
  }
  Status Write(const std::vector<std::string_view>& lines) override {
    // A plain array: bson_t's alignment attribute does not survive a template argument.
    const bson_t** docs =
        static_cast<const bson_t**>(bson_malloc0(sizeof(bson_t*) * (lines.size() + 1)));
    size_t n = 0;
    Status s = Status::Ok();
    for (auto line : lines) {
      bson_error_t error;
      bson_t* d = bson_new_from_json(reinterpret_cast<const uint8_t*>(line.data()),
                                     static_cast<ssize_t>(line.size()), &error);
      if (!d) {
        s = Corruption("a backup line is not Extended JSON: " + std::string(error.message));
        break;
      }
      docs[n++] = d;
    }
    if (s.ok() && n > 0) {
      bson_error_t error;
      bson_t reply;
      if (!mongoc_collection_insert_many(into_, docs, n, nullptr, &reply, &error))
        s = Unavailable(Describe() + ": insertMany failed: " + error.message);
      bson_destroy(&reply);
    }
    for (size_t i = 0; i < n; ++i) bson_destroy(const_cast<bson_t*>(docs[i]));
    bson_free(docs);
    return s;
  }
  Status Commit() override {
    if (!staged_) return Status::Ok();
    bson_error_t error;
    if (!mongoc_collection_rename(into_, s_.database.c_str(), name_.c_str(), replace_, &error))
      return Unavailable(Describe() +
                         ": renaming the restored collection into place failed: " + error.message);
    return Status::Ok();
  }
  void Abort() override {
    bson_error_t error;
    if (staged_ && into_) (void)mongoc_collection_drop(into_, &error);
  }
  // Appending to an existing collection writes it directly: no transaction to undo.
  bool AllOrNothing(bool create, bool replace) const override { return create || replace; }

 private:
  MongoSettings s_;
  std::string name_, where_;
  mongoc_client_t* client_ = nullptr;
  mongoc_collection_t* into_ = nullptr;
  bool staged_ = false, replace_ = false;
};

// --target-url -> the engine's connection settings.
Result<SqlSettings> ParseSqlUrl(const std::string& url, SqlSettings base, const char* scheme) {
  std::string prefix = std::string(scheme) + "://";
  if (!StartsWith(url, prefix))
    return InvalidArgument("--target-url: '" + MaskUrlPassword(url) + "' should start with " +
                           prefix);
  std::string rest = url.substr(prefix.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  base.database = slash == std::string::npos ? base.database : rest.substr(slash + 1);
  size_t q = base.database.find('?');
  if (q != std::string::npos) base.database = base.database.substr(0, q);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    base.user = userinfo.substr(0, colon);
    base.password = colon == std::string::npos ? "" : userinfo.substr(colon + 1);
  }
  size_t colon = authority.rfind(':');
  base.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    auto port = ParseInt64(authority.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return InvalidArgument("--target-url: the port of '" + MaskUrlPassword(url) +
                             "' is not a number from 1 to 65535");
    base.port = static_cast<int>(*port);
  }
  if (base.database.empty())
    return InvalidArgument("--target-url: '" + MaskUrlPassword(url) + "' names no database");
  return base;
}

Result<std::unique_ptr<Target>> OpenTarget(const Config& config, const RestoreOptions& o,
                                           const std::string& table, const Manifest& m) {
  ASSIGN_OR_RETURN(auto tz, TimeZone::Load(config.run.source_tz));
  if (o.engine == Engine::kMySql) {
    SqlSettings s = config.mysql;
    if (!o.target_url.empty()) {
      std::string url = o.target_url;
      if (StartsWith(url, "mariadb://")) url = "mysql://" + url.substr(10);
      ASSIGN_OR_RETURN(s, ParseSqlUrl(url, s, "mysql"));
    }
    auto t = std::make_unique<MySqlTarget>(s, table, m, tz);
    RETURN_IF_ERROR(t->Connect());
    return std::unique_ptr<Target>(std::move(t));
  }
  if (o.engine == Engine::kPostgres) {
    SqlSettings s = config.postgres;
    if (!o.target_url.empty()) {
      std::string url = o.target_url;
      if (StartsWith(url, "postgres://")) url = "postgresql://" + url.substr(11);
      ASSIGN_OR_RETURN(s, ParseSqlUrl(url, s, "postgresql"));
    }
    std::string where = "postgresql://" + s.host + ":" + std::to_string(s.port) + "/" + s.database;
    auto t = std::make_unique<PgTarget>(PgConninfo(s), where, table, m, tz);
    RETURN_IF_ERROR(t->Connect());
    return std::unique_ptr<Target>(std::move(t));
  }
  MongoSettings s = config.mongo;
  if (!o.target_url.empty()) {
    if (!StartsWith(o.target_url, "mongodb://") && !StartsWith(o.target_url, "mongodb+srv://"))
      return InvalidArgument("--target-url: '" + MaskUrlPassword(o.target_url) +
                             "' should start with mongodb://");
    s.uri = o.target_url;
    std::string rest = o.target_url.substr(o.target_url.find("://") + 3);
    size_t slash = rest.find('/');
    std::string db = slash == std::string::npos ? "" : rest.substr(slash + 1);
    db = db.substr(0, db.find('?'));
    if (db.empty())
      return InvalidArgument("--target-url: '" + MaskUrlPassword(o.target_url) +
                             "' names no database (mongodb://host:27017/<database>)");
    s.database = db;
  }
  auto t = std::make_unique<MongoTarget>(s, table);
  RETURN_IF_ERROR(t->Connect());
  return std::unique_ptr<Target>(std::move(t));
}

// The manifest of `run_id`, or of the newest complete backup.
Result<Manifest> FindManifest(ObjectStore& store, const Config& config, const RestoreOptions& o) {
  std::string name = EngineName(o.engine) + "." + o.table;
  std::string key;
  if (!o.run_id.empty()) {
    key = BackupPrefix(config.s3.backup_folder, o.engine, o.table, o.run_id) + "manifest.json";
  } else {
    ASSIGN_OR_RETURN(auto list, ListBackups(store, config.s3.backup_folder, o.engine, o.table));
    if (list.empty())
      return NotFound("no complete backup of " + name + " under " +
                      store.Describe(config.s3.backup_folder + "/" + EngineName(o.engine) + "/" +
                                     o.table + "/") +
                      "; run `data-ingestion --mode backup --table " + o.table + "` first");
    key = list[0].manifest_key;
  }
  auto text = store.Get(key);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return NotFound("backup " + o.run_id + " of " + name + " has no manifest (" +
                      store.Describe(key) +
                      "): it is incomplete or does not exist; `--latest` picks the newest "
                      "complete one");
    return text.status();
  }
  Manifest m;
  m.key = key;
  m.doc = OJ::parse(*text, nullptr, false);
  if (m.doc.is_discarded() || !m.doc.contains("parts") || !m.doc.contains("columns"))
    return Corruption(store.Describe(key) + " is not a backup manifest");
  for (const auto& c : m.doc["columns"]) {
    Column col{c.value("name", ""),
               c.value("source_type", "text"),
               c.value("nullable", true),
               {},
               c.value("domain_of", "")};
    for (const auto& l : c.value("enum_values", OJ::array())) col.enum_values.push_back(l);
    m.columns.push_back(std::move(col));
  }
  for (const auto& k : m.doc.value("primary_key", OJ::array())) m.primary_key.push_back(k);
  m.codec = m.doc.value("codec", "gzip");
  return m;
}

// Lines of decompressed text gathered into batches of `batch_size` for `target`; memory is
// one batch (and the line being read), not a part.
class LineBatcher {
 public:
  LineBatcher(Target* target, size_t batch_size, RestoreResult* result)
      : target_(target), batch_size_(std::max<size_t>(batch_size, 1)), result_(result) {}
  Status Add(std::string_view text) {
    size_t from = text_.size();
    text_.append(text);
    while (true) {
      size_t nl = text_.find('\n', from);
      if (nl == std::string::npos) return Status::Ok();
      if (nl > line_start_) ends_.push_back({line_start_, nl});
      line_start_ = from = nl + 1;
      if (ends_.size() >= batch_size_) {
        RETURN_IF_ERROR(Flush());
        from = 0;  // the text before it is gone
      }
    }
  }
  // The end of the part: its last line (even without a final newline) and the batch.
  Status Finish() {
    if (text_.size() > line_start_) ends_.push_back({line_start_, text_.size()});
    line_start_ = text_.size();
    return Flush();
  }

 private:
  Status Flush() {
    if (!ends_.empty() && target_) {
      views_.clear();
      for (auto [b, e] : ends_) views_.emplace_back(text_.data() + b, e - b);
      RETURN_IF_ERROR(target_->Write(views_));
      result_->rows += static_cast<int64_t>(views_.size());
    }
    ends_.clear();
    text_.erase(0, line_start_);  // keeps the line being read
    line_start_ = 0;
    return Status::Ok();
  }

  Target* target_;  // null: the lines are only counted out (a verifying read)
  size_t batch_size_;
  RestoreResult* result_;
  std::string text_;
  size_t line_start_ = 0;
  std::vector<std::pair<size_t, size_t>> ends_;
  std::vector<std::string_view> views_;
};

// One part read once: its bytes through SHA-256 and the decompressor, its lines to `target`
// (null: only verified). A part that does not decode is still read to its end, so that a
// corrupted one is reported as such; the sha256 is compared when its stream ends.
Status ReadPart(ObjectStore& store, const Manifest& m, const OJ& part, size_t batch_size,
                Target* target, RestoreResult* result) {
  std::string key = part.value("key", "");
  ASSIGN_OR_RETURN(auto decoder, MakeDecompressor(m.codec));
  aws::Sha256Stream sha;
  LineBatcher lines(target, batch_size, result);
  Status decoded;  // the first error of the decompressor or of the target
  auto to_lines = [&](std::string_view text) { return lines.Add(text); };
  Status read = store.GetStream(key, [&](std::string_view chunk) {
    sha.Update(chunk);
    if (decoded.ok()) decoded = decoder->Write(chunk, to_lines);
    // A target's error stops the read; a decoding error waits for the sha256.
    return decoded.ok() || decoded.code() == StatusCode::kCorruption ? Status::Ok() : decoded;
  });
  if (!read.ok()) {
    if (read.code() == StatusCode::kNotFound)
      return NotFound("backup " + result->run_id + " is missing part " + store.Describe(key) +
                      " (" + read.message() + "); nothing was restored");
    return read;
  }
  if (aws::Hex(sha.Finish()) != part.value("sha256", ""))
    return Corruption("part " + store.Describe(key) +
                      " does not match its sha256 in the manifest (corrupted); nothing was "
                      "restored");
  if (decoded.ok()) decoded = decoder->Finish(to_lines);
  if (decoded.ok()) decoded = lines.Finish();
  if (!decoded.ok() && decoded.code() == StatusCode::kCorruption)
    return Corruption("part " + store.Describe(key) + ": " + decoded.message() +
                      "; nothing was restored");
  return decoded;
}

}  // namespace

Result<IfExists> ParseIfExists(const std::string& s) {
  if (s.empty()) return IfExists::kUnset;
  if (s == "fail") return IfExists::kFail;
  if (s == "replace") return IfExists::kReplace;
  if (s == "append") return IfExists::kAppend;
  return InvalidArgument("--if-exists: '" + s +
                         "' is not accepted; expected fail, replace or append");
}

Result<std::vector<BackupListing>> ListBackups(ObjectStore& store, const std::string& folder,
                                               std::optional<Engine> engine,
                                               const std::string& table) {
  std::string prefix = folder + "/";
  if (engine) {
    prefix += EngineName(*engine) + "/";
    if (!table.empty()) prefix += table + "/";
  }
  ASSIGN_OR_RETURN(auto objects, store.List(prefix));
  std::vector<BackupListing> out;
  for (const auto& o : objects) {
    if (!EndsWith(o.key, "/manifest.json")) continue;
    // <folder>/<engine>/<table>/<run-id>/manifest.json
    std::string rest = o.key.substr(folder.size() + 1);
    auto parts = Split(rest, '/');
    if (parts.size() != 4) continue;
    auto e = ParseEngine(parts[0]);
    if (!e.ok() || (!table.empty() && parts[1] != table)) continue;
    auto text = store.Get(o.key);
    if (!text.ok()) continue;
    auto m = nlohmann::json::parse(*text, nullptr, false);
    if (m.is_discarded()) continue;
    BackupListing b;
    b.engine = *e;
    b.table = std::string(parts[1]);
    b.run_id = std::string(parts[2]);
    b.manifest_key = o.key;
    b.rows = m.value("row_count", int64_t{0});
    b.codec = m.value("codec", "");
    b.finished_at = m.value("finished_at", "");
    for (const auto& p : m.value("parts", nlohmann::json::array())) {
      b.parts++;
      b.bytes += p.value("bytes", uint64_t{0});
    }
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BackupListing& a, const BackupListing& b) {
    return a.run_id != b.run_id ? a.run_id > b.run_id : a.manifest_key < b.manifest_key;
  });
  return out;
}

Result<RestoreResult> RunRestore(const Config& config, ObjectStore& store, const RestoreOptions& o,
                                 const Say& say) {
  auto t0 = std::chrono::steady_clock::now();
  if (o.table.empty()) return InvalidArgument("--table: name the table to restore");
  ASSIGN_OR_RETURN(Manifest m, FindManifest(store, config, o));
  RestoreResult result;
  result.run_id = m.doc.value("run_id", "");
  if (m.doc.value("engine", "") != EngineName(o.engine))
    return InvalidArgument("backup " + store.Describe(m.key) + " is of " +
                           m.doc.value("engine", "?") + ", not " + EngineName(o.engine));

  // 1. Every part present (one listing) before anything is written; their bytes are checked
  // against the manifest's sha256 as they stream in (3.).
  const auto& parts = m.doc["parts"];
  std::string folder = m.key.substr(0, m.key.size() - std::string("manifest.json").size());
  ASSIGN_OR_RETURN(auto listed, store.List(folder));
  std::map<std::string, uint64_t> sizes;
  for (const auto& l : listed) sizes[l.key] = l.size;
  for (const auto& p : parts) {
    std::string key = p.value("key", "");
    auto it = sizes.find(key);
    if (it == sizes.end())
      return NotFound("backup " + result.run_id + " is missing part " + store.Describe(key) +
                      " (no such object); nothing was restored");
    if (p.contains("bytes") && it->second != p.value("bytes", uint64_t{0}))
      return Corruption("part " + store.Describe(key) + " holds " + std::to_string(it->second) +
                        " bytes, not the " + std::to_string(p.value("bytes", uint64_t{0})) +
                        " of the manifest (it does not match its sha256 either: corrupted); "
                        "nothing was restored");
  }
  say("[restore] " + store.Describe(m.key) + ": " + std::to_string(parts.size()) + " part(s), " +
      std::to_string(m.doc.value("row_count", int64_t{0})) + " rows");

  // 2. The target table: create it, or check the existing one.
  std::string table = o.target_table.empty() ? o.table : o.target_table;
  ASSIGN_OR_RETURN(auto target, OpenTarget(config, o, table, m));
  result.target = target->Describe();
  ASSIGN_OR_RETURN(auto existing, target->Columns());
  bool create = !existing.has_value(), replace = false;
  if (existing) {
    if (o.if_exists == IfExists::kFail)
      return AlreadyExists(target->Describe() + " exists (--if-exists fail); nothing was restored");
    if (o.if_exists == IfExists::kReplace) {
      replace = true;
    } else {
      if (o.engine != Engine::kMongo) {
        std::vector<std::string> want;
        for (const auto& c : m.columns) want.push_back(c.name);
        if (*existing != want)
          return AlreadyExists(target->Describe() + " exists with other columns (" +
                               Join(*existing, ", ") + ") than the backup (" + Join(want, ", ") +
                               "); restore with --target-table NEW_NAME or --if-exists replace");
      }
      ASSIGN_OR_RETURN(bool rows, target->HasRows());
      if (rows && o.if_exists != IfExists::kAppend)
        return AlreadyExists(target->Describe() +
                             " is not empty; restore with --if-exists append (add the rows), "
                             "--if-exists replace (replace the table) or --target-table");
    }
  }

  // A target that cannot undo a load that fails midway (MongoDB appending to an existing
  // collection): every part is read and verified once before the first write.
  if (!target->AllOrNothing(create, replace)) {
    for (const auto& p : parts)
      RETURN_IF_ERROR(ReadPart(store, m, p, o.batch_size, nullptr, &result));
    say("[restore] " + std::to_string(parts.size()) + " part(s) verified before appending");
  }

  // 3. Load, part by part as it streams in, a batch at a time; a part that does not match its
  // sha256 (or does not decode) fails the load before the commit, which undoes it.
  RETURN_IF_ERROR(target->Begin(create, replace));
  for (const auto& p : parts) {
    Status s = ReadPart(store, m, p, o.batch_size, target.get(), &result);
    if (!s.ok()) {
      target->Abort();
      return s;
    }
    result.parts++;
    say("[restore] part " + std::to_string(result.parts) + "/" + std::to_string(parts.size()) +
        ": " + std::to_string(result.rows) + " rows so far");
  }
  RETURN_IF_ERROR(target->Commit());
  result.warnings = target->warnings;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace di
