// The progress of a real backup and restore as a user sees it: stderr a terminal (a pty made
// by script(1), 72 columns wide), where the block of table lines is redrawn in place and
// ends with a summary; and stderr a pipe, where there is no escape sequence at all.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "../terminal_text.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / UniqueName("di-progress");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A shell script that runs the binary against the stack with `extra` exported (and
  // TERM=xterm: a terminal that draws), backing up to a local location.
  std::string Script(const std::string& extra, const std::string& args) {
    fs::path script = dir_ / UniqueName("run");
    std::ofstream(script) << StackEnvShell() << "export S3_BUCKET_NAME=file://" << dir_.string()
                          << " LOG_FILE= TERM=xterm BATCH_SIZE=500 " << extra << " && exec "
                          << DI_BINARY << " " << args << "\n";
    return "sh " + script.string();
  }
  // `command` with its stdin, stdout and stderr a terminal of 72 x 40.
  static std::string OnTerminal(const std::string& command) {
    return "script -qfec 'stty cols 72 rows 40; " + command + "' /dev/null";
  }
  fs::path dir_;
};

std::string Grouped(int64_t n) {
  std::string s = std::to_string(n);
  for (int at = static_cast<int>(s.size()) - 3; at > 0; at -= 3) s.insert(at, ",");
  return s;
}

int64_t CinemaRows() {
  int64_t rows = 0;
  for (const auto& [engine, tables] : ExpectedCounts(CinemaScale()))
    for (const auto& [table, n] : tables) rows += n;
  return rows;
}

TEST_F(ProgressTest, OnATerminalTheBlockIsRedrawnInPlaceAndSummed) {
  std::string out;
  ASSERT_EQ(RunCommand(OnTerminal(Script("", "--mode backup")), &out), 0) << out;
  // Redrawn in place: the cursor goes back up over the block, lines are cleared to their
  // end, and the block is cleared for each log line written above it.
  EXPECT_TRUE(std::regex_search(out, std::regex("\r\x1b\\[[0-9]+A"))) << out;
  EXPECT_NE(out.find("\x1b[K"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[J"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[32mdone\x1b[0m"), std::string::npos) << out;
  // Every log line starts on a line of its own (after a newline or the block's clearing),
  // never inside a table's line: what comes before its timestamp (24 characters).
  int log_lines = 0;
  for (size_t at = out.find(" pipeline INFO "); at != std::string::npos;
       at = out.find(" pipeline INFO ", at + 1), ++log_lines) {
    ASSERT_GE(at, 24u) << out;
    const size_t start = at - 24;
    EXPECT_TRUE(start == 0 || out[start - 1] == '\n' ||
                (start >= 3 && out.compare(start - 3, 3, "\x1b[J") == 0))
        << out.substr(start > 40 ? start - 40 : 0, 120);
  }
  EXPECT_GE(log_lines, 9);  // a line per table at least
  // The table lines fit the 72 columns (71 used, never the last); the log lines may wrap.
  const std::vector<std::string> lines = PlainLines(out);
  int table_lines = 0;
  for (const auto& l : lines)
    if (l.find(" pipeline INFO ") == std::string::npos && l.find("  [") != std::string::npos) {
      EXPECT_LE(l.size(), 71u) << l;
      ++table_lines;
    }
  EXPECT_GE(table_lines, 9);
  // The last frame: every table done; then the summary, then the job's line on stdout.
  const std::string summary = "backup: 9 tables, " + Grouped(CinemaRows()) + " rows in ";
  size_t at = 0;
  while (at < lines.size() && lines[at].rfind(summary, 0) != 0) ++at;
  ASSERT_LT(at, lines.size()) << summary << "\n" << out;
  EXPECT_TRUE(std::regex_match(lines[at], std::regex(".* rows in [0-9.m]+s \\([0-9,]+ rows/s\\), "
                                                     "no failures")))
      << lines[at];
  ASSERT_GE(at, 9u);
  for (size_t i = at - 9; i < at; ++i)
    EXPECT_TRUE(std::regex_search(lines[i], std::regex("\\] done  [0-9.kM]+ in "))) << lines[i];
  ASSERT_LT(at + 1, lines.size());
  EXPECT_NE(lines[at + 1].find(": SUCCESS, "), std::string::npos) << lines[at + 1];

  // A restore of that backup shows its table's line and summary too.
  std::string table = UniqueName("progress_users");
  std::replace(table.begin(), table.end(), '-', '_');
  ASSERT_EQ(RunCommand(OnTerminal(Script("",
                                         "--mode restore --source-db postgresql --table "
                                         "users --latest --target-table " +
                                             table)),
                       &out),
            0)
      << out;
  const int64_t users = ExpectedCounts(CinemaScale()).at("postgresql").at("users");
  EXPECT_NE(out.find("restore: 1 table, " + Grouped(users) + " rows in "), std::string::npos)
      << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex("postgresql\\.users +\\[=+\\] .*done.*  " + Grouped(users) + " rows in ")))
      << out;
  PsqlOn(StackConfig().postgres.database, "DROP TABLE " + table);
}

TEST_F(ProgressTest, ThroughAPipeThereIsNoEscapeSequence) {
  std::string out;
  // stderr and stdout into a pipe, as `2>&1 | cat` or `| tee` make them.
  ASSERT_EQ(RunCommand("(" + Script("", "--mode backup") + ") 2>&1 | cat", &out), 0) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find("backup: 9 tables"), std::string::npos) << out;  // no display, no summary
  EXPECT_NE(out.find("pipeline INFO [backup] postgresql.reservations: "), std::string::npos) << out;
  EXPECT_NE(out.find(": SUCCESS, "), std::string::npos) << out;
  // PROGRESS=tty draws the display into the pipe all the same.
  ASSERT_EQ(
      RunCommand(Script("PROGRESS=tty NO_COLOR=1", "--mode backup --table mysql.rooms"), &out), 0)
      << out;
  EXPECT_NE(out.find("\x1b[K"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b[32m"), std::string::npos) << out;  // NO_COLOR
  EXPECT_NE(out.find("backup: 1 table, "), std::string::npos) << out;
  // A bad PROGRESS is refused, naming the variable and what it accepts.
  EXPECT_EQ(RunCommand(Script("PROGRESS=fancy", "--mode backup"), &out), 2) << out;
  EXPECT_NE(out.find("PROGRESS: 'fancy' is not accepted; expected auto, tty, log or off"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace di::testing
