#include "sources/postgres_source.h"
#include "core/lazy_lib.h"

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "core/cells.h"
#include "core/json_encode.h"
#include "core/strings.h"
#include "core/time_util.h"

namespace di {
namespace {

// How one column's text becomes a Value; arrays carry their element's conversion.
enum class Conv {
  kBool,
  kInt,
  kDouble,
  kDecimal,
  kString,
  kBytes,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kJson,
  kArray
};

struct ColumnConv {
  Conv conv = Conv::kString;
  Conv element = Conv::kString;  // for kArray
};

Conv ConvForOid(unsigned oid, char typtype) {
  if (typtype == 'e') return Conv::kString;  // enums
  switch (oid) {
    case 16:
      return Conv::kBool;
    case 20:
    case 21:
    case 23:
    case 26:
      return Conv::kInt;
    case 700:
    case 701:
      return Conv::kDouble;
    case 1700:
      return Conv::kDecimal;
    case 17:
      return Conv::kBytes;
    case 1082:
      return Conv::kDate;
    case 1083:
      return Conv::kTime;
    case 1114:
      return Conv::kTimestamp;
    case 1184:
      return Conv::kTimestampTz;
    case 114:
    case 3802:
      return Conv::kJson;
    default:
      return Conv::kString;  // text, varchar, uuid, tsvector, interval, money...
  }
}

std::string QuoteIdent(std::string_view ident) {
  return QuoteIdentifier(ident, '"');
}

// "schema.table" or "table" (public) -> quoted identifier.
std::string QuoteTable(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return QuoteIdent(name);
  return QuoteIdent(name.substr(0, dot)) + "." + QuoteIdent(name.substr(dot + 1));
}

int HexVal(char c) {
  return HexDigitValue(c);
}

// Undoes COPY text escaping of one field: the field itself when it has no escapes, else the
// unescaped text in `out`.
std::string_view CopyUnescape(std::string_view s, std::string& out) {
  if (s.find('\\') == std::string_view::npos) return s;
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        if (i + 1 < s.size() && HexVal(s[i + 1]) >= 0) {
          int v = HexVal(s[++i]);
          if (i + 1 < s.size() && HexVal(s[i + 1]) >= 0) v = v * 16 + HexVal(s[++i]);
          out += static_cast<char>(v);
        } else {
          out += c;
        }
        break;
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0';
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            v = v * 8 + (s[++i] - '0');
          out += static_cast<char>(v);
        } else {
          out += c;
        }
    }
  }
  return out;
}

class PgSource;

class PgReader : public RowReader, public CellDecoder {
 public:
  PgReader(PgSource& src, TableInfo t, ReadOptions o, std::vector<ColumnConv> convs);
  ~PgReader() override;
  Result<bool> Next(RecordBatch* batch) override;
  // Cells from the COPY text (full reads) or from the cursor's pages (ordered reads).
  bool CanReadCells() const override { return true; }
  Result<bool> NextCells(CellBatch* batch) override;
  Value Decode(size_t column, std::string_view text) const override;
  // Reads and drops the result of a page asked for ahead (the next ReadPage asks again).
  void DropAhead();

 private:
  Status StartCopy();
  // The next COPY line split into fields_ (valid until the next call); false at the end.
  Result<bool> NextLine();
  Value FieldValue(size_t column);
  // Field `column`, unescaped (not NULL).
  std::string_view Field(size_t column) {
    return escaped_[column] ? CopyUnescape(fields_[column], scratch_) : fields_[column];
  }
  bool IsNull(size_t column) const { return escaped_[column] && fields_[column] == "\\N"; }
  Result<bool> NextCopy(RecordBatch* batch);
  Result<bool> NextPage(RecordBatch* batch);
  Result<bool> NextCopyCells(CellBatch* batch);
  Result<bool> NextPageCells(CellBatch* batch);
  // Ordered reads are one query, a cursor declared in the source's read transaction (one
  // snapshot), fetched a page of batch_size rows at a time.
  Status Declare();
  // The next page (null once the table is done); the reader records its last row's position
  // (options_.after) and sends the FETCH of the page after it.
  Result<PGresult*> ReadPage();
  // Sends the next FETCH; false when it could not be sent.
  bool SendFetch();
  // Closes the cursor and ends this read in the source's transaction.
  void Close();

  PgSource& src_;
  TableInfo table_;
  ReadOptions options_;
  std::vector<ColumnConv> convs_;
  bool in_copy_ = false;
  bool in_flight_ = false;     // a FETCH sent, its result not yet read
  PGresult* ahead_ = nullptr;  // a FETCH's result read early (another command needed the conn)
  std::string cursor_;         // the declared cursor's name; "" before Declare and after Close
  bool started_ = false;
  bool done_ = false;
  char* line_buf_ = nullptr;  // the COPY line fields_ point into
  std::vector<std::string_view> fields_;
  std::string scratch_;          // an unescaped field
  std::vector<char> escaped_;    // per field: it holds a backslash (an escape, or NULL's \N)
  std::vector<CellText> kinds_;  // per column: how its text reads
};

class PgSource : public Source {
 public:
  explicit PgSource(SqlSourceOptions o) : o_(std::move(o)) {}
  ~PgSource() override {
    ReleaseSnapshot();
    if (conn_) PQfinish(conn_);
  }

  // `replication`: a walsender connection (replication=database), for the snapshot's slot.
  PGconn* Open(bool replication) {
    const char* keys[] = {"host",
                          "port",
                          "user",
                          "password",
                          "dbname",
                          "connect_timeout",
                          "application_name",
                          "keepalives",
                          "replication",
                          nullptr};
    std::string port = std::to_string(o_.db.port), ct = std::to_string(o_.connect_timeout_seconds);
    const char* vals[] = {o_.db.host.c_str(),
                          port.c_str(),
                          o_.db.user.c_str(),
                          o_.db.password.c_str(),
                          o_.db.database.c_str(),
                          ct.c_str(),
                          "data-ingestion",
                          "1",
                          replication ? "database" : nullptr,
                          nullptr};
    return PQconnectdbParams(keys, vals, 0);
  }

  Status Connect() {
    RETURN_IF_ERROR(kPqLibrary.Load());
    conn_ = Open(false);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string err = PQerrorMessage(conn_);
      StatusCode code =
          err.find("authentication failed") != std::string::npos ? StatusCode::kUnauthenticated
          : err.find("does not exist") != std::string::npos      ? StatusCode::kNotFound
                                                                 : StatusCode::kUnavailable;
      return Status(code, Where() + ": cannot connect: " + std::string(Trim(err)));
    }
    return Exec(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
        "SET bytea_output = 'hex'; SET statement_timeout = 0; "
        // An ordered read holds a transaction open while its sinks work (backpressure): a
        // server's idle-in-transaction limit must not end it (pg_dump does the same).
        "SET idle_in_transaction_session_timeout = 0");
  }

  Engine engine() const override { return Engine::kPostgres; }

  Result<LogPosition> PinSnapshot() override {
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
      Status s =
          InvalidArgument(Where() +
                          ": no replication connection to pin a snapshot (the user needs the "
                          "REPLICATION attribute and pg_hba.conf a 'replication' line): " +
                          std::string(Trim(PQerrorMessage(repl_))));
      ReleaseSnapshot();
      return s;
    }
    static std::atomic<int> slots{0};
    const std::string slot =
        "di_snapshot_" + std::to_string(::getpid()) + "_" + std::to_string(++slots);
    PGresult* r = PQexec(repl_, ("CREATE_REPLICATION_SLOT " + slot +
                                 " TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')")
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
  void ReleaseSnapshot() override {
    if (repl_) PQfinish(repl_);  // (the temporary slot goes with its session)
    repl_ = nullptr;
    snapshot_.clear();
  }

  Result<std::vector<std::string>> ListTables() override {
    ASSIGN_OR_RETURN(auto rows,
                     Query("SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || "
                           "'.' || c.relname END "
                           "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                           "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND "
                           "n.nspname NOT LIKE 'pg_toast%' "
                           "ORDER BY 1",
                           {}));
    std::vector<std::string> out;
    for (auto& r : rows) out.push_back(r[0]);
    return out;
  }

  Result<TableInfo> Describe(const std::string& table, const std::string& cursor_column) override {
    ASSIGN_OR_RETURN(auto exists, Query("SELECT to_regclass($1)::oid", {QuoteTable(table)}));
    if (exists.empty() || exists[0][0].empty())
      return NotFound(Where() + ": table '" + table + "' does not exist");
    const std::string& oid = exists[0][0];
    ASSIGN_OR_RETURN(
        auto cols,
        Query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, "
            "b.oid, b.typtype, COALESCE(e.oid, 0), COALESCE(e.typtype, ''), "
            "COALESCE((SELECT json_agg(l.enumlabel ORDER BY l.enumsortorder)::text FROM pg_enum l "
            "WHERE l.enumtypid = CASE WHEN t.typtype = 'e' THEN t.oid WHEN e.typtype = 'e' "
            "THEN e.oid END), ''), "
            "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
            "LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A' "
            "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            {oid}));
    ASSIGN_OR_RETURN(
        auto pk,
        Query("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
              "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisprimary "
              "ORDER BY array_position(i.indkey::int2[], a.attnum)",
              {oid}));
    TableInfo t;
    t.engine = Engine::kPostgres;
    t.database = o_.db.database;
    t.name = table;
    std::vector<ColumnConv> convs;
    for (auto& c : cols) {
      ColumnInfo col{c[0], c[1], c[2] == "t", {}, ""};
      if (!c[7].empty()) {
        auto labels = nlohmann::json::parse(c[7], nullptr, false);
        if (labels.is_array())
          for (const auto& l : labels) col.enum_values.push_back(l.get<std::string>());
      }
      col.domain_of = c[8];
      t.columns.push_back(std::move(col));
      if (c[0] == cursor_column) t.cursor_column = cursor_column;
    }
    for (auto& p : pk) t.primary_key.push_back(p[0]);
    convs_[table] = ConvsFrom(cols);
    return t;
  }

  Result<std::unique_ptr<RowReader>> Read(const TableInfo& table,
                                          const ReadOptions& options) override {
    RETURN_IF_ERROR(CheckKeysetRead(Where(), table, options));
    ASSIGN_OR_RETURN(const std::vector<ColumnConv>* convs, ConvsOf(table));
    return std::unique_ptr<RowReader>(new PgReader(*this, table, options, *convs));
  }

  Result<bool> HasIndexLeadingWith(const TableInfo& table, const std::string& column) override {
    ASSIGN_OR_RETURN(auto rows,
                     Query("SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                           "i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = "
                           "to_regclass($1) AND a.attname = $2",
                           {QuoteTable(table.name), column}));
    return !rows.empty() && rows[0][0] != "0";
  }

  int64_t EstimateRows(const TableInfo& table) override {
    // A partitioned parent has no tuples of its own: add its partitions'.
    auto rows = Query(
        "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), -1)::bigint FROM pg_class c "
        "WHERE c.oid = to_regclass($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits "
        "WHERE inhparent = to_regclass($1))",
        {QuoteTable(table.name)});
    if (!rows.ok() || rows->empty()) return -1;
    return std::stoll((*rows)[0][0]);
  }

  Result<std::vector<std::vector<Value>>> Lookup(const TableInfo& table, const std::string& column,
                                                 const std::vector<Value>& values) override {
    std::vector<std::vector<Value>> rows;
    if (values.empty()) return rows;
    ASSIGN_OR_RETURN(const std::vector<ColumnConv>* convs_of, ConvsOf(table));
    const auto& convs = *convs_of;
    size_t at = table.columns.size();
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].name == column) at = i;
    if (at == table.columns.size())
      return InvalidArgument(Where() + ": table '" + table.name + "' has no column '" + column +
                             "'");
    std::string sql = "SELECT ";
    for (size_t i = 0; i < table.columns.size(); ++i)
      sql += (i ? ", " : "") + QuoteIdent(table.columns[i].name);
    sql += " FROM " + QuoteTable(table.name) + " WHERE " + QuoteIdent(column) + " IN (";
    std::vector<std::string> params;
    for (size_t i = 0; i < values.size(); ++i) {
      params.push_back(TextFor(convs[at], values[i]));
      sql += (i ? ", $" : "$") + std::to_string(i + 1) + "::" + table.columns[at].source_type;
    }
    sql += ")";
    std::vector<const char*> p;
    for (const auto& x : params) p.push_back(x.c_str());
    PGresult* r = PQexecParams(conn(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                               nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      Status s = Unavailable(Where() + ": reading table '" + table.name +
                             "' failed: " + std::string(Trim(PQresultErrorMessage(r))));
      PQclear(r);
      return s;
    }
    AppendRows(r, convs, &rows);
    PQclear(r);
    return rows;
  }

  // --- used by the reader
  // The connection, for `by` (null: the source itself): a page another reader asked for
  // ahead is dropped first (that reader asks again when it needs it).
  PGconn* conn(PgReader* by = nullptr);
  void set_ahead(PgReader* reader) { ahead_ = reader; }
  // Ordered reads run in one REPEATABLE READ transaction of the connection (their snapshot,
  // also seen by lookups on it), begun by the first open read and committed by the last.
  // With a pinned snapshot (PinSnapshot), the transaction imports it.
  Status BeginRead() {
    if (reads_open_ == 0) {
      RETURN_IF_ERROR(Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
      if (!snapshot_.empty()) {
        Status s = Exec("SET TRANSACTION SNAPSHOT '" + snapshot_ + "'");
        if (!s.ok()) {
          Exec("ROLLBACK").ok();
          return s;
        }
      }
    }
    ++reads_open_;
    return Status::Ok();
  }
  void EndRead() {
    if (reads_open_ > 0 && --reads_open_ == 0) Exec("COMMIT").ok();  // an aborted one rolls back
  }
  std::string NewCursorName() { return "di_read_" + std::to_string(++cursors_); }
  std::string Where() const {
    return "PostgreSQL " + o_.db.host + ":" + std::to_string(o_.db.port) + "/" + o_.db.database;
  }
  Status Error(const std::string& what) {
    return Unavailable(Where() + ": " + what + ": " + std::string(Trim(PQerrorMessage(conn_))));
  }
  Status Exec(const std::string& sql) {
    PGresult* r = PQexec(conn(), sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? Status::Ok() : Error("query failed");
  }
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql,
                                                      const std::vector<std::string>& params) {
    std::vector<const char*> p;
    for (const auto& s : params) p.push_back(s.c_str());
    PGresult* r = PQexecParams(conn(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                               nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      Status s =
          Unavailable(Where() + ": query failed: " + std::string(Trim(PQresultErrorMessage(r))));
      PQclear(r);
      return s;
    }
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < PQntuples(r); ++i) {
      out.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j)
        out.back().emplace_back(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j)));
    }
    PQclear(r);
    return out;
  }

  // The conversions of a described table (described now if it was not yet).
  Result<const std::vector<ColumnConv>*> ConvsOf(const TableInfo& table) {
    auto it = convs_.find(table.name);
    if (it == convs_.end()) {
      ASSIGN_OR_RETURN(TableInfo fresh, Describe(table.name, table.cursor_column));
      (void)fresh;
      it = convs_.find(table.name);
    }
    return &it->second;
  }
  // Appends the rows of a text-format result as Values.
  void AppendRows(PGresult* r, const std::vector<ColumnConv>& convs,
                  std::vector<std::vector<Value>>* rows) const {
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<Value> row;
      row.reserve(convs.size());
      for (int j = 0; j < PQnfields(r); ++j) row.push_back(Cell(r, i, j, convs[j]));
      rows->push_back(std::move(row));
    }
  }

  Value Convert(const ColumnConv& c, std::string_view text) const {
    return Scalar(c.conv, c.element, text);
  }
  // A cell of a text-format result as a Value (NULL for SQL NULL).
  Value Cell(const PGresult* r, int row, int column, const ColumnConv& c) const {
    if (PQgetisnull(r, row, column)) return Null{};
    return Convert(c, std::string_view(PQgetvalue(r, row, column),
                                       static_cast<size_t>(PQgetlength(r, row, column))));
  }
  // How a column's text reads for the sinks' encoders (core/cells.h).
  CellText CellTextOf(const ColumnConv& c) const;
  std::string TextFor(const ColumnConv& c, const Value& v) const;

 private:
  static std::vector<ColumnConv> ConvsFrom(const std::vector<std::vector<std::string>>& cols) {
    std::vector<ColumnConv> convs;
    for (auto& c : cols) {
      unsigned oid = static_cast<unsigned>(std::stoul(c[3]));
      unsigned elem = static_cast<unsigned>(std::stoul(c[5]));
      ColumnConv cc;
      if (elem != 0) {
        cc.conv = Conv::kArray;
        cc.element = ConvForOid(elem, c[6].empty() ? 'b' : c[6][0]);
      } else {
        cc.conv = ConvForOid(oid, c[4].empty() ? 'b' : c[4][0]);
      }
      convs.push_back(cc);
    }
    return convs;
  }

  Value Scalar(Conv conv, Conv element, std::string_view s) const;
  Value ParseArray(Conv element, std::string_view s, size_t* pos) const;

  SqlSourceOptions o_;
  PGconn* conn_ = nullptr;
  PGconn* repl_ = nullptr;     // the pinned snapshot's replication session (PinSnapshot)
  std::string snapshot_;       // its exported snapshot
  PgReader* ahead_ = nullptr;  // the reader whose next page's query is in flight
  int reads_open_ = 0;         // ordered reads open in the read transaction
  uint64_t cursors_ = 0;       // cursors declared on this connection
  std::map<std::string, std::vector<ColumnConv>> convs_;
};

Value PgSource::Scalar(Conv conv, Conv element, std::string_view s) const {
  switch (conv) {
    case Conv::kBool:
      return s == "t";
    case Conv::kInt: {
      int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
      return std::string(s);
    }
    case Conv::kDouble: {
      if (s == "NaN") return std::nan("");
      if (s == "Infinity") return HUGE_VAL;
      if (s == "-Infinity") return -HUGE_VAL;
      double v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc()) return v;
      return std::string(s);
    }
    case Conv::kDecimal:
      return Decimal{std::string(s)};
    case Conv::kBytes: {
      if (s.size() < 2 || s[0] != '\\' || s[1] != 'x') return Bytes{std::string(s), 0};
      std::string out;
      out.reserve((s.size() - 2) / 2);
      for (size_t i = 2; i + 1 < s.size(); i += 2)
        out += static_cast<char>(HexVal(s[i]) * 16 + HexVal(s[i + 1]));
      return Bytes{std::move(out), 0};
    }
    case Conv::kDate: {
      int32_t days;
      if (ParseSqlDate(s, &days)) return Date{days};
      return std::string(s);  // infinity, BC dates, years past 9999: PostgreSQL's spelling
    }
    case Conv::kTime: {
      int64_t micros;
      if (ParseSqlTime(s, &micros)) return TimeOfDay{micros};
      return std::string(s);
    }
    case Conv::kTimestamp:
    case Conv::kTimestampTz: {
      int64_t micros;
      bool has_offset;
      if (!ParseSqlTimestamp(s, &micros, &has_offset)) return std::string(s);
      if (!has_offset) micros = o_.source_tz->LocalMicrosToUtc(micros);
      return Timestamp{micros};
    }
    case Conv::kJson:
      return Json{std::string(s)};
    case Conv::kArray: {
      size_t pos = 0;
      if (s.empty() || s[0] != '{') return std::string(s);  // e.g. '[1:2]={1,2}' bounds
      return ParseArray(element, s, &pos);
    }
    case Conv::kString:
      return std::string(s);
  }
  return std::string(s);
}

// PostgreSQL array text: {a,"b c",NULL,{1,2}}; elements converted with `element`.
Value PgSource::ParseArray(Conv element, std::string_view s, size_t* pos) const {
  Array arr;
  ++*pos;  // '{'
  while (*pos < s.size()) {
    char c = s[*pos];
    if (c == '}') {
      ++*pos;
      break;
    }
    if (c == ',') {
      ++*pos;
      continue;
    }
    if (c == '{') {
      arr.items.push_back(ParseArray(element, s, pos));
      continue;
    }
    std::string item;
    bool quoted = c == '"';
    if (quoted) {
      ++*pos;
      while (*pos < s.size() && s[*pos] != '"') {
        if (s[*pos] == '\\' && *pos + 1 < s.size()) ++*pos;
        item += s[(*pos)++];
      }
      ++*pos;
    } else {
      while (*pos < s.size() && s[*pos] != ',' && s[*pos] != '}') item += s[(*pos)++];
    }
    if (!quoted && item == "NULL")
      arr.items.push_back(Null{});
    else
      arr.items.push_back(Scalar(element, Conv::kString, item));
  }
  return arr;
}

CellText PgSource::CellTextOf(const ColumnConv& c) const {
  switch (c.conv) {
    case Conv::kString:
      return CellText::kString;
    case Conv::kDecimal:
      return CellText::kDecimal;
    case Conv::kJson:
      return CellText::kJson;
    case Conv::kInt:
      return CellText::kInteger;
    case Conv::kDate:
      return CellText::kDate;
    case Conv::kTimestampTz:  // read in a UTC session
      return CellText::kUtcTimestamp;
    case Conv::kTimestamp:  // wall time in SOURCE_TZ
      return o_.source_tz->is_utc() ? CellText::kUtcTimestamp : CellText::kOther;
    case Conv::kArray:
      return c.element == Conv::kInt ? CellText::kIntegerArray : CellText::kOther;
    default:
      return CellText::kOther;
  }
}

std::string PgSource::TextFor(const ColumnConv& c, const Value& v) const {
  if (const auto* ts = v.get_if<Timestamp>()) {
    int64_t micros = ts->micros;
    if (c.conv == Conv::kTimestamp) micros = o_.source_tz->UtcMicrosToLocal(micros);
    std::string iso = FormatTimestamp(micros);
    return iso.substr(0, 10) + " " + iso.substr(11, 15) +
           (c.conv == Conv::kTimestampTz ? "+00" : "");
  }
  if (const auto* d = v.get_if<Date>()) return FormatDate(d->days);
  if (const auto* i = v.get_if<int64_t>()) return std::to_string(*i);
  if (const auto* b = v.get_if<bool>()) return *b ? "t" : "f";
  if (const auto* dec = v.get_if<Decimal>()) return dec->text;
  if (const auto* dbl = v.get_if<double>()) return FormatDouble(*dbl);
  if (const auto* str = v.get_if<std::string>()) return *str;
  if (const auto* t = v.get_if<TimeOfDay>()) return FormatTime(t->micros);
  return "";
}

PGconn* PgSource::conn(PgReader* by) {
  if (ahead_ && ahead_ != by) ahead_->DropAhead();
  return conn_;
}

void PgReader::DropAhead() {
  if (!in_flight_) return;
  // The FETCH moved the cursor: its rows are kept for the next ReadPage.
  PGconn* conn = src_.conn(this);
  ahead_ = PQgetResult(conn);
  while (PGresult* r = PQgetResult(conn)) PQclear(r);
  in_flight_ = false;
  src_.set_ahead(nullptr);
}

void PgReader::Close() {
  DropAhead();
  if (ahead_) PQclear(ahead_);
  ahead_ = nullptr;
  if (cursor_.empty()) return;
  src_.Exec("CLOSE " + cursor_).ok();  // fails harmlessly in an aborted transaction
  cursor_.clear();
  src_.EndRead();
}

PgReader::~PgReader() {
  if (line_buf_) PQfreemem(line_buf_);
  Close();  // the connection free for the next command
  if (in_copy_) {
    // Drop the rest of the COPY stream so the connection can be reused.
    PGconn* conn = src_.conn(this);
    PQrequestCancel(conn);
    char* buf = nullptr;
    while (PQgetCopyData(conn, &buf, 0) > 0) PQfreemem(buf);
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
  }
}

Result<bool> PgReader::Next(RecordBatch* batch) {
  batch->clear();
  if (done_) return false;
  return options_.ordered() ? NextPage(batch) : NextCopy(batch);
}

Status PgReader::StartCopy() {
  started_ = true;
  std::string sql = "COPY (SELECT ";
  for (size_t i = 0; i < table_.columns.size(); ++i)
    sql += (i ? ", " : "") + QuoteIdent(table_.columns[i].name);
  sql += " FROM " + QuoteTable(table_.name);
  if (!table_.primary_key.empty()) {
    sql += " ORDER BY ";
    for (size_t i = 0; i < table_.primary_key.size(); ++i)
      sql += (i ? ", " : "") + QuoteIdent(table_.primary_key[i]);
  }
  sql += ") TO STDOUT";
  PGresult* r = PQexec(src_.conn(this), sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COPY_OUT;
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (!ok)
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  in_copy_ = true;
  return Status::Ok();
}

Result<bool> PgReader::NextLine() {
  if (line_buf_) {
    PQfreemem(line_buf_);
    line_buf_ = nullptr;
  }
  if (done_) return false;
  if (!started_) RETURN_IF_ERROR(StartCopy());
  PGconn* conn = src_.conn(this);
  int n = PQgetCopyData(conn, &line_buf_, 0);
  if (n == -1) {  // end of the COPY
    in_copy_ = false;
    done_ = true;
    PGresult* r = PQgetResult(conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    while (PGresult* more = PQgetResult(conn)) PQclear(more);
    if (!ok)
      return Unavailable(src_.Where() + ": reading table '" + table_.name +
                         "' failed: " + std::string(Trim(err)));
    return false;
  }
  if (n < 0) return src_.Error("reading table '" + table_.name + "' failed");
  std::string_view line(line_buf_, static_cast<size_t>(n));
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // The fields, still COPY-escaped ("\N": NULL); missing ones (a short line) are empty.
  fields_.resize(convs_.size());
  size_t start = 0;
  for (size_t i = 0; i < convs_.size(); ++i) {
    size_t tab = line.find('\t', start);
    fields_[i] =
        line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    start = tab == std::string_view::npos ? line.size() : tab + 1;
  }
  escaped_.assign(convs_.size(), 0);
  size_t f = 0;
  for (size_t at = line.find('\\'); at != std::string_view::npos; at = line.find('\\', at + 2)) {
    while (f + 1 < fields_.size() && fields_[f + 1].data() <= line.data() + at) ++f;
    if (f < escaped_.size()) escaped_[f] = 1;
  }
  return true;
}

Value PgReader::FieldValue(size_t i) {
  if (IsNull(i)) return Null{};
  return src_.Convert(convs_[i], Field(i));
}

Result<bool> PgReader::NextCopy(RecordBatch* batch) {
  while (batch->rows.size() < options_.batch_size) {
    ASSIGN_OR_RETURN(bool more, NextLine());
    if (!more) break;
    std::vector<Value> row;
    row.reserve(convs_.size());
    for (size_t i = 0; i < convs_.size(); ++i) row.push_back(FieldValue(i));
    batch->rows.push_back(std::move(row));
  }
  return !batch->rows.empty() || !done_;
}

Result<bool> PgReader::NextPage(RecordBatch* batch) {
  ASSIGN_OR_RETURN(PGresult * r, ReadPage());
  if (!r) return false;
  src_.AppendRows(r, convs_, &batch->rows);
  PQclear(r);
  batch->last = options_.after;
  return true;
}

PgReader::PgReader(PgSource& src, TableInfo t, ReadOptions o, std::vector<ColumnConv> convs)
    : src_(src), table_(std::move(t)), options_(std::move(o)), convs_(std::move(convs)) {
  for (const auto& c : convs_) kinds_.push_back(src_.CellTextOf(c));
}

Value PgReader::Decode(size_t column, std::string_view text) const {
  return src_.Convert(convs_[column], text);
}

Result<bool> PgReader::NextCells(CellBatch* batch) {
  batch->clear();
  batch->kinds = kinds_;
  batch->decoder = this;
  if (done_) return false;
  return options_.ordered() ? NextPageCells(batch) : NextCopyCells(batch);
}

Result<bool> PgReader::NextCopyCells(CellBatch* batch) {
  size_t rows = 0;
  for (; rows < options_.batch_size; ++rows) {
    ASSIGN_OR_RETURN(bool more, NextLine());
    if (!more) break;
    for (size_t i = 0; i < convs_.size(); ++i) {
      const bool null = IsNull(i);
      batch->Add(null ? std::string_view() : Field(i), null);
    }
  }
  return rows > 0 || !done_;
}

Result<bool> PgReader::NextPageCells(CellBatch* batch) {
  ASSIGN_OR_RETURN(PGresult * r, ReadPage());
  if (!r) return false;
  const int rows = PQntuples(r), columns = PQnfields(r);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < columns; ++j)
      batch->Add(std::string_view(PQgetvalue(r, i, j), static_cast<size_t>(PQgetlength(r, i, j))),
                 PQgetisnull(r, i, j));
  PQclear(r);
  batch->last = options_.after;
  return true;
}

Status PgReader::Declare() {
  std::string cols;
  for (size_t i = 0; i < table_.columns.size(); ++i)
    cols += (i ? ", " : "") + QuoteIdent(table_.columns[i].name);
  // The position's values go as typed parameters.
  std::vector<std::string> params;
  std::string sql =
      "SELECT " + cols + " FROM " + QuoteTable(table_.name) +
      OrderedReadTail(table_, options_, QuoteIdent, [&](size_t column, const Value& v) {
        params.push_back(src_.TextFor(convs_[column], v));
        return "$" + std::to_string(params.size()) + "::" + table_.columns[column].source_type;
      });
  RETURN_IF_ERROR(src_.BeginRead());
  std::string name = src_.NewCursorName();
  std::string declare = "DECLARE " + name + " NO SCROLL CURSOR FOR " + sql;
  std::vector<const char*> p;
  for (const auto& x : params) p.push_back(x.c_str());
  PGresult* r = PQexecParams(src_.conn(this), declare.c_str(), static_cast<int>(p.size()), nullptr,
                             p.data(), nullptr, nullptr, 0);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string err = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!ok) {
    src_.EndRead();
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  }
  cursor_ = std::move(name);
  return Status::Ok();
}

bool PgReader::SendFetch() {
  std::string sql = "FETCH " + std::to_string(options_.batch_size) + " FROM " + cursor_;
  in_flight_ = PQsendQueryParams(src_.conn(this), sql.c_str(), 0, nullptr, nullptr, nullptr,
                                 nullptr, 0) == 1;
  if (in_flight_) src_.set_ahead(this);
  return in_flight_;
}

Result<PGresult*> PgReader::ReadPage() {
  if (cursor_.empty()) RETURN_IF_ERROR(Declare());
  PGresult* r = ahead_;
  ahead_ = nullptr;
  if (!r) {
    if (!in_flight_ && !SendFetch())
      return src_.Error("reading table '" + table_.name + "' failed");
    PGconn* conn = src_.conn(this);
    r = PQgetResult(conn);
    in_flight_ = false;
    src_.set_ahead(nullptr);
    while (PGresult* more = PQgetResult(conn)) PQclear(more);
  }
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string err = r ? PQresultErrorMessage(r) : PQerrorMessage(src_.conn(this));
    PQclear(r);
    done_ = true;
    Close();
    return Unavailable(src_.Where() + ": reading table '" + table_.name +
                       "' failed: " + std::string(Trim(err)));
  }
  const int rows = PQntuples(r);
  if (static_cast<size_t>(rows) < options_.batch_size) done_ = true;
  if (done_) Close();
  if (rows == 0) {
    PQclear(r);
    return nullptr;
  }
  // The page's last row is where a resumed read starts; the next FETCH goes out now, so the
  // server reads it while this page is converted.
  const std::vector<size_t> idx = OrderColumns(table_, options_);
  std::vector<Value> last(table_.columns.size());
  for (size_t i : idx) last[i] = src_.Cell(r, rows - 1, static_cast<int>(i), convs_[i]);
  options_.after = PositionIn(last, idx, options_.by_key);
  if (!done_) SendFetch();
  return r;
}

}  // namespace

std::string PgConninfo(const SqlSettings& s) {
  auto kv = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  return "host=" + kv(s.host) + " port=" + std::to_string(s.port) + " user=" + kv(s.user) +
         " password=" + kv(s.password) + " dbname=" + kv(s.database) + " connect_timeout=10";
}

Result<std::unique_ptr<Source>> OpenPostgresSource(const SqlSourceOptions& options) {
  auto src = std::make_unique<PgSource>(options);
  RETURN_IF_ERROR(src->Connect());
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace di
