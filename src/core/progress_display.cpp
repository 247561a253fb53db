#include "core/progress_display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace di {
namespace {

using Time = std::chrono::system_clock::time_point;

double Seconds(Time from, Time to) {
  return std::max(0.0, std::chrono::duration<double>(to - from).count());
}

// Columns of UTF-8 text: its code points (no character of a table name is wide).
size_t Cols(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The first `width` code points of `s`.
std::string Fit(std::string_view s, size_t width) {
  size_t n = 0, at = 0;
  for (; at < s.size(); ++at)
    if ((static_cast<unsigned char>(s[at]) & 0xC0) != 0x80 && n++ == width) break;
  return std::string(s.substr(0, at));
}

std::string Pad(std::string_view s, size_t width) {
  std::string out = Fit(s, width);
  return out + std::string(width - Cols(out), ' ');
}

// 1234567 -> "1,234,567"
std::string Grouped(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

// 14 -> "14s", 185 -> "3m05s", 3720 -> "1h02m"
std::string Span(int64_t s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  return buf;
}

// How long something took: "6.7s", "3m05s".
std::string Took(double s) {
  if (s >= 60) return Span(static_cast<int64_t>(s));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

int64_t Rate(int64_t rows, double seconds) {
  return seconds > 0 ? static_cast<int64_t>(static_cast<double>(rows) / seconds) : 0;
}

bool Known(int64_t rows, int64_t estimate) {
  return estimate > 0 && rows <= estimate;
}

// "[=========>          ]"; without a known estimate a running table's bar has a block
// going to and fro with time, an ended one is full (done) or empty.
std::string Bar(int64_t rows, int64_t estimate, double seconds, TableEnd end, size_t inner) {
  std::string in(inner, ' ');
  if (end == TableEnd::kDone) {
    in.assign(inner, '=');
  } else if (Known(rows, estimate)) {
    size_t filled = static_cast<size_t>(rows * static_cast<int64_t>(inner) / estimate);
    for (size_t i = 0; i < filled; ++i) in[i] = '=';
    if (filled < inner) in[filled] = '>';
  } else if (end == TableEnd::kRunning && inner > 3) {
    const size_t span = inner - 3;
    size_t step = static_cast<size_t>(seconds * 8) % (2 * span);
    size_t at = step <= span ? step : 2 * span - step;
    in.replace(at, 3, "<=>");
  }
  return "[" + in + "]";
}

// 1234 -> "1.23k", 48000 -> "48.0k", 480000 -> "480k", 1200000 -> "1.20M": three digits.
std::string Short(int64_t n) {
  if (n < 1000) return std::to_string(n);
  const char* units = "kMGT";
  int64_t unit = 1000;
  int u = 0;
  for (; u < 3 && n / unit >= 1000; ++u) unit *= 1000;
  const long long h = n / (unit / 100);  // in hundredths of the unit
  char buf[32];
  if (h < 1000)
    std::snprintf(buf, sizeof buf, "%lld.%02lld%c", h / 100, h % 100, units[u]);
  else if (h < 10000)
    std::snprintf(buf, sizeof buf, "%lld.%lld%c", h / 100, h / 10 % 10, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%lld%c", h / 100, units[u]);
  return buf;
}

// The words of a line after its bar: the status (percentage, done, FAILED, stopped) and
// the counts, wide ("48,000 of ~100,000 rows  31,250 rows/s") or compact ("48.0k/~100k
// 31.2k/s").
struct Words {
  std::string status, counts;
};

Words LineWords(const ProgressLineView& l, LineLayout layout) {
  const bool wide = layout == LineLayout::kWide;
  auto count = [wide](int64_t n) { return wide ? Grouped(n) : Short(n); };
  const std::string rows = count(l.rows) + (wide ? " rows" : "");
  const std::string per_s = count(Rate(l.rows, l.seconds)) + (wide ? " rows/s" : "/s");
  switch (l.end) {
    case TableEnd::kDone:
      return {"done", rows + " in " + Took(l.seconds) + "  " + per_s};
    case TableEnd::kStopped:
      return {"stopped", count(l.rows) + " rows"};
    case TableEnd::kFailed: {
      std::string why(l.note);
      std::replace(why.begin(), why.end(), '\n', ' ');
      return {"FAILED", count(l.rows) + " rows" + (why.empty() ? "" : ": " + why)};
    }
    case TableEnd::kRunning:
      break;
  }
  // A blank where the percentage would be keeps the counts of running lines in one column.
  if (!Known(l.rows, l.estimate)) return {"    ", rows + "  " + per_s};
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(l.rows * 100 / l.estimate));
  std::string counts = count(l.rows) + (wide ? " of ~" : "/~") + count(l.estimate) +
                       (wide ? " rows  " : "  ") + per_s;
  const int64_t rate = Rate(l.rows, l.seconds);
  if (rate > 0 && l.rows < l.estimate) counts += "  ETA " + Span((l.estimate - l.rows) / rate);
  return {pct, counts};
}

// The columns a line takes without its bar: name, status, counts and the bar's brackets.
size_t BarlessCols(const Words& w, size_t name_width) {
  return name_width + 2 + 3 + Cols(w.status) + 2 + Cols(w.counts);
}

const char* StatusColor(TableEnd end) {
  switch (end) {
    case TableEnd::kDone:
      return "\x1b[32m";
    case TableEnd::kFailed:
      return "\x1b[31m";
    case TableEnd::kStopped:
      return "\x1b[33m";
    case TableEnd::kRunning:
      break;
  }
  return nullptr;
}

std::string Up(int lines) {
  return lines > 0 ? "\r\x1b[" + std::to_string(lines) + "A" : "";
}

class FdTerminal : public Terminal {
 public:
  explicit FdTerminal(int fd) : fd_(fd) {}
  void Write(std::string_view bytes) override {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a terminal gone: nothing to mend
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  int Columns() override { return Size().ws_col > 0 ? Size().ws_col : 80; }
  int Rows() override { return Size().ws_row > 0 ? Size().ws_row : 24; }

 private:
  winsize Size() const {
    winsize ws{};
    if (::ioctl(fd_, TIOCGWINSZ, &ws) != 0) ws = winsize{};
    return ws;
  }
  int fd_;
};

}  // namespace

std::unique_ptr<Terminal> StderrTerminal() {
  return std::make_unique<FdTerminal>(STDERR_FILENO);
}

bool UseProgressDisplay(ProgressMode mode, bool stderr_is_terminal, const char* term) {
  if (mode == ProgressMode::kTty) return true;
  return mode == ProgressMode::kAuto && stderr_is_terminal && term != nullptr && *term != '\0' &&
         std::strcmp(term, "dumb") != 0;
}

size_t BarRoom(const ProgressLineView& line, size_t name_width, size_t width, LineLayout layout) {
  ProgressLineView l = line;
  l.note = "";  // a FAILED line's message is cut, never its bar
  const size_t rest = BarlessCols(LineWords(l, layout), name_width);
  return rest + 6 > width ? 0 : std::min<size_t>(20, width - rest);
}

std::string RenderProgressLine(const ProgressLineView& l, size_t name_width, size_t bar,
                               size_t width, LineLayout layout, bool color) {
  const Words w = LineWords(l, layout);
  const std::string head = Pad(l.name, name_width) + "  ";
  const std::string drawn = bar ? Bar(l.rows, l.estimate, l.seconds, l.end, bar) + " " : "";
  std::string line = Fit(head + drawn + w.status + "  " + w.counts, width);
  const char* on = StatusColor(l.end);
  const size_t at = head.size() + drawn.size();
  if (color && on && at + w.status.size() <= line.size())
    line = line.substr(0, at) + on + w.status + "\x1b[0m" + line.substr(at + w.status.size());
  return line;
}

ProgressDisplay::ProgressDisplay(Terminal& terminal, Clock& clock, Options options)
    : terminal_(terminal), clock_(clock), options_(std::move(options)), started_(clock.Now()) {}

ProgressDisplay::~ProgressDisplay() {
  Stop();
}

void ProgressDisplay::Start() {
  thread_ = std::thread([this] { Run(); });
}

ProgressDisplay::Line& ProgressDisplay::FindLocked(const std::string& name) {
  for (auto& l : lines_)
    if (l.name == name) return l;
  Line l;
  l.name = name;
  l.begun = clock_.Now();
  lines_.push_back(l);
  return lines_.back();
}

void ProgressDisplay::Begin(const std::string& name, int64_t estimate) {
  std::lock_guard<std::mutex> lock(mu_);
  Line& l = FindLocked(name);
  if (l.estimate <= 0) l.estimate = estimate;
}

void ProgressDisplay::Update(const std::string& name, int64_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  Line& l = FindLocked(name);
  if (l.end == TableEnd::kRunning) l.rows = rows;
}

void ProgressDisplay::Finish(const std::string& name, TableEnd end, int64_t rows,
                             const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  Line& l = FindLocked(name);
  if (l.end != TableEnd::kRunning || end == TableEnd::kRunning) return;
  l.end = end;
  if (rows >= 0) l.rows = rows;
  l.note = note;
  l.ended = clock_.Now();
  l.ended_as = ++ends_;
}

std::vector<ProgressDisplay::Line> ProgressDisplay::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

// The ended lines by when they ended, then the running ones by when they began.
std::vector<ProgressLineView> ProgressDisplay::Ordered(const std::vector<Line>& lines, Time now) {
  std::vector<const Line*> order;
  for (const auto& l : lines) order.push_back(&l);
  auto rank = [](const Line* l) { return l->ended_as ? l->ended_as : UINT64_MAX; };
  std::stable_sort(order.begin(), order.end(),
                   [&](const Line* a, const Line* b) { return rank(a) < rank(b); });
  std::vector<ProgressLineView> views;
  for (const Line* l : order)
    views.push_back({l->name, l->rows, l->estimate,
                     Seconds(l->begun, l->end == TableEnd::kRunning ? now : l->ended), l->end,
                     l->note});
  return views;
}

// One name column, layout and bar width for every line, so the columns line up: wide
// while every line keeps a bar of 10 with it, compact once one does not; the bar as wide as
// the narrowest room so far. Both kept until the width changes (Reshape).
ProgressDisplay::Shape ProgressDisplay::ShapeLocked(const std::vector<ProgressLineView>& views,
                                                    size_t width) {
  size_t names = 0, wide = 20, compact = 20;
  for (const auto& v : views) names = std::max(names, Cols(v.name));
  names = std::min({names, std::max<size_t>(width / 2, 8), size_t{40}});
  for (const auto& v : views) {
    wide = std::min(wide, BarRoom(v, names, width, LineLayout::kWide));
    compact = std::min(compact, BarRoom(v, names, width, LineLayout::kCompact));
  }
  if (width != shaped_width_) Reshape();
  shaped_width_ = width;
  if (!compact_ && wide < 10) {
    Reshape();
    compact_ = true;
  }
  bar_ = std::min(bar_, compact_ ? compact : wide);  // narrows, never widens: no jumping
  return Shape{names, bar_, compact_ ? LineLayout::kCompact : LineLayout::kWide};
}

void ProgressDisplay::Reshape() {
  compact_ = false;
  bar_ = 20;
}

// Moves the cursor to the block's top and draws it again: the ended lines (by when they
// ended) over the running ones (by when they began), every line cut to the width, the
// block to the screen's height less one. Ended lines that no longer fit are written for
// good above it (they scroll away with the log lines), running ones beyond the height are
// counted in a last line.
std::string ProgressDisplay::FrameLocked(Time now) {
  const std::vector<Line> lines = Snapshot();
  const int cols = terminal_.Columns(), height = terminal_.Rows();
  const size_t width = cols > 1 ? static_cast<size_t>(cols) - 1 : 1;
  const size_t limit = height > 2 ? static_cast<size_t>(height) - 1 : 1;
  const std::vector<ProgressLineView> views = Ordered(lines, now);
  const Shape shape = ShapeLocked(views, width);
  size_t ended = 0;
  for (const auto& v : views) ended += v.end != TableEnd::kRunning;
  const size_t running = views.size() - ended;
  const bool more = running > limit;
  const size_t shown = more ? limit - 1 : running;
  std::string out = Up(drawn_);
  int block = 0, written = 0;
  for (size_t i = gone_; i < ended + shown; ++i, ++written) {
    out +=
        RenderProgressLine(views[i], shape.names, shape.bar, width, shape.layout, options_.color) +
        "\x1b[K\n";
    if (i < ended && ended - i > limit - shown - more)
      gone_ = i + 1;  // written for good
    else
      ++block;
  }
  if (more) {
    out += Fit("... and " + std::to_string(running - shown) + " more running", width) + "\x1b[K\n";
    ++block, ++written;
  }
  if (written < drawn_) out += "\x1b[J";
  drawn_ = block;
  return out;
}

void ProgressDisplay::DrawLocked(Time now, std::string prefix) {
  prefix += FrameLocked(now);
  last_frame_ = now;
  terminal_.Write(prefix);
}

void ProgressDisplay::Draw() {
  std::lock_guard<std::mutex> lock(screen_mu_);
  if (!stopped_) DrawLocked(clock_.Now(), "");
}

void ProgressDisplay::Print(std::string_view text) {
  std::lock_guard<std::mutex> lock(screen_mu_);
  std::string out;
  if (!stopped_) {
    out = drawn_ > 0 ? Up(drawn_) + "\x1b[J" : "";
    drawn_ = 0;
  }
  out += text;
  if (out.empty() || out.back() != '\n') out += '\n';
  const Time now = clock_.Now();
  if (!stopped_ && now - last_frame_ >= options_.frame) return DrawLocked(now, out);
  terminal_.Write(out);
}

void ProgressDisplay::Run() {
  std::unique_lock<std::mutex> lock(screen_mu_);
  while (!quit_) {
    wake_.wait_for(lock, options_.frame, [this] { return quit_; });
    const Time now = clock_.Now();
    if (!quit_ && now - last_frame_ >= options_.frame) DrawLocked(now, "");
  }
}

void ProgressDisplay::Stop() {
  {
    std::lock_guard<std::mutex> lock(screen_mu_);
    if (quit_) return;
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(screen_mu_);
  const Time now = clock_.Now();
  Reshape();  // the last frame stays on screen: in full where it fits
  std::string out = FrameLocked(now);
  if (!Snapshot().empty()) out += Summary() + "\n";
  stopped_ = true;
  terminal_.Write(out);
}

std::string ProgressDisplay::Summary() {
  const std::vector<Line> lines = Snapshot();
  const double seconds = Seconds(started_, clock_.Now());
  int64_t rows = 0;
  size_t failed = 0, stopped = 0, running = 0;
  for (const auto& l : lines) {
    rows += l.rows;
    failed += l.end == TableEnd::kFailed;
    stopped += l.end == TableEnd::kStopped;
    running += l.end == TableEnd::kRunning;
  }
  std::string out = options_.job + ": " + std::to_string(lines.size()) +
                    (lines.size() == 1 ? " table, " : " tables, ") + Grouped(rows) + " rows in " +
                    Took(seconds) + " (" + Grouped(Rate(rows, seconds)) + " rows/s), ";
  std::string ends;
  if (failed) ends = std::to_string(failed) + " failed";
  if (stopped) ends += (ends.empty() ? "" : ", ") + std::to_string(stopped) + " stopped";
  if (running) ends += (ends.empty() ? "" : ", ") + std::to_string(running) + " unfinished";
  return out + (ends.empty() ? "no failures" : ends);
}

}  // namespace di
