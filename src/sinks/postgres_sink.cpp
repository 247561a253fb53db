// The PostgreSQL database sink of restore (sinks/database_sink.h): backup records as COPY FROM
// STDIN text in one transaction (a new or replaced table included), enums, domains,
// composites and ranges the target lacks created from the backup's columns.
#include <libpq-fe.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/lazy_lib.h"
#include "core/strings.h"
#include "sinks/backup_record.h"
#include "sinks/database_sink.h"
#include "sinks/pg_text.h"
#include "sinks/record_text.h"
#include "sources/postgres_source.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

// PostgreSQL: COPY FROM STDIN inside one transaction (a new or replaced table included).
class PostgresSink : public DatabaseSink {
 public:
  PostgresSink(std::string conninfo, std::string where, std::string table,
               std::shared_ptr<const TimeZone> tz)
      : conninfo_(std::move(conninfo)),
        where_(std::move(where)),
        table_(std::move(table)),
        tz_(std::move(tz)) {}
  ~PostgresSink() override {
    if (open()) Abort();
    if (conn_) PQfinish(conn_);
  }
  Status Connect() {
    RETURN_IF_ERROR(kPqLibrary.Load());
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK)
      return Unavailable(where_ + ": cannot connect: " + std::string(Trim(PQerrorMessage(conn_))));
    RETURN_IF_ERROR(Exec("SET client_min_messages = warning"));
    // money: its text (a decimal, or a backup's "$1,234.56") read in one spelling whatever the
    // server's lc_monetary.
    RETURN_IF_ERROR(Exec("SET lc_monetary = 'C'"));
    return Exec("SET TIME ZONE 'UTC'");
  }
  std::string name() const override { return where_ + " table " + table_; }
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
  // Enums and domains, the table (created or replaced), then the COPY, in one transaction.
  Status Begin() override {
    RETURN_IF_ERROR(Exec("BEGIN"));
    RETURN_IF_ERROR(MakeTypes());
    if (mode_.replace) RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + QTable()));
    if (mode_.create || mode_.replace) RETURN_IF_ERROR(CreateTable());
    return BeginCopy();
  }
  Status Commit() override {
    Status s = EndCopyIn(conn_);
    if (!s.ok()) {
      Exec("ROLLBACK").ok();
      return Unavailable(name() + ": COPY failed: " + s.message());
    }
    return Exec("COMMIT");
  }
  void Abort() override {
    Closed();
    if (PQputCopyEnd(conn_, "restore stopped") == 1)
      while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    (void)Exec("ROLLBACK");
  }

 private:
  // Types the target lacks: an enum, domain, composite or range of the source database is
  // created from the backup's columns (a domain without its constraints); any other becomes
  // text, with a warning.
  Status MakeTypes() {
    SetKinds();
    types_.clear();
    std::set<std::string> made;
    for (const auto& c : backed_up_.columns) {
      std::string t = c.source_type;
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
        } else if (!c.type_definition.empty()) {
          // A composite or range (its array type comes with it).
          RETURN_IF_ERROR(Exec("CREATE TYPE " + base + " AS " + c.type_definition));
          made.insert(base);
        } else {
          warnings_.push_back("column " + c.name + ": type " + t +
                              " is not in the target; restored as " + (array ? "text[]" : "text"));
          t = array ? "text[]" : "text";
        }
      }
      types_.push_back(t);
    }
    return Status::Ok();
  }
  // The table of the backup's columns (in the types MakeTypes chose) and key.
  Status CreateTable() {
    auto [schema, name] = Split();
    if (schema != "public")
      RETURN_IF_ERROR(Exec("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(schema, '"')));
    const auto& columns = backed_up_.columns;
    std::string sql = "CREATE TABLE " + QTable() + " (";
    for (size_t i = 0; i < columns.size(); ++i)
      sql += (i ? ", " : "") + QuoteIdentifier(columns[i].name, '"') + " " + types_[i] +
             (columns[i].nullable ? "" : " NOT NULL");
    if (!backed_up_.primary_key.empty()) {
      sql += ", PRIMARY KEY (";
      for (size_t i = 0; i < backed_up_.primary_key.size(); ++i)
        sql += (i ? ", " : "") + QuoteIdentifier(backed_up_.primary_key[i], '"');
      sql += ")";
    }
    return Exec(sql + ")");
  }
  Status BeginCopy() {
    std::string cols;
    for (const auto& c : backed_up_.columns)
      cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c.name, '"');
    PGresult* r = PQexec(conn_, ("COPY " + QTable() + " (" + cols + ") FROM STDIN").c_str());
    bool ok = PQresultStatus(r) == PGRES_COPY_IN;
    std::string message = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) return Unavailable(name() + ": COPY failed: " + std::string(Trim(message)));
    return Status::Ok();
  }
  Status Load(const std::vector<std::string_view>& lines) override {
    buf_.clear();
    for (auto line : lines) {
      // The fast path: the record's fields in the manifest's column order, each value turned
      // into COPY text straight from its JSON text; any other record goes through a JSON tree.
      if (!SplitRecord(line, &fields_)) return Corruption("a backup line is not a JSON object");
      bool in_order = fields_.size() == kinds_.size();
      for (size_t i = 0; in_order && i < fields_.size(); ++i)
        in_order = !fields_[i].key_escaped && fields_[i].key == backed_up_.columns[i].name;
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
      for (size_t i = 0; i < backed_up_.columns.size(); ++i) {
        if (i) buf_ += '\t';
        auto it = row.find(backed_up_.columns[i].name);
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
      return Unavailable(name() + ": COPY failed: " + std::string(Trim(PQerrorMessage(conn_))));
    return Status::Ok();
  }
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
    for (const auto& c : backed_up_.columns) {
      ColumnKind k{ToLower(c.source_type)};
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
      return Unavailable(name() + ": " + sql.substr(0, 60) +
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
      return Unavailable(name() + ": " + std::string(Trim(message)));
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
  std::shared_ptr<const TimeZone> tz_;
  PGconn* conn_ = nullptr;
  std::vector<std::string> types_;
  std::vector<ColumnKind> kinds_;
  std::vector<RecordField> fields_;
  std::vector<std::vector<RecordField>> elements_;  // of arrays, per nesting depth
  std::string buf_, field_, element_;
};

}  // namespace

Result<std::unique_ptr<DatabaseSink>> ConnectPostgresSink(const SqlSettings& s,
                                                          const std::string& table,
                                                          std::shared_ptr<const TimeZone> tz) {
  std::string where = "postgresql://" + s.host + ":" + std::to_string(s.port) + "/" + s.database;
  auto t = std::make_unique<PostgresSink>(PgConninfo(s), where, table, tz);
  RETURN_IF_ERROR(t->Connect());
  return std::unique_ptr<DatabaseSink>(std::move(t));
}

}  // namespace di
