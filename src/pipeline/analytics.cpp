#include "pipeline/analytics.h"
#include "core/lazy_lib.h"

#include <libpq-fe.h>
#include <mysql.h>

#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "sinks/compressor.h"
#include "sources/factory.h"
#include "sources/postgres_source.h"

namespace di {
namespace {

using J = nlohmann::json;
using Row = std::vector<std::string>;  // text of each column; NULL as ""

// A gzip JSON Lines object written as it goes.
class JsonLinesWriter {
 public:
  JsonLinesWriter(ObjectStore& store, std::string key)
      : store_(store), key_(std::move(key)), gz_(MakeCompressor(Compression::kGzip)) {}
  Status Open() {
    ASSIGN_OR_RETURN(writer_, store_.Create(key_, "application/gzip"));
    return Status::Ok();
  }
  Status Add(const J& line) {
    ++rows_;
    RETURN_IF_ERROR(gz_->Write(line.dump() + "\n", out_));
    return out_.size() >= (1 << 20) ? Flush() : Status::Ok();
  }
  Status Finish() {
    RETURN_IF_ERROR(gz_->Finish(out_));
    RETURN_IF_ERROR(Flush());
    return writer_->Finish();
  }
  int64_t rows() const { return rows_; }

 private:
  Status Flush() {
    Status s = writer_->Write(out_);
    out_.clear();
    return s;
  }
  ObjectStore& store_;
  std::string key_;
  std::unique_ptr<Compressor> gz_;
  std::unique_ptr<ObjectWriter> writer_;
  std::string out_;
  int64_t rows_ = 0;
};

Result<std::vector<Row>> PgQuery(const SqlSettings& s, const std::string& sql) {
  RETURN_IF_ERROR(kPqLibrary.Load());
  std::string conninfo = PgConninfo(s);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return Unavailable("PostgreSQL " + s.host + ":" + std::to_string(s.port) +
                       " unreachable: " + std::string(Trim(PQerrorMessage(conn.get()))));
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    return Unavailable("PostgreSQL analytics query failed: " +
                       std::string(Trim(PQresultErrorMessage(r.get()))));
  std::vector<Row> rows(static_cast<size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i)
    for (int c = 0; c < PQnfields(r.get()); ++c) rows[i].push_back(PQgetvalue(r.get(), i, c));
  return rows;
}

// Streams a MariaDB query's rows to `each`.
Status MySqlQuery(const SqlSettings& s, const std::string& sql,
                  const std::function<Status(const Row&)>& each) {
  std::unique_ptr<MYSQL, decltype(&mysql_close)> db(mysql_init(nullptr), &mysql_close);
  unsigned timeout = 10;
  mysql_options(db.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  if (Status c = MySqlConnect(db.get(), s); !c.ok())
    return Status(c.code(), "MySQL " + s.host + ":" + std::to_string(s.port) +
                                " unreachable: " + c.message());
  if (mysql_query(db.get(), "SET time_zone = '+00:00'") != 0 ||
      mysql_real_query(db.get(), sql.data(), sql.size()) != 0)
    return Unavailable(std::string("MySQL analytics query failed: ") + mysql_error(db.get()));
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_use_result(db.get()),
                                                               &mysql_free_result);
  if (!res)
    return Unavailable(std::string("MySQL analytics query failed: ") + mysql_error(db.get()));
  unsigned n = mysql_num_fields(res.get());
  Row row(n);
  while (MYSQL_ROW r = mysql_fetch_row(res.get())) {
    for (unsigned i = 0; i < n; ++i) row[i] = r[i] ? r[i] : "";
    RETURN_IF_ERROR(each(row));
  }
  if (mysql_errno(db.get()))
    return Unavailable(std::string("MySQL analytics query failed: ") + mysql_error(db.get()));
  return Status::Ok();
}

int64_t Int(const std::string& s) {
  return s.empty() ? 0 : std::stoll(s);
}

// Titles of the movies whose ObjectId hex is in `ids`.
std::map<std::string, std::string> Titles(Source& movies, const TableInfo& info,
                                          const std::vector<std::string>& ids) {
  std::vector<Value> keys;
  for (const auto& h : ids) {
    ObjectId oid;
    if (ParseObjectId(h, &oid)) keys.push_back(oid);
  }
  std::map<std::string, std::string> out;
  auto docs = movies.Lookup(info, "_id", keys);
  if (!docs.ok()) return out;
  for (const auto& d : *docs) {
    const Document& doc = d[0].as<Document>();
    const Value* id = doc.Find("_id");
    const Value* title = doc.Find("title");
    if (id && id->kind() == ValueKind::kObjectId && title && title->kind() == ValueKind::kString)
      out[ObjectIdHex(id->as<ObjectId>())] = title->as<std::string>();
  }
  return out;
}

AnalyticsExport ByMovieDay(const Config& config, SourceFactory& sources, ObjectStore& store,
                           const std::string& key) {
  AnalyticsExport e{"reservations_by_movie_day", key, 0, Status::Ok()};
  auto rows = PgQuery(config.postgres,
                      "SELECT r.movie_id, r.show_time::date, count(*), "
                      "count(*) FILTER (WHERE r.status = 'confirmed'), sum(r.seat_count), "
                      "coalesce(sum(p.amount) FILTER (WHERE NOT p.refunded), 0) "
                      "FROM reservations r LEFT JOIN payments p ON p.reservation_id = r.id "
                      "GROUP BY 1, 2 ORDER BY 2, 1");
  if (!rows.ok()) return e.status = rows.status(), e;
  // Titles are looked up in batches; a movie missing from MongoDB gets a null title.
  std::unique_ptr<Source> movies;
  TableInfo movies_info;
  if (auto m = sources.Open(Engine::kMongo); m.ok()) {
    if (auto info = (*m)->Describe("movies"); info.ok()) {
      movies = std::move(*m);
      movies_info = *info;
    }
  }
  JsonLinesWriter out(store, key);
  if (Status s = out.Open(); !s.ok()) return e.status = s, e;
  for (size_t at = 0; at < rows->size(); at += 500) {
    size_t end = std::min(rows->size(), at + 500);
    std::map<std::string, std::string> titles;
    if (movies) {
      std::vector<std::string> ids;
      for (size_t i = at; i < end; ++i) ids.push_back((*rows)[i][0]);
      titles = Titles(*movies, movies_info, ids);
    }
    for (size_t i = at; i < end; ++i) {
      const Row& r = (*rows)[i];
      J line = {{"movie_id", r[0]},
                {"title", titles.count(r[0]) ? J(titles[r[0]]) : J(nullptr)},
                {"day", r[1]},
                {"reservations", Int(r[2])},
                {"confirmed", Int(r[3])},
                {"seats", Int(r[4])},
                {"revenue", r[5]}};
      if (Status s = out.Add(line); !s.ok()) return e.status = s, e;
    }
  }
  e.status = out.Finish();
  e.rows = out.rows();
  return e;
}

AnalyticsExport OccupancyBySchedule(const Config& config, ObjectStore& store,
                                    const std::string& key) {
  AnalyticsExport e{"occupancy_by_schedule", key, 0, Status::Ok()};
  auto sold_rows = PgQuery(config.postgres,
                           "SELECT r.schedule_id, count(rs.id) FROM reservations r "
                           "JOIN reserved_seats rs ON rs.reservation_id = r.id "
                           "WHERE r.status IN ('pending', 'confirmed') GROUP BY 1");
  if (!sold_rows.ok()) return e.status = sold_rows.status(), e;
  std::map<int64_t, int64_t> sold;
  for (const auto& r : *sold_rows) sold[Int(r[0])] = Int(r[1]);
  sold_rows->clear();
  JsonLinesWriter out(store, key);
  if (Status s = out.Open(); !s.ok()) return e.status = s, e;
  Status s = MySqlQuery(
      config.mysql,
      "SELECT s.id, s.room_id, s.movie_id, DATE_FORMAT(s.starts_at, '%Y-%m-%dT%H:%i:%s.%fZ'), "
      "s.status, c.capacity FROM schedules s LEFT JOIN "
      "(SELECT room_id, count(*) AS capacity FROM seats GROUP BY room_id) c "
      "ON c.room_id = s.room_id ORDER BY s.id",
      [&](const Row& r) {
        int64_t id = Int(r[0]), capacity = Int(r[5]);
        int64_t n = sold.count(id) ? sold[id] : 0;
        J line = {
            {"schedule_id", id},
            {"room_id", Int(r[1])},
            {"movie_id", r[2]},
            {"starts_at", r[3]},
            {"status", r[4]},
            {"capacity", capacity},
            {"seats_sold", n},
            {"occupancy", capacity ? static_cast<double>(n) / static_cast<double>(capacity) : 0.0}};
        return out.Add(line);
      });
  if (!s.ok()) return e.status = s, e;
  e.status = out.Finish();
  e.rows = out.rows();
  return e;
}

}  // namespace

std::vector<AnalyticsExport> ExportCinemaAnalytics(const Config& config, SourceFactory& sources,
                                                   ObjectStore& store, const std::string& date) {
  std::string base = config.s3.analytics_folder + "/analytics_data/";
  return {
      ByMovieDay(config, sources, store, base + "reservations_by_movie_day/" + date + ".jsonl.gz"),
      OccupancyBySchedule(config, store, base + "occupancy_by_schedule/" + date + ".jsonl.gz")};
}

}  // namespace di
