// Analytics exports of the cinema data, checked against totals the databases compute
// themselves through psql and mariadb.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "pipeline/analytics.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Sh(const std::string& cmd) {
  std::string out;
  EXPECT_EQ(RunCommand(cmd, &out), 0) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Psql(const std::string& sql) {
  return PsqlOn(StackConfig().postgres.database, sql);
}

std::string Mysql(const std::string& sql) {
  return MariaDbOn(StackConfig().mysql.database, sql);
}

// "123.4500" -> 1234500 (amounts have 4 decimals).
int64_t TenThousandths(const std::string& s) {
  size_t dot = s.find('.');
  std::string digits = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  frac.resize(4, '0');
  return std::stoll(digits) * 10000 + (s[0] == '-' ? -1 : 1) * std::stoll(frac);
}

std::vector<json> ReadLines(const fs::path& file) {
  std::string text = Sh("gunzip -c " + file.string());  // the plain tool reads it
  std::vector<json> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(json::parse(text.substr(at, nl - at)));
    at = nl + 1;
  }
  return out;
}

TEST(Analytics, ExportsMatchWhatTheDatabasesCount) {
  fs::path dir = fs::temp_directory_path() / UniqueName("di-analytics");
  auto store = MakeLocalStore(dir.string());
  ServerSources sources(StackConfig());
  auto exports = ExportCinemaAnalytics(StackConfig(), sources, *store, "2026-11-28");
  ASSERT_EQ(exports.size(), 2u);
  for (const auto& e : exports)
    ASSERT_TRUE(e.status.ok()) << e.dataset << ": " << e.status.message();

  // Reservations and revenue per movie per show day.
  auto by_day =
      ReadLines(dir / "analytics/analytics_data/reservations_by_movie_day/2026-11-28.jsonl.gz");
  EXPECT_EQ(std::to_string(by_day.size()),
            Psql("SELECT count(DISTINCT (movie_id, show_time::date)) FROM reservations"));
  int64_t reservations = 0, seats = 0, revenue = 0, titled = 0;
  for (const auto& l : by_day) {
    reservations += l["reservations"].get<int64_t>();
    seats += l["seats"].get<int64_t>();
    revenue += TenThousandths(l["revenue"].get<std::string>());
    titled += l["title"].is_string();
  }
  EXPECT_EQ(std::to_string(reservations), Psql("SELECT count(*) FROM reservations"));
  EXPECT_EQ(std::to_string(seats), Psql("SELECT sum(seat_count) FROM reservations"));
  EXPECT_EQ(revenue, TenThousandths(Psql("SELECT sum(amount) FROM payments WHERE NOT refunded")));
  EXPECT_EQ(titled, static_cast<int64_t>(by_day.size()));  // every movie found in MongoDB

  // Occupancy per schedule.
  auto occ = ReadLines(dir / "analytics/analytics_data/occupancy_by_schedule/2026-11-28.jsonl.gz");
  EXPECT_EQ(std::to_string(occ.size()), Mysql("SELECT count(*) FROM schedules"));
  int64_t sold = 0;
  for (const auto& l : occ) {
    sold += l["seats_sold"].get<int64_t>();
    // The generated data may overbook a room: occupancy can pass 1, never be invented.
    EXPECT_DOUBLE_EQ(l["occupancy"].get<double>(),
                     static_cast<double>(l["seats_sold"].get<int64_t>()) /
                         static_cast<double>(l["capacity"].get<int64_t>()))
        << l.dump();
  }
  EXPECT_EQ(std::to_string(sold),
            Psql("SELECT count(*) FROM reserved_seats rs JOIN reservations r ON r.id = "
                 "rs.reservation_id WHERE r.status IN ('pending', 'confirmed')"));
  const json& first = occ[0];
  EXPECT_EQ(first["schedule_id"], 1);
  EXPECT_EQ(std::to_string(first["capacity"].get<int64_t>()),
            Mysql("SELECT count(*) FROM seats WHERE room_id = (SELECT room_id FROM schedules "
                  "WHERE id = 1)"));
  EXPECT_EQ(first["starts_at"].get<std::string>(),
            Mysql("SELECT DATE_FORMAT(starts_at, '%Y-%m-%dT%H:%i:%s.%fZ') FROM schedules WHERE "
                  "id = 1"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace di::testing
