// ProgressDisplay: the live progress of a long job (backup, migrate, sync, restore) on a
// terminal. One line per table — its name, a bar, rows of ~estimate (rows alone without
// one), rows/s and ETA — redrawn in place with ANSI cursor movement. A table that ends
// keeps its line (done, FAILED, stopped), above the running ones; lines are cut to the
// terminal's width so they never wrap, and the block to its height (the oldest ended lines
// then leave the block for good, as ordinary lines above it). Other output (log lines) goes
// above the block through Print. Stop draws the last frame and a summary line: tables,
// rows, duration, rows/s, failures.
//
// Thread-safety: every member but the constructor and destructor is thread-safe. The
// workers report concurrently: Begin/Update/Finish only change counters under a mutex of
// their own, never waiting for the terminal. Frames are drawn by the display's own thread
// (Start), at most one per `frame` (~10 a second), and by Print, which redraws the block
// under the text it writes only when no frame was drawn within `frame`; one lock orders
// every write. Start must be called at most once. Borrows its Terminal and Clock, which
// outlive it and are thread-safe when it is used from several threads (SystemClock is; a
// FakeClock serves a test on one thread). A write the terminal refuses is dropped: the
// display never fails the job.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/clock.h"

namespace di {

// Where a ProgressDisplay draws: the bytes to write, and the terminal's size now.
class Terminal {
 public:
  virtual ~Terminal() = default;
  virtual void Write(std::string_view bytes) = 0;
  virtual int Columns() = 0;
  virtual int Rows() = 0;
};

// stderr (fd 2); its size from TIOCGWINSZ, 80 x 24 when it gives none. Thread-safe.
std::unique_ptr<Terminal> StderrTerminal();

// Whether a job draws the display: PROGRESS=tty always; auto when stderr is a terminal
// and TERM is set and not "dumb"; log and off never.
bool UseProgressDisplay(ProgressMode mode, bool stderr_is_terminal, const char* term);

// Where a table's line stands.
enum class TableEnd { kRunning, kDone, kFailed, kStopped };

// One table's line, as RenderProgressLine draws it.
struct ProgressLineView {
  std::string_view name;
  int64_t rows = 0;
  int64_t estimate = -1;  // ≤ 0: unknown
  double seconds = 0;     // since the table began, or how long it took once ended
  TableEnd end = TableEnd::kRunning;
  std::string_view note;  // a failure's message
};

// The counts in full ("48,000 of ~100,000 rows  31,250 rows/s"), or short for a narrow
// terminal ("48.0k/~100k  31.2k/s").
enum class LineLayout { kWide, kCompact };

// The inner width of the bar `line` leaves at `width`: 20, less when the rest of the line
// needs the room, 0 (no bar) below 6. A FAILED line's message does not count: it is cut.
size_t BarRoom(const ProgressLineView& line, size_t name_width, size_t width, LineLayout layout);

// The text of one table's line, at most `width` columns (code points): the name padded to
// `name_width`, a bar `bar` wide inside (0: none), then a running table's percentage, rows
// of ~estimate, rows/s and ETA, or done / FAILED / stopped with the rows and the time taken
// or why. Escape codes (the status's colour) only with `color`. Pure.
std::string RenderProgressLine(const ProgressLineView& line, size_t name_width, size_t bar,
                               size_t width, LineLayout layout, bool color);

class ProgressDisplay {
 public:
  struct Options {
    std::string job = "backup";            // names the summary: "backup: 9 tables, ..."
    bool color = true;                     // done green, FAILED red, stopped yellow
    std::chrono::milliseconds frame{100};  // the least time between two frames
  };
  ProgressDisplay(Terminal& terminal, Clock& clock, Options options);
  ~ProgressDisplay();  // Stop()
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Starts the thread that draws a frame every `frame` until Stop.
  void Start();
  // A table starts: its line, `estimate` rows expected (≤ 0: unknown). A name already
  // begun keeps its line and its start.
  void Begin(const std::string& name, int64_t estimate);
  // The rows the table has done so far (begun without an estimate if it was not).
  void Update(const std::string& name, int64_t rows);
  // The table ended with `rows` done (< 0: as last updated); `note` (a failure's
  // message) ends a FAILED line. The first end of a table counts; later ones are ignored.
  void Finish(const std::string& name, TableEnd end, int64_t rows, const std::string& note);
  // `text` (one or more lines) above the block: the block is cleared, the text written,
  // and the block drawn again under it (now, or at the next frame when one was drawn
  // within `frame`). After Stop, the text is written as it is, below the summary.
  void Print(std::string_view text);
  // A frame now, however soon after the last.
  void Draw();
  // The last frame, then the summary line (none when no table began); the thread joined.
  // Idempotent.
  void Stop();
  // "backup: 9 tables, 1,245,000 rows in 12.4s (100,403 rows/s), no failures"
  std::string Summary();

 private:
  struct Line {
    std::string name;
    int64_t estimate = -1;
    int64_t rows = 0;
    std::chrono::system_clock::time_point begun, ended;
    TableEnd end = TableEnd::kRunning;
    std::string note;
    uint64_t ended_as = 0;  // 1 for the first table to end, 2 for the next...
  };
  // The block's columns: the names' width, the bar's and the layout.
  struct Shape {
    size_t names, bar;
    LineLayout layout;
  };
  Line& FindLocked(const std::string& name);
  Shape ShapeLocked(const std::vector<ProgressLineView>& views, size_t width);
  void Reshape();  // the layout and the bar chosen again from the lines of the next frame
  static std::vector<ProgressLineView> Ordered(const std::vector<Line>& lines,
                                               std::chrono::system_clock::time_point now);
  std::vector<Line> Snapshot();
  std::string FrameLocked(std::chrono::system_clock::time_point now);
  void DrawLocked(std::chrono::system_clock::time_point now, std::string prefix);
  void Run();

  Terminal& terminal_;
  Clock& clock_;
  const Options options_;
  const std::chrono::system_clock::time_point started_;
  // The tables (mu_): what the workers change.
  std::mutex mu_;
  std::vector<Line> lines_;  // in the order they began
  uint64_t ends_ = 0;
  // The screen (screen_mu_, taken before mu_ when both are): what is drawn.
  std::mutex screen_mu_;
  std::condition_variable wake_;
  int drawn_ = 0;    // block lines on screen; the cursor is at the start of the line below
  size_t gone_ = 0;  // ended lines (the first to end) that left the block for good
  size_t shaped_width_ = 0;
  bool compact_ = false;  // the compact layout, kept while the width stays
  size_t bar_ = 20;       // the bar's width, narrowed as the lines need, kept likewise
  std::chrono::system_clock::time_point last_frame_{};
  bool quit_ = false, stopped_ = false;
  std::thread thread_;
};

}  // namespace di
