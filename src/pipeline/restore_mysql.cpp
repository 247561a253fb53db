// Restore's MySQL / MariaDB target (pipeline/restore_internal.h): the backed-up rows as
// multi-row INSERTs in one transaction, values turned into MySQL literals.
#include <mysql.h>

#include <memory>

#include "core/strings.h"
#include "pipeline/restore_internal.h"

namespace di::restore_internal {
namespace {

bool IsBinaryType(const std::string& t) {
  return StartsWith(t, "binary") || StartsWith(t, "varbinary") ||
         t.find("blob") != std::string::npos || StartsWith(t, "geometry") ||
         StartsWith(t, "point") || StartsWith(t, "linestring") || StartsWith(t, "polygon") ||
         StartsWith(t, "multi") || t == "bytea";
}

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

}  // namespace

Result<std::unique_ptr<Target>> ConnectMySqlTarget(const SqlSettings& s, const std::string& table,
                                                   const Manifest& m,
                                                   std::shared_ptr<const TimeZone> tz) {
  auto t = std::make_unique<MySqlTarget>(s, table, m, tz);
  RETURN_IF_ERROR(t->Connect());
  return std::unique_ptr<Target>(std::move(t));
}

}  // namespace di::restore_internal
