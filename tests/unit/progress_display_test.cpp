// The progress display's drawing, fed a terminal of a chosen size that keeps what it is
// sent and a clock moved by hand: the bar, rows/s and ETA, lines cut to the width, ended
// lines kept above the running ones, log lines written above the block, the summary.
#include <gtest/gtest.h>

#include <regex>

#include "../terminal_text.h"
#include "core/progress_display.h"

namespace di {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A terminal that keeps every byte it is sent.
class StringTerminal : public Terminal {
 public:
  StringTerminal(int columns, int rows) : columns_(columns), rows_(rows) {}
  void Write(std::string_view bytes) override { out.append(bytes); }
  int Columns() override { return columns_; }
  void Resize(int columns) { columns_ = columns; }
  int Rows() override { return rows_; }
  // What was written since the last call.
  std::string Take() { return std::exchange(out, ""); }
  std::string out;

 private:
  int columns_, rows_;
};

// One line in the wide layout (or `layout`), as the display draws it.
std::string Render(std::string_view name, size_t name_width, int64_t rows, int64_t estimate,
                   double seconds, TableEnd end, std::string_view note, size_t width, bool color,
                   LineLayout layout = LineLayout::kWide) {
  const ProgressLineView line{name, rows, estimate, seconds, end, note};
  return RenderProgressLine(line, name_width, BarRoom(line, name_width, width, layout), width,
                            layout, color);
}

const auto kStart = std::chrono::system_clock::time_point(seconds(1'800'000'000));

ProgressDisplay::Options NoColor(const std::string& job = "backup") {
  ProgressDisplay::Options o;
  o.job = job;
  o.color = false;
  return o;
}

// A display without colour on a terminal of `columns` x `rows`, on a clock moved by hand.
struct Screen {
  Screen(int columns, int rows, const std::string& job = "backup")
      : term(columns, rows), clock(kStart), d(term, clock, NoColor(job)) {}
  StringTerminal term;
  FakeClock clock;
  ProgressDisplay d;
};

TEST(ProgressLine, BarRowsRateAndEta) {
  EXPECT_EQ(Render("postgresql.users", 16, 2500, 10000, 2.0, TableEnd::kRunning, "", 200, false),
            "postgresql.users  [=====>              ]  25%  2,500 of ~10,000 rows  1,250 rows/s"
            "  ETA 6s");
  EXPECT_EQ(Render("t", 3, 1'000'000, 4'000'000, 100.0, TableEnd::kRunning, "", 200, false),
            "t    [=====>              ]  25%  1,000,000 of ~4,000,000 rows  10,000 rows/s"
            "  ETA 5m00s");
  EXPECT_EQ(Render("t", 1, 0, 100, 0.0, TableEnd::kRunning, "", 200, false),
            "t  [>                   ]   0%  0 of ~100 rows  0 rows/s");
}

TEST(ProgressLine, WithoutAnEstimateRowsAloneAndABlockThatMoves) {
  // No estimate, or rows past it: rows alone, no ETA, the block where the time puts it.
  EXPECT_EQ(Render("t", 1, 700, -1, 0.0, TableEnd::kRunning, "", 200, false),
            "t  [<=>                 ]       700 rows  0 rows/s");
  EXPECT_EQ(Render("t", 1, 700, 500, 1.0, TableEnd::kRunning, "", 200, false),
            "t  [        <=>         ]       700 rows  700 rows/s");
  EXPECT_EQ(Render("t", 1, 700, 0, 3.0, TableEnd::kRunning, "", 200, false),
            "t  [          <=>       ]       700 rows  233 rows/s");  // on its way back
}

TEST(ProgressLine, EndedLines) {
  EXPECT_EQ(Render("mysql.seats", 11, 1200, 1000, 0.5, TableEnd::kDone, "", 200, false),
            "mysql.seats  [====================] done  1,200 rows in 0.5s  2,400 rows/s");
  EXPECT_EQ(Render("mysql.seats", 11, 300, 1200, 65.0, TableEnd::kFailed,
                   "connection lost\nat row 300", 200, false),
            "mysql.seats  [=====>              ] FAILED  300 rows: connection lost at row 300");
  EXPECT_EQ(Render("mysql.seats", 11, 600, 1200, 1, TableEnd::kStopped, "", 200, false),
            "mysql.seats  [==========>         ] stopped  600 rows");
  // In colour, only the status word is coloured.
  EXPECT_EQ(Render("t", 1, 5, -1, 1, TableEnd::kDone, "", 200, true),
            "t  [====================] \x1b[32mdone\x1b[0m  5 rows in 1.0s  5 rows/s");
  EXPECT_EQ(Render("t", 1, 5, -1, 1, TableEnd::kFailed, "x", 200, true),
            "t  [                    ] \x1b[31mFAILED\x1b[0m  5 rows: x");
}

TEST(ProgressLine, NeverWiderThanTheWidth) {
  const std::string full = Render("postgresql.reservations", 23, 120000, 1000000, 2.0,
                                  TableEnd::kRunning, "", 500, false);
  for (size_t width : {120u, 90u, 80u, 60u, 40u, 20u, 5u, 1u}) {
    std::string line = Render("postgresql.reservations", 23, 120000, 1000000, 2.0,
                              TableEnd::kRunning, "", width, false);
    EXPECT_LE(line.size(), width) << line;
    EXPECT_EQ(line, full.size() <= width ? full : line) << width;
  }
  // The bar narrows before anything is cut, then goes; the rest is cut last.
  const std::pair<size_t, std::string> narrower[] = {
      {66, "t  [==========>         ]  50%  50 of ~100 rows  50 rows/s  ETA 1s"},
      {56, "t  [=====>    ]  50%  50 of ~100 rows  50 rows/s  ETA 1s"},
      {54, "t  [====>   ]  50%  50 of ~100 rows  50 rows/s  ETA 1s"},
      {52, "t  [===>  ]  50%  50 of ~100 rows  50 rows/s  ETA 1s"},
      {51, "t   50%  50 of ~100 rows  50 rows/s  ETA 1s"},
      {42, "t   50%  50 of ~100 rows  50 rows/s  ETA 1"},
      {20, "t   50%  50 of ~100 "},
  };
  for (const auto& [width, want] : narrower)
    EXPECT_EQ(Render("t", 1, 50, 100, 1, TableEnd::kRunning, "", width, false), want);
  // Code points count as one column each, and are never cut in half.
  std::string cut = Render("películas", 9, 5, -1, 1, TableEnd::kRunning, "", 6, false);
  EXPECT_EQ(cut, "pelícu");
}

TEST(ProgressLine, CompactForANarrowTerminal) {
  const ProgressLineView seats{"postgresql.reserved_seats", 1'234'567, 12'000'000, 10.0,
                               TableEnd::kRunning,          ""};
  EXPECT_EQ(BarRoom(seats, 25, 79, LineLayout::kWide), 0u);
  EXPECT_EQ(BarRoom(seats, 25, 200, LineLayout::kWide), 20u);
  EXPECT_EQ(BarRoom(seats, 25, 79, LineLayout::kCompact), 12u);
  EXPECT_EQ(RenderProgressLine(seats, 25, 12, 79, LineLayout::kCompact, false),
            "postgresql.reserved_seats  [=>          ]  10%  1.23M/~12.0M  123k/s  ETA 1m27s");
  EXPECT_EQ(Render("t", 1, 999, -1, 1, TableEnd::kDone, "", 80, false, LineLayout::kCompact),
            "t  [====================] done  999 in 1.0s  999/s");
  EXPECT_EQ(Render("t", 1, 48000, -1, 2, TableEnd::kDone, "", 80, false, LineLayout::kCompact),
            "t  [====================] done  48.0k in 2.0s  24.0k/s");
  EXPECT_EQ(
      Render("t", 1, 4'100'000'000, -1, 1, TableEnd::kRunning, "", 80, false, LineLayout::kCompact)
          .substr(25),
      "       4.10G  4.10G/s");
}

TEST(ProgressDisplay, RedrawsTheBlockInPlace) {
  Screen s(100, 30);
  auto& [term, clock, d] = s;
  d.Begin("postgresql.users", 1000);
  d.Begin("mysql.rooms", -1);
  d.Draw();
  std::string first = term.Take();
  EXPECT_EQ(first.find("\x1b[2A"), std::string::npos) << "nothing to move over yet";
  EXPECT_EQ(testing::PlainLines(first).size(), 2u);
  clock.Advance(seconds(2));
  d.Update("postgresql.users", 500);
  d.Update("mysql.rooms", 40);
  d.Draw();
  std::string second = term.Take();
  // Back up over the two lines drawn, then each line again, cleared to its end.
  EXPECT_EQ(second.rfind("\r\x1b[2A", 0), 0u) << second;
  auto lines = testing::PlainLines(second);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "postgresql.users  [==========>         ]  50%  500 of ~1,000 rows  250 rows/s"
            "  ETA 2s");
  EXPECT_EQ(lines[1], "mysql.rooms       [                <=> ]       40 rows  20 rows/s");
  EXPECT_NE(second.find("ETA 2s\x1b[K\n"), std::string::npos);
}

TEST(ProgressDisplay, OneLayoutAndBarWidthForTheWholeBlock) {
  Screen s(80, 30);
  auto& [term, clock, d] = s;
  d.Begin("mysql.rooms", 10);
  d.Begin("postgresql.reserved_seats", 12'000'000);
  clock.Advance(seconds(10));
  d.Finish("mysql.rooms", TableEnd::kFailed, 3, std::string(200, 'x'));  // a long message
  d.Update("postgresql.reserved_seats", 1'234'567);
  d.Draw();
  auto lines = testing::PlainLines(term.Take());
  ASSERT_EQ(lines.size(), 2u);
  // The counts of the big table need the compact layout at 79 columns: both lines take it,
  // with one bar width (the long message is cut, it does not narrow the bar).
  EXPECT_EQ(lines[0],
            "mysql.rooms                [===>        ] FAILED  3 rows: " + std::string(21, 'x'));
  EXPECT_EQ(lines[1],
            "postgresql.reserved_seats  [=>          ]  10%  1.23M/~12.0M  123k/s  ETA 1m27s");
  // It keeps to that layout and bar while the width stays, not to jump from frame to
  // frame...
  d.Finish("postgresql.reserved_seats", TableEnd::kDone, 12'000'000, "");
  d.Draw();
  lines = testing::PlainLines(term.Take());
  EXPECT_EQ(lines[1], "postgresql.reserved_seats  [============] done  12.0M in 10.0s  1.20M/s");
  // ...and is wide again on a wider terminal.
  term.Resize(120);
  d.Draw();
  lines = testing::PlainLines(term.Take());
  EXPECT_EQ(lines[1],
            "postgresql.reserved_seats  [====================] done  12,000,000 rows "
            "in 10.0s  1,200,000 rows/s");
}

TEST(ProgressDisplay, EndedTablesStayAboveTheRunningOnes) {
  Screen s(100, 30);
  auto& [term, clock, d] = s;
  d.Begin("a", 10);
  d.Begin("b", 10);
  d.Begin("c", 10);
  clock.Advance(seconds(1));
  d.Finish("b", TableEnd::kDone, 10, "");
  d.Finish("c", TableEnd::kFailed, 3, "no such table");
  d.Update("c", 9);  // after its end: ignored
  d.Draw();
  auto lines = testing::PlainLines(term.Take());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "b  [====================] done  10 rows in 1.0s  10 rows/s");
  EXPECT_EQ(lines[1], "c  [======>             ] FAILED  3 rows: no such table");
  EXPECT_EQ(lines[2].substr(0, 10), "a  [>     ");
}

TEST(ProgressDisplay, LogLinesGoAboveTheBlock) {
  Screen s(80, 30);
  auto& [term, clock, d] = s;
  d.Begin("a", 100);
  d.Begin("b", 100);
  d.Draw();
  term.Take();
  // A frame is due: the block is cleared, the line written, the block drawn under it.
  clock.Advance(milliseconds(150));
  d.Print("2026-01-01T00:00:00.000Z pipeline INFO [backup] a: 5 rows\n");
  std::string out = term.Take();
  EXPECT_EQ(
      out.rfind("\r\x1b[2A\x1b[J2026-01-01T00:00:00.000Z pipeline INFO [backup] a: 5 rows\n", 0),
      0u)
      << out;
  auto lines = testing::PlainLines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].substr(0, 4), "a  [");
  EXPECT_EQ(lines[2].substr(0, 4), "b  [");
  // Within the frame time: the line only; the block waits for the next frame, drawn from
  // where the cursor now is (no block on screen to move over).
  clock.Advance(milliseconds(30));
  d.Print("one more");
  out = term.Take();
  EXPECT_EQ(out, "\r\x1b[2A\x1b[Jone more\n");
  d.Draw();
  out = term.Take();
  EXPECT_EQ(out.find("\x1b[2A"), std::string::npos) << out;
  EXPECT_EQ(testing::PlainLines(out).size(), 2u);
}

TEST(ProgressDisplay, TheBlockKeepsToTheScreenHeight) {
  Screen s(80, 4);  // room for 3 lines
  auto& [term, clock, d] = s;
  for (const char* t : {"a", "b", "c", "d", "e"}) d.Begin(t, 10);
  d.Draw();
  auto lines = testing::PlainLines(term.Take());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "... and 3 more running");
  // Two end: they go above the running ones; the oldest ended one that no longer fits is
  // written once, for good, above the block, and not moved over again.
  d.Finish("a", TableEnd::kDone, 10, "");
  d.Finish("b", TableEnd::kDone, 10, "");
  d.Finish("c", TableEnd::kDone, 10, "");
  d.Draw();
  std::string out = term.Take();
  EXPECT_EQ(out.rfind("\r\x1b[3A", 0), 0u) << out;
  lines = testing::PlainLines(out);
  ASSERT_EQ(lines.size(), 5u) << out;
  EXPECT_EQ(lines[0].substr(0, 9), "a  [=====");
  EXPECT_EQ(lines[1].substr(0, 9), "b  [=====");
  EXPECT_EQ(lines[2].substr(0, 9), "c  [=====");
  EXPECT_EQ(lines[3].substr(0, 5), "d  [>");
  EXPECT_EQ(lines[4].substr(0, 5), "e  [>");
  // a and b are above the block now: the next frame moves over c, d and e only.
  d.Draw();
  out = term.Take();
  EXPECT_EQ(out.rfind("\r\x1b[3A", 0), 0u) << out;
  lines = testing::PlainLines(out);
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_EQ(lines[0].substr(0, 9), "c  [=====");
}

TEST(ProgressDisplay, StopDrawsTheLastFrameAndTheSummary) {
  Screen s(100, 30, "migrate");
  auto& [term, clock, d] = s;
  d.Begin("a", 1000);
  d.Begin("b", 1000);
  d.Begin("c", -1);
  clock.Advance(seconds(4));
  d.Finish("a", TableEnd::kDone, 1000, "");
  d.Finish("b", TableEnd::kFailed, 200, "boom");
  d.Finish("c", TableEnd::kStopped, 50, "");
  d.Stop();
  auto lines = testing::PlainLines(term.Take());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "migrate: 3 tables, 1,250 rows in 4.0s (312 rows/s), 1 failed, 1 stopped");
  d.Stop();  // idempotent
  d.Print("after");
  EXPECT_EQ(term.Take(), "after\n");  // below the summary, the block left as it is
}

TEST(ProgressDisplay, NoTableNoSummary) {
  Screen s(80, 24);
  auto& [term, clock, d] = s;
  d.Stop();
  EXPECT_EQ(term.out, "");
}

TEST(ProgressDisplay, WorkersReportWhileTheThreadDraws) {
  StringTerminal term(80, 24);
  ProgressDisplay::Options o = NoColor();
  o.frame = milliseconds(5);
  ProgressDisplay d(term, SystemClock(), o);
  d.Start();
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&d, w] {
      const std::string name = "t" + std::to_string(w);
      d.Begin(name, 20000);
      for (int64_t rows = 0; rows <= 20000; rows += 100) {
        d.Update(name, rows);
        if (rows % 5000 == 0) d.Print(name + " at " + std::to_string(rows));
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      d.Finish(name, TableEnd::kDone, 20000, "");
    });
  for (auto& t : workers) t.join();
  d.Stop();
  auto lines = testing::PlainLines(term.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().substr(0, 30), "backup: 4 tables, 80,000 rows ");
  for (const auto& l : lines) EXPECT_LE(l.size(), 79u) << l;
  // Every log line whole, on a line of its own.
  for (int w = 0; w < 4; ++w)
    for (int rows = 0; rows <= 20000; rows += 5000)
      EXPECT_EQ(std::count(lines.begin(), lines.end(),
                           "t" + std::to_string(w) + " at " + std::to_string(rows)),
                1);
}

TEST(ProgressDisplay, ChosenForATerminalThatDrawsOnly) {
  EXPECT_TRUE(UseProgressDisplay(ProgressMode::kAuto, true, "xterm-256color"));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kAuto, false, "xterm"));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kAuto, true, "dumb"));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kAuto, true, nullptr));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kAuto, true, ""));
  EXPECT_TRUE(UseProgressDisplay(ProgressMode::kTty, false, nullptr));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kLog, true, "xterm"));
  EXPECT_FALSE(UseProgressDisplay(ProgressMode::kOff, true, "xterm"));
}

}  // namespace
}  // namespace di
