#include "sources/mysql_source.h"

#include <mysql.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "core/cells.h"
#include "core/json_encode.h"
#include "core/strings.h"

namespace di {
namespace {

enum class Conv {
  kBool,
  kInt,
  kUInt,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kDateTime,
  kTimestamp,
  kTime,
  kJson,
  kBit
};

struct ColumnConv {
  Conv conv = Conv::kString;
};

std::string Quote(std::string_view ident) {
  return QuoteIdentifier(ident, '`');
}

class MySqlSource;

class MySqlReader : public RowReader, public CellDecoder {
 public:
  MySqlReader(MySqlSource& src, TableInfo table, ReadOptions options,
              std::vector<ColumnConv> convs);
  ~MySqlReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  // Cells from the streamed result's text.
  bool CanReadCells() const override { return true; }
  Result<bool> NextCells(CellBatch* batch) override;
  Value Decode(size_t column, std::string_view text) const override;
  // Another command needs the connection: the streamed result is read to its end and freed.
  // An ordered read asks again from its last batch's position at its next batch (the rest
  // of the table then comes from a later snapshot); a full read fails there.
  void Interrupt();

 private:
  // Every read is one streamed query (mysql_use_result, one InnoDB consistent read):
  // the full read in primary-key order, an ordered read from options_.after in its order.
  std::string SelectSql();
  // The next row of the streamed query (its lengths in *len); false at the end.
  Result<bool> NextRow(MYSQL_ROW* row, unsigned long** len);
  Result<bool> NextStreamed(RecordBatch* batch);
  Result<bool> NextOrdered(RecordBatch* batch);

  MySqlSource& src_;
  TableInfo table_;
  ReadOptions options_;
  std::vector<ColumnConv> convs_;
  MYSQL_RES* res_ = nullptr;
  bool started_ = false;
  bool done_ = false;
  bool interrupted_ = false;     // a full read's result was freed for another command
  std::vector<CellText> kinds_;  // per column: how its text reads
};

class MySqlSource : public Source {
 public:
  explicit MySqlSource(SqlSourceOptions o) : o_(std::move(o)) {}
  ~MySqlSource() override {
    if (db_) mysql_close(db_);
  }

  Status Connect() {
    db_ = mysql_init(nullptr);
    unsigned int proto = MYSQL_PROTOCOL_TCP;
    unsigned int ct = static_cast<unsigned>(o_.connect_timeout_seconds);
    unsigned int rt = static_cast<unsigned>(o_.read_timeout_seconds);
    mysql_options(db_, MYSQL_OPT_PROTOCOL, &proto);
    mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(db_, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(db_, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(db_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db_, o_.db.host.c_str(), o_.db.user.c_str(), o_.db.password.c_str(),
                            o_.db.database.c_str(), static_cast<unsigned>(o_.db.port), nullptr, 0))
      return Error("cannot connect", mysql_errno(db_) == 1045 ? StatusCode::kUnauthenticated
                                                              : StatusCode::kUnavailable);
    // A streamed read waits while its sinks work (backpressure): the server must not give up
    // sending it after its default 60 s (mydumper and mysqldump raise it too).
    return Exec("SET time_zone = '+00:00', net_write_timeout = 3600");
  }

  Engine engine() const override { return Engine::kMySql; }

  Result<std::vector<std::string>> ListTables() override {
    ASSIGN_OR_RETURN(auto rows, Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                                      "TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' "
                                      "ORDER BY TABLE_NAME"));
    std::vector<std::string> out;
    for (auto& r : rows) out.push_back(r[0]);
    return out;
  }

  Result<TableInfo> Describe(const std::string& table, const std::string& cursor_column) override {
    std::string lit = Literal(table);
    ASSIGN_OR_RETURN(auto cols, Query("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM "
                                      "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                                      "AND TABLE_NAME = " +
                                      lit + " ORDER BY ORDINAL_POSITION"));
    if (cols.empty()) return NotFound(Where() + ": table '" + table + "' does not exist");
    ASSIGN_OR_RETURN(auto checks,
                     Query("SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                           "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = " +
                           lit));
    ASSIGN_OR_RETURN(auto pk,
                     Query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                           "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                           lit + " AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION"));
    TableInfo t;
    t.engine = Engine::kMySql;
    t.database = o_.db.database;
    t.name = table;
    for (auto& c : cols) {
      ColumnInfo ci{c[0], c[1], c[2] == "YES", {}, ""};
      // MariaDB's JSON is LONGTEXT with a json_valid() check on the column.
      for (auto& ch : checks)
        if (ch[0] == "json_valid(" + Quote(ci.name) + ")") ci.source_type = "json";
      if (ci.name == cursor_column) t.cursor_column = cursor_column;
      t.columns.push_back(std::move(ci));
    }
    for (auto& p : pk) t.primary_key.push_back(p[0]);
    return t;
  }

  Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                          const ReadOptions& options) override {
    RETURN_IF_ERROR(CheckKeysetRead(Where(), table, options));
    std::vector<ColumnConv> convs;
    for (const auto& c : table.columns) convs.push_back(ConvFor(c.source_type));
    return std::unique_ptr<RowReader>(new MySqlReader(*this, table, options, std::move(convs)));
  }

  // A transaction WITH CONSISTENT SNAPSHOT on the reading connection: every read opened next
  // (and a streamed read asked again after an interruption) sees that one snapshot, whose
  // binlog place MariaDB gives (Binlog_snapshot_file/position) and BINLOG_GTID_POS names.
  Result<LogPosition> PinSnapshot() override {
    ReleaseSnapshot();
    ASSIGN_OR_RETURN(auto bin, Query("SELECT @@log_bin"));
    if (bin.empty() || bin[0][0] != "1")
      return InvalidArgument(Where() +
                             ": log_bin is off, so a snapshot's place in the binlog cannot be "
                             "pinned for change capture; start the server with log_bin, "
                             "server_id, binlog_format=ROW and binlog_row_image=FULL");
    RETURN_IF_ERROR(Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"));
    in_snapshot_ = true;
    ASSIGN_OR_RETURN(auto status, Query("SHOW STATUS LIKE 'binlog_snapshot_%'"));
    LogPosition p{Engine::kMySql, "", "", 0};
    for (const auto& r : status) {
      if (r.size() < 2) continue;
      if (r[0] == "Binlog_snapshot_file") p.file = r[1];
      if (r[0] == "Binlog_snapshot_position") p.offset = std::strtoull(r[1].c_str(), nullptr, 10);
    }
    if (p.file.empty()) return LogPosition();  // (no binlog position: nothing to record)
    ASSIGN_OR_RETURN(auto gtid, Query("SELECT BINLOG_GTID_POS(" + Literal(p.file) + ", " +
                                      std::to_string(p.offset) + ")"));
    p.position = gtid.empty() ? "" : gtid[0][0];
    return p;
  }
  void ReleaseSnapshot() override {
    if (in_snapshot_) Exec("COMMIT").ok();
    in_snapshot_ = false;
  }

  Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) override {
    ASSIGN_OR_RETURN(
        auto rows,
        Query("SELECT COUNT(*) FROM information_schema.STATISTICS WHERE "
              "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
              Literal(table.name) + " AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = " + Literal(column)));
    return !rows.empty() && rows[0][0] != "0";
  }

  int64_t EstimateRows(const TableInfo& table) override {
    auto rows = Query(
        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = " +
        Literal(table.name));
    if (!rows.ok() || rows->empty() || (*rows)[0][0].empty()) return -1;
    return std::stoll((*rows)[0][0]);
  }

  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table, const std::string& column,
                                                 const std::vector<Value>& values) override {
    std::vector<std::vector<Value>> rows;
    if (values.empty()) return rows;
    std::vector<ColumnConv> convs;
    size_t at = table.columns.size();
    for (size_t i = 0; i < table.columns.size(); ++i) {
      convs.push_back(ConvFor(table.columns[i].source_type));
      if (table.columns[i].name == column) at = i;
    }
    if (at == table.columns.size())
      return InvalidArgument(Where() + ": table '" + table.name + "' has no column '" + column +
                             "'");
    std::string sql = "SELECT ";
    for (size_t i = 0; i < table.columns.size(); ++i)
      sql += (i ? ", " : "") + Quote(table.columns[i].name);
    sql += " FROM " + Quote(table.name) + " WHERE " + Quote(column) + " IN (";
    for (size_t i = 0; i < values.size(); ++i)
      sql += (i ? ", " : "") + LiteralFor(convs[at], values[i]);
    sql += ")";
    if (mysql_real_query(db(), sql.data(), sql.size()) != 0)
      return Error("reading table '" + table.name + "' failed");
    MYSQL_RES* res = mysql_store_result(db_);
    if (!res) return Error("reading table '" + table.name + "' failed");
    while (MYSQL_ROW row = mysql_fetch_row(res)) rows.push_back(RowValues(res, row, convs));
    mysql_free_result(res);
    return rows;
  }

  // --- used by the reader
  // The connection, for `by` (null: the source itself): another reader's streamed result is
  // interrupted first.
  MYSQL* db(MySqlReader* by = nullptr) {
    if (streaming_ && streaming_ != by) streaming_->Interrupt();
    return db_;
  }
  void set_streaming(MySqlReader* reader) { streaming_ = reader; }
  MySqlReader* streaming() const { return streaming_; }
  const SqlSourceOptions& options() const { return o_; }
  std::string Where() const {
    return "MySQL " + o_.db.host + ":" + std::to_string(o_.db.port) + "/" + o_.db.database;
  }
  Status Error(const std::string& what, StatusCode code = StatusCode::kUnavailable) {
    std::string msg = Where() + ": " + what + ": " + mysql_error(db_);
    unsigned err = mysql_errno(db_);
    if (err == 1146) code = StatusCode::kNotFound;
    return Status(code, msg);
  }
  Status Exec(const std::string& sql) {
    if (mysql_real_query(db(), sql.data(), sql.size()) != 0) return Error("query failed");
    if (MYSQL_RES* r = mysql_store_result(db_)) mysql_free_result(r);
    return Status::Ok();
  }
  std::string Literal(std::string_view s) {
    std::string out(s.size() * 2 + 3, '\0');
    out[0] = '\'';
    unsigned long n = mysql_real_escape_string(db_, out.data() + 1, s.data(), s.size());
    out.resize(n + 1);
    return out + "'";
  }

  Value Convert(const ColumnConv& c, const char* p, unsigned long len) const;
  // How a column's text reads for the sinks' encoders (core/cells.h).
  CellText CellTextOf(const ColumnConv& c) const {
    switch (c.conv) {
      case Conv::kString:
        return CellText::kString;
      case Conv::kDecimal:
        return CellText::kDecimal;
      case Conv::kJson:
        return CellText::kJson;
      case Conv::kDate:
        return CellText::kDate;
      case Conv::kInt:
      case Conv::kUInt:
        return CellText::kInteger;
      case Conv::kTimestamp:  // read in UTC (the session's zone)
        return CellText::kUtcTimestamp;
      case Conv::kDateTime:  // wall time in SOURCE_TZ
        return o_.source_tz->is_utc() ? CellText::kUtcTimestamp : CellText::kOther;
      default:  // the rest hold no text of their own (binary aside)
        return CellText::kOther;
    }
  }
  // The current row of `res` as Values (NULL for SQL NULL).
  std::vector<Value> RowValues(MYSQL_RES* res, MYSQL_ROW row,
                               const std::vector<ColumnConv>& convs) const {
    unsigned long* len = mysql_fetch_lengths(res);
    std::vector<Value> out;
    out.reserve(convs.size());
    for (size_t i = 0; i < convs.size(); ++i)
      out.push_back(row[i] ? Convert(convs[i], row[i], len[i]) : Value(Null{}));
    return out;
  }
  std::string LiteralFor(const ColumnConv& c, const Value& v);

 private:
  static ColumnConv ConvFor(const std::string& type) {
    std::string t = ToLower(type);
    auto starts = [&](const char* p) { return StartsWith(t, p); };
    bool is_unsigned = t.find("unsigned") != std::string::npos;
    if (t == "tinyint(1)") return {Conv::kBool};
    if (starts("tinyint") || starts("smallint") || starts("mediumint") || starts("int") ||
        starts("bigint") || starts("year"))
      return {is_unsigned ? Conv::kUInt : Conv::kInt};
    if (starts("decimal") || starts("numeric")) return {Conv::kDecimal};
    if (starts("float") || starts("double") || starts("real")) return {Conv::kDouble};
    if (starts("datetime")) return {Conv::kDateTime};
    if (starts("timestamp")) return {Conv::kTimestamp};
    if (starts("date")) return {Conv::kDate};
    if (starts("time")) return {Conv::kTime};
    if (t == "json") return {Conv::kJson};
    if (starts("bit")) return {Conv::kBit};
    if (starts("binary") || starts("varbinary") || t.find("blob") != std::string::npos ||
        starts("geometry") || starts("point") || starts("linestring") || starts("polygon") ||
        starts("multi") || starts("geometrycollection"))
      return {Conv::kBytes};
    return {Conv::kString};  // char, varchar, text, enum, set, uuid, inet...
  }

  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) {
    if (mysql_real_query(db(), sql.data(), sql.size()) != 0) return Error("query failed");
    MYSQL_RES* r = mysql_store_result(db_);
    if (!r) return Error("no result");
    std::vector<std::vector<std::string>> out;
    unsigned n = mysql_num_fields(r);
    while (MYSQL_ROW row = mysql_fetch_row(r)) {
      unsigned long* len = mysql_fetch_lengths(r);
      out.emplace_back();
      for (unsigned i = 0; i < n; ++i)
        out.back().emplace_back(row[i] ? std::string(row[i], len[i]) : "");
    }
    mysql_free_result(r);
    return out;
  }

  SqlSourceOptions o_;
  MYSQL* db_ = nullptr;
  MySqlReader* streaming_ = nullptr;  // the reader whose streamed result holds the connection
  bool in_snapshot_ = false;          // a PinSnapshot transaction is open
};

MySqlReader::MySqlReader(MySqlSource& src, TableInfo table, ReadOptions options,
                         std::vector<ColumnConv> convs)
    : src_(src), table_(std::move(table)), options_(std::move(options)), convs_(std::move(convs)) {
  for (const auto& c : convs_) kinds_.push_back(src_.CellTextOf(c));
}

Value MySqlReader::Decode(size_t column, std::string_view text) const {
  return src_.Convert(convs_[column], text.data(), text.size());
}

MySqlReader::~MySqlReader() {
  if (res_) mysql_free_result(res_);
  if (src_.streaming() == this) src_.set_streaming(nullptr);
}

void MySqlReader::Interrupt() {
  if (res_) mysql_free_result(res_);  // reads what is left of the result
  res_ = nullptr;
  src_.set_streaming(nullptr);
  started_ = false;
  if (!options_.ordered()) interrupted_ = true;
}

Value MySqlSource::Convert(const ColumnConv& c, const char* p, unsigned long len) const {
  std::string_view s(p, len);
  switch (c.conv) {
    case Conv::kBool:
      if (s == "0") return false;
      if (s == "1") return true;
      [[fallthrough]];  // tinyint(1) holding another number: keep the number
    case Conv::kInt: {
      int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kUInt: {
      uint64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec != std::errc()) return std::string(s);
      if (v <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v);
      return v;
    }
    case Conv::kDouble: {
      double v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kDecimal:
      return Decimal{std::string(s)};
    case Conv::kBytes:
      return Bytes{std::string(s), 0};
    case Conv::kJson:
      return Json{std::string(s)};
    case Conv::kDate: {
      int32_t days;
      if (ParseSqlDate(s, &days)) return Date{days};
      return std::string(s);  // 0000-00-00 and friends keep MySQL's spelling
    }
    case Conv::kDateTime:
    case Conv::kTimestamp: {
      int64_t micros;
      bool has_offset;
      if (!ParseSqlTimestamp(s, &micros, &has_offset)) return std::string(s);
      if (c.conv == Conv::kDateTime) micros = o_.source_tz->LocalMicrosToUtc(micros);
      return Timestamp{micros};
    }
    case Conv::kTime: {
      int64_t micros;
      if (ParseSqlTime(s, &micros)) return TimeOfDay{micros};
      return std::string(s);
    }
    case Conv::kBit: {
      uint64_t v = 0;
      for (char ch : s) v = v << 8 | static_cast<unsigned char>(ch);
      return static_cast<int64_t>(v);
    }
    case Conv::kString:
      return std::string(s);
  }
  return std::string(s);
}

std::string MySqlSource::LiteralFor(const ColumnConv& c, const Value& v) {
  if (const auto* ts = v.get_if<Timestamp>()) {
    int64_t micros = ts->micros;
    if (c.conv == Conv::kDateTime) micros = o_.source_tz->UtcMicrosToLocal(micros);
    std::string iso = FormatTimestamp(micros);  // 2025-01-31T00:00:00.250000Z
    return "'" + iso.substr(0, 10) + " " + iso.substr(11, 15) + "'";
  }
  if (const auto* d = v.get_if<Date>()) return "'" + FormatDate(d->days) + "'";
  if (const auto* i = v.get_if<int64_t>()) return std::to_string(*i);
  if (const auto* u = v.get_if<uint64_t>()) return std::to_string(*u);
  if (const auto* b = v.get_if<bool>()) return *b ? "1" : "0";
  if (const auto* dec = v.get_if<Decimal>()) return Literal(dec->text);
  if (const auto* dbl = v.get_if<double>()) return FormatDouble(*dbl);
  if (const auto* str = v.get_if<std::string>()) return Literal(*str);
  if (const auto* by = v.get_if<Bytes>()) return Literal(by->data);
  if (const auto* t = v.get_if<TimeOfDay>()) return "'" + FormatTime(t->micros) + "'";
  return "NULL";
}

Result<bool> MySqlReader::Next(RecordBatch* batch) {
  batch->clear();
  if (done_) return false;
  return options_.ordered() ? NextOrdered(batch) : NextStreamed(batch);
}

Result<bool> MySqlReader::NextRow(MYSQL_ROW* row, unsigned long** len) {
  if (done_) return false;
  if (interrupted_)
    return Internal(src_.Where() + ": reading table '" + table_.name +
                    "' was interrupted by another command on its connection");
  MYSQL* db = src_.db(this);
  if (!started_) {
    started_ = true;
    std::string sql = SelectSql();
    if (mysql_real_query(db, sql.data(), sql.size()) != 0)
      return src_.Error("reading table '" + table_.name + "' failed");
    res_ = mysql_use_result(db);
    if (!res_) return src_.Error("reading table '" + table_.name + "' failed");
    src_.set_streaming(this);
  }
  *row = mysql_fetch_row(res_);
  if (!*row) {
    if (mysql_errno(db) != 0) return src_.Error("reading table '" + table_.name + "' failed");
    mysql_free_result(res_);
    res_ = nullptr;
    src_.set_streaming(nullptr);
    done_ = true;
    return false;
  }
  *len = mysql_fetch_lengths(res_);
  return true;
}

Result<bool> MySqlReader::NextStreamed(RecordBatch* batch) {
  while (batch->rows.size() < options_.batch_size) {
    MYSQL_ROW row;
    unsigned long* len;
    ASSIGN_OR_RETURN(bool more, NextRow(&row, &len));
    if (!more) break;
    batch->rows.push_back(src_.RowValues(res_, row, convs_));
  }
  return !batch->rows.empty() || !done_;
}

Result<bool> MySqlReader::NextCells(CellBatch* batch) {
  batch->clear();
  batch->kinds = kinds_;
  batch->decoder = this;
  if (done_) return false;
  size_t rows = 0;
  for (; rows < options_.batch_size; ++rows) {
    MYSQL_ROW row;
    unsigned long* len;
    ASSIGN_OR_RETURN(bool more, NextRow(&row, &len));
    if (!more) break;
    for (size_t i = 0; i < convs_.size(); ++i)
      batch->Add(row[i] ? std::string_view(row[i], len[i]) : std::string_view(), !row[i]);
  }
  if (rows == 0) return false;
  if (options_.ordered()) {
    const std::vector<size_t> idx = OrderColumns(table_, options_);
    std::vector<Value> last(convs_.size());
    for (size_t i : idx) last[i] = batch->value(rows - 1, i);
    options_.after = PositionIn(last, idx, options_.by_key);
    batch->last = options_.after;
  }
  return true;
}

std::string MySqlReader::SelectSql() {
  std::string sql = "SELECT ";
  for (size_t i = 0; i < table_.columns.size(); ++i)
    sql += (i ? ", " : "") + Quote(table_.columns[i].name);
  sql += " FROM " + Quote(table_.name);
  if (!options_.ordered()) {
    if (!table_.primary_key.empty()) {
      sql += " ORDER BY ";
      for (size_t i = 0; i < table_.primary_key.size(); ++i)
        sql += (i ? ", " : "") + Quote(table_.primary_key[i]);
    }
    return sql;
  }
  // (cursor, pk...) or (pk...) > (after), in that order.
  return sql + OrderedReadTail(table_, options_, Quote, [&](size_t column, const Value& v) {
           return src_.LiteralFor(convs_[column], v);
         });
}

Result<bool> MySqlReader::NextOrdered(RecordBatch* batch) {
  ASSIGN_OR_RETURN(bool more, NextStreamed(batch));
  if (batch->rows.empty()) return false;
  options_.after = PositionIn(batch->rows.back(), OrderColumns(table_, options_), options_.by_key);
  batch->last = options_.after;
  return more;
}

}  // namespace

Result<std::unique_ptr<Source>> OpenMySqlSource(const SqlSourceOptions& options) {
  auto src = std::make_unique<MySqlSource>(options);
  RETURN_IF_ERROR(src->Connect());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace di
