// The MySQL / MariaDB database sink of restore (sinks/database_sink.h): backup records as
// multi-row INSERTs in one transaction, values turned into MySQL literals.
#include <mysql.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "sinks/backup_record.h"
#include "sinks/database_sink.h"
#include "sinks/record_text.h"
#include "sources/mysql_source.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

bool IsBinaryType(const std::string& t) {
  return StartsWith(t, "binary") || StartsWith(t, "varbinary") ||
         t.find("blob") != std::string::npos || StartsWith(t, "geometry") ||
         StartsWith(t, "point") || StartsWith(t, "linestring") || StartsWith(t, "polygon") ||
         StartsWith(t, "multi") || t == "bytea";
}

// MySQL / MariaDB: multi-row INSERTs in one transaction; a new or replacing table is loaded
// as `<table>__di_restore` and renamed into place.
class MySqlSink : public DatabaseSink {
 public:
  MySqlSink(SqlSettings s, std::string table, std::shared_ptr<const TimeZone> tz)
      : s_(std::move(s)), table_(std::move(table)), tz_(std::move(tz)) {}
  ~MySqlSink() override {
    if (open()) Abort();
    if (db_) mysql_close(db_);
  }
  Status Connect() {
    db_ = mysql_init(nullptr);
    unsigned timeout = 10;
    mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (Status s = MySqlConnect(db_, s_); !s.ok())
      return Status(s.code(), name() + ": cannot connect: " + s.message());
    RETURN_IF_ERROR(Exec("SET NAMES utf8mb4"));
    RETURN_IF_ERROR(Exec("SET time_zone = '+00:00'"));
    RETURN_IF_ERROR(Exec("SET foreign_key_checks = 0"));
    return Exec("SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  }
  std::string name() const override {
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
  // A new or replacing table is staged as `<table>__di_restore`, renamed into place by Commit.
  Status Begin() override {
    staged_ = mode_.create || mode_.replace;
    replace_ = mode_.replace;
    into_ = staged_ ? table_ + "__di_restore" : table_;
    if (staged_) {
      RETURN_IF_ERROR(Exec("DROP TABLE IF EXISTS " + Q(into_)));
      std::string sql = "CREATE TABLE " + Q(into_) + " (";
      for (size_t i = 0; i < backed_up_.columns.size(); ++i)
        sql += (i ? ", " : "") + Q(backed_up_.columns[i].name) + " " +
               backed_up_.columns[i].source_type +
               (backed_up_.columns[i].nullable ? " NULL" : " NOT NULL");
      if (!backed_up_.primary_key.empty()) {
        sql += ", PRIMARY KEY (";
        for (size_t i = 0; i < backed_up_.primary_key.size(); ++i)
          sql += (i ? ", " : "") + Q(backed_up_.primary_key[i]);
        sql += ")";
      }
      RETURN_IF_ERROR(Exec(sql + ") DEFAULT CHARSET = utf8mb4"));
    }
    types_.clear();
    for (const auto& c : backed_up_.columns) {
      cols_ += (cols_.empty() ? "" : ", ") + Q(c.name);
      types_.push_back(ToLower(c.source_type));
    }
    return Exec("START TRANSACTION");
  }
  // Each value as a literal straight from its JSON text (docs/formats.md, Records): numbers
  // and JSON documents digit for digit, as no parse into doubles would keep them.
  Status Load(const std::vector<std::string_view>& lines) override {
    std::string sql = "INSERT INTO " + Q(into_) + " (" + cols_ + ") VALUES ";
    bool first = true;
    for (auto line : lines) {
      if (!SplitRecord(line, &fields_)) return Corruption("a backup line is not a JSON object");
      sql += first ? "(" : ", (";
      first = false;
      for (size_t i = 0; i < backed_up_.columns.size(); ++i) {
        if (i) sql += ", ";
        ASSIGN_OR_RETURN(const RecordField* f, FieldOf(i));
        RETURN_IF_ERROR(AppendLiteral(f, types_[i], sql));
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
    Closed();
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
  // The field of column i in the line split into fields_ (null when it has none): the i-th
  // when the record is in the manifest's order (the writer's), else found by name.
  Result<const RecordField*> FieldOf(size_t i) {
    const std::string& name = backed_up_.columns[i].name;
    if (i < fields_.size() && !fields_[i].key_escaped && fields_[i].key == name) return &fields_[i];
    for (const auto& f : fields_) {
      if (!f.key_escaped) {
        if (f.key == name) return &f;
        continue;
      }
      key_.clear();
      if (!AppendUnescaped(f.key, key_)) return Corruption("a backup line has a malformed key");
      if (key_ == name) return &f;
    }
    return static_cast<const RecordField*>(nullptr);
  }
  Status AppendLiteral(const RecordField* f, const std::string& type, std::string& out) {
    if (!f || f->kind == RecordField::kNull) {
      out += "NULL";
      return Status::Ok();
    }
    if (type == "json") {  // the document's own text
      if (f->kind == RecordField::kString)
        out += Literal("\"" + std::string(f->value) + "\"");
      else
        out += Literal(f->value);
      return Status::Ok();
    }
    switch (f->kind) {
      case RecordField::kTrue:
      case RecordField::kFalse:
        out += f->kind == RecordField::kTrue ? "1" : "0";
        return Status::Ok();
      case RecordField::kNumber:
        out += f->value;
        // A float's literal with an exponent: "-0" alone is the integer 0, "-0e0" the double.
        if ((StartsWith(type, "double") || StartsWith(type, "float") || StartsWith(type, "real")) &&
            f->value.find_first_of("eE") == std::string_view::npos)
          out += "e0";
        return Status::Ok();
      case RecordField::kString:
        break;
      default:
        out += Literal(f->value);
        return Status::Ok();
    }
    text_.clear();
    if (!AppendUnescaped(f->value, text_))
      return Corruption("a backup line has a malformed JSON string");
    if (IsBinaryType(type))
      out += "X'" + HexOfBase64(text_) + "'";
    else if (StartsWith(type, "datetime"))
      out += Literal(WallTime(text_, *tz_));
    else if (StartsWith(type, "timestamp"))
      out += Literal(WallTime(text_, *TimeZone::Utc()));
    else
      out += Literal(text_);
    return Status::Ok();
  }
  Status Exec(const std::string& sql) {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0)
      return Unavailable(name() + ": " + sql.substr(0, 60) + "… failed: " + mysql_error(db_));
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
  std::vector<std::string> types_;   // per column: its source type, lower case
  std::vector<RecordField> fields_;  // the line being loaded
  std::string key_, text_;           // scratch: a key, a string value unescaped
  std::shared_ptr<const TimeZone> tz_;
  MYSQL* db_ = nullptr;
  bool staged_ = false, replace_ = false;
};

}  // namespace

Result<std::unique_ptr<DatabaseSink>> ConnectMySqlSink(const SqlSettings& s,
                                                       const std::string& table,
                                                       std::shared_ptr<const TimeZone> tz) {
  auto t = std::make_unique<MySqlSink>(s, table, tz);
  RETURN_IF_ERROR(t->Connect());
  return std::unique_ptr<DatabaseSink>(std::move(t));
}

}  // namespace di
