// Logical replication from the stack's PostgreSQL through PgReplication and the pgoutput
// decoder: inserts, updates (a changed key, an unchanged TOAST value) and deletes arrive in
// commit order with their relation, nothing committed before the slot's start, and the slot's
// confirmed position moves only with the confirmation sent.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "sources/pg_replication.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using namespace di::pgoutput;

// What the stream says, one line per message: "B", "R t_x", "I 1,a", "U K:1 N:2,<u>",
// "D K:2", "C".
std::string Line(const Message& m) {
  auto cells = [](const Tuple& t) {
    std::string out;
    for (const auto& c : t)
      out += (out.empty() ? "" : ",") + (c.kind == Cell::kText        ? std::string(c.data)
                                         : c.kind == Cell::kUnchanged ? std::string("<u>")
                                                                      : std::string("<null>"));
    return out;
  };
  if (std::holds_alternative<Begin>(m)) return "B";
  if (std::holds_alternative<Commit>(m)) return "C";
  if (auto* r = std::get_if<Relation>(&m)) return "R " + r->name;
  if (auto* i = std::get_if<Insert>(&m)) return "I " + cells(i->row);
  if (auto* u = std::get_if<Update>(&m))
    return "U " + (u->old_kind ? std::string(1, u->old_kind) + ":" + cells(u->old) + " " : "") +
           "N:" + cells(u->row);
  if (auto* d = std::get_if<Delete>(&m))
    return std::string("D ") + d->old_kind + ":" + cells(d->old);
  if (std::holds_alternative<Truncate>(m)) return "T";
  return "other";
}

// Messages until `commits` commits have come (or 20 s pass); the last commit's end LSN.
std::vector<std::string> Read(PgReplication& repl, int commits, uint64_t* end_lsn) {
  std::vector<std::string> lines;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (commits > 0 && std::chrono::steady_clock::now() < until) {
    auto frame = repl.Next(std::chrono::milliseconds(500));
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    if (!frame.ok()) break;
    if (!*frame) continue;
    auto* x = std::get_if<XLogData>(&**frame);
    if (!x) continue;  // a keepalive
    auto m = ParseMessage(x->message);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) break;
    lines.push_back(Line(*m));
    if (auto* c = std::get_if<Commit>(&*m)) {
      *end_lsn = c->end_lsn;
      --commits;
    }
  }
  return lines;
}

TEST(PgReplication, ChangesArriveInCommitOrderAndTheSlotMovesOnlyWhenConfirmed) {
  const std::string t = "repl_" + std::to_string(::getpid());
  const std::string slot = t + "_slot", pub = t + "_pub";
  auto sql = [&](const std::string& q) { return PsqlOn(StackConfig().postgres.database, q); };
  sql("DROP TABLE IF EXISTS " + t + "; DROP PUBLICATION IF EXISTS " + pub);
  sql("CREATE TABLE " + t + " (id int PRIMARY KEY, note text)");
  sql("ALTER TABLE " + t + " ALTER note SET STORAGE EXTERNAL");  // long values out of line
  sql("CREATE PUBLICATION " + pub + " FOR TABLE " + t);
  sql("INSERT INTO " + t + " VALUES (100, 'before the slot')");

  auto repl = PgReplication::Connect(StackConfig().postgres);
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  ASSERT_TRUE((*repl)->CheckServer().ok());
  auto made = (*repl)->CreateSlot(slot, false, false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_GT(made->consistent_point, 0u);

  // A value stored out of line (TOAST), then an update that leaves it alone: pgoutput sends
  // 'u' for it, not the value.
  sql("INSERT INTO " + t + " VALUES (1, 'a'), (2, repeat('x', 10000))");
  sql("UPDATE " + t + " SET id = 3 WHERE id = 1; UPDATE " + t + " SET id = 4 WHERE id = 2");
  sql("DELETE FROM " + t + " WHERE id = 3");

  ASSERT_TRUE((*repl)->Start(slot, pub, made->consistent_point).ok());
  uint64_t end = 0;
  auto lines = Read(**repl, 3, &end);
  // psql runs a string of statements as one transaction: 3 transactions, 12 messages.
  ASSERT_EQ(lines.size(), 12u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "B");
  EXPECT_EQ(lines[1], "R " + t);
  EXPECT_EQ(lines[2], "I 1,a");
  EXPECT_EQ(lines[3], "I 2," + std::string(10000, 'x'));
  EXPECT_EQ(lines[4], "C");
  EXPECT_EQ(lines[5], "B");
  EXPECT_EQ(lines[6], "U K:1,<null> N:3,a");
  EXPECT_EQ(lines[7], "U K:2,<null> N:4,<u>");
  EXPECT_EQ(lines[8], "C");
  EXPECT_EQ(lines[9], "B");
  EXPECT_EQ(lines[10], "D K:3,<null>");
  EXPECT_EQ(lines[11], "C");

  // Nothing confirmed yet: the slot stays at its start. Confirmed: it moves there.
  auto confirmed = [&] {
    return sql("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot +
               "'");
  };
  EXPECT_EQ(confirmed(), LsnText(made->consistent_point));
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  ASSERT_TRUE((*repl)->Confirm(end, now, true).ok());
  std::string after;
  for (int i = 0; i < 50 && (after = confirmed()) != LsnText(end); ++i) {
    (void)(*repl)->Next(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(after, LsnText(end));

  repl->reset();
  sql("SELECT pg_drop_replication_slot('" + slot + "')");
  sql("DROP PUBLICATION " + pub + "; DROP TABLE " + t);
}

// pgoutput writes cells with the walsender session's output settings: whatever the client's
// PGTZ says, a timestamptz streams in UTC, as the snapshot reads it, and a double exactly.
TEST(PgReplication, CellsStreamWithTheReadsOutputSettings) {
  const std::string t = "repl_tz_" + std::to_string(::getpid());
  const std::string slot = t + "_slot", pub = t + "_pub";
  auto sql = [&](const std::string& q) { return PsqlOn(StackConfig().postgres.database, q); };
  sql("DROP TABLE IF EXISTS " + t + "; DROP PUBLICATION IF EXISTS " + pub);
  sql("CREATE TABLE " + t + " (id int PRIMARY KEY, at timestamptz, d date, f float8, b bytea)");
  sql("CREATE PUBLICATION " + pub + " FOR TABLE " + t);
  ::setenv("PGTZ", "Asia/Tokyo", 1);       // libpq sends it as the session's TimeZone
  ::setenv("PGDATESTYLE", "SQL, DMY", 1);  // and this as its DateStyle
  auto repl = PgReplication::Connect(StackConfig().postgres);
  ::unsetenv("PGTZ");
  ::unsetenv("PGDATESTYLE");
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  auto made = (*repl)->CreateSlot(slot, /*temporary=*/true, false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  sql("INSERT INTO " + t +
      " VALUES (1, '2026-01-02 03:04:05.25+00', '2026-12-31', 0.1, '\\x00ff')");
  ASSERT_TRUE((*repl)->Start(slot, pub, made->consistent_point).ok());
  uint64_t end = 0;
  auto lines = Read(**repl, 1, &end);
  ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[2], "I 1,2026-01-02 03:04:05.25+00,2026-12-31,0.1,\\x00ff");
  repl->reset();  // (the temporary slot goes with it)
  sql("DROP PUBLICATION " + pub + "; DROP TABLE " + t);
}

TEST(PgReplication, BadNamesAreRefusedBeforeTheServerSeesThem) {
  auto repl = PgReplication::Connect(StackConfig().postgres);
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  auto slot = (*repl)->CreateSlot("x'; DROP", true, false);
  EXPECT_EQ(slot.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(slot.status().message().find("lowercase letters"), std::string::npos);
  EXPECT_EQ((*repl)->Start("ok", "Bad Name", 0).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace di::testing
