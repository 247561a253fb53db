#include "scheduler/cron.h"

#include <array>
#include <vector>

#include "core/strings.h"
#include "core/value.h"

namespace di {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // nullptr or `max - min + 1` three-letter names from `min`
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day of month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},
    {"day of week", 0, 7, kDayNames},
}};

Status FieldError(size_t index, const std::string& what) {
  return InvalidArgument("field " + std::to_string(index + 1) + " (" + kFields[index].name +
                         "): " + what);
}

Result<int> ParseValue(std::string_view tok, size_t index) {
  const FieldSpec& f = kFields[index];
  int value;
  if (auto n = ParseInt64(tok)) {
    value = static_cast<int>(*n);
    if (*n < f.min || *n > f.max)
      return FieldError(index, std::string(tok) + " is out of range " + std::to_string(f.min) +
                                   "-" + std::to_string(f.max));
    return value;
  }
  if (f.names != nullptr) {
    std::string up = ToUpper(tok);
    for (int i = 0; i <= f.max - f.min; ++i)
      if (up == f.names[i]) return f.min + i;
  }
  std::string accepted = "a number " + std::to_string(f.min) + "-" + std::to_string(f.max);
  if (index == 3) accepted += " or JAN-DEC";
  if (index == 4) accepted += " or SUN-SAT";
  return FieldError(index, "'" + std::string(tok) + "' is not " + accepted);
}

// Sets the bits of one comma-separated element: *, */n, a, a-b, a-b/n, a/n.
Status ParseElement(std::string_view elem, size_t index, std::vector<bool>& bits) {
  const FieldSpec& f = kFields[index];
  if (elem.empty()) return FieldError(index, "empty list element");
  std::string_view range = elem;
  int step = 1;
  if (size_t slash = elem.find('/'); slash != std::string_view::npos) {
    range = elem.substr(0, slash);
    auto s = ParseInt64(elem.substr(slash + 1));
    if (!s || *s < 1 || *s > f.max)
      return FieldError(index, "step '" + std::string(elem.substr(slash + 1)) +
                                   "' must be a number from 1 to " + std::to_string(f.max));
    step = static_cast<int>(*s);
  }
  int lo, hi;
  if (range == "*" || range == "?") {
    lo = f.min;
    hi = f.max;
  } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
    ASSIGN_OR_RETURN(lo, ParseValue(range.substr(0, dash), index));
    ASSIGN_OR_RETURN(hi, ParseValue(range.substr(dash + 1), index));
    if (hi < lo) return FieldError(index, "range '" + std::string(range) + "' goes backwards");
  } else {
    ASSIGN_OR_RETURN(lo, ParseValue(range, index));
    hi = (step > 1 || elem.find('/') != std::string_view::npos) ? f.max : lo;  // a/n = a-max/n
  }
  for (int v = lo; v <= hi; v += step) bits[v] = true;
  return Status::Ok();
}

std::string_view ExpandMacro(std::string_view text) {
  static const std::pair<std::string_view, std::string_view> kMacros[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  };
  for (auto [m, e] : kMacros)
    if (ToLower(text) == m) return e;
  return text;
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  std::string_view t = ExpandMacro(Trim(text));
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(t, ' '))
    if (!Trim(part).empty()) fields.push_back(Trim(part));
  if (fields.size() != 5)
    return InvalidArgument("'" + std::string(text) + "' has " + std::to_string(fields.size()) +
                           " fields; expected 5 (minute hour day-of-month month day-of-week), "
                           "e.g. '0 2 * * *', or @hourly/@daily/@weekly/@monthly/@yearly");
  CronExpr c;
  c.text_ = std::string(Trim(text));
  for (size_t i = 0; i < 5; ++i) {
    std::vector<bool> bits(kFields[i].max + 1, false);
    for (std::string_view elem : Split(fields[i], ','))
      RETURN_IF_ERROR(ParseElement(elem, i, bits));
    for (int v = kFields[i].min; v <= kFields[i].max; ++v) {
      if (!bits[v]) continue;
      switch (i) {
        case 0:
          c.minutes_.set(v);
          break;
        case 1:
          c.hours_.set(v);
          break;
        case 2:
          c.dom_.set(v);
          break;
        case 3:
          c.months_.set(v);
          break;
        case 4:
          c.dow_.set(v % 7);
          break;  // 7 is Sunday too
      }
    }
  }
  c.dom_restricted_ = fields[2].front() != '*' && fields[2].front() != '?';
  c.dow_restricted_ = fields[4].front() != '*' && fields[4].front() != '?';
  return c;
}

bool CronExpr::DayMatches(unsigned month, unsigned day, unsigned weekday) const {
  if (!months_[month]) return false;
  bool dom = dom_[day], dow = dow_[weekday];
  return dom_restricted_ && dow_restricted_ ? (dom || dow) : (dom && dow);
}

std::optional<int64_t> CronExpr::NextAfter(int64_t utc_seconds, const TimeZone& tz) const {
  auto floor_div = [](int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  };
  int64_t local = utc_seconds + tz.OffsetAt(utc_seconds);
  int64_t t = (floor_div(local, 60) + 1) * 60;             // the next whole minute, wall time
  const int64_t give_up = t + int64_t{400} * 366 * 86400;  // 400 years: every calendar repeats
  while (t < give_up) {
    int64_t days = floor_div(t, 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    unsigned weekday = static_cast<unsigned>(((days % 7) + 11) % 7);  // 1970-01-01: Thursday
    if (!DayMatches(m, d, weekday)) {
      t = (days + 1) * 86400;
      continue;
    }
    int hour = static_cast<int>(secs / 3600), minute = static_cast<int>(secs % 3600 / 60);
    int found_h = -1, found_m = -1;
    for (int h = hour; h < 24 && found_h < 0; ++h) {
      if (!hours_[h]) continue;
      for (int mi = h == hour ? minute : 0; mi < 60; ++mi)
        if (minutes_[mi]) {
          found_h = h;
          found_m = mi;
          break;
        }
    }
    if (found_h < 0) {
      t = (days + 1) * 86400;
      continue;
    }
    int64_t wall = days * 86400 + found_h * 3600 + found_m * 60;
    int64_t utc = tz.LocalToUtc(wall);
    if (utc > utc_seconds) return utc;
    t = wall + 60;  // a repeated wall hour that already passed: look further
  }
  return std::nullopt;
}

}  // namespace di
