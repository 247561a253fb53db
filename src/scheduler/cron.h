// CronExpr: a parsed standard 5-field cron expression (minute hour day-of-month month
// day-of-week) with lists, ranges, steps, month and weekday names, and the @hourly-style
// macros. Immutable once parsed; safe to share between threads.
#pragma once

#include <bitset>
#include <string>
#include <string_view>

#include <optional>

#include "core/status.h"
#include "core/time_util.h"

namespace di {

class CronExpr {
 public:
  // Errors name the field and what it accepts, e.g.
  // "field 2 (hour): 24 is out of range 0-23".
  static Result<CronExpr> Parse(std::string_view text);

  const std::string& text() const { return text_; }
  const std::bitset<60>& minutes() const { return minutes_; }
  const std::bitset<24>& hours() const { return hours_; }
  const std::bitset<32>& days_of_month() const { return dom_; }  // bits 1..31
  const std::bitset<13>& months() const { return months_; }      // bits 1..12
  const std::bitset<7>& days_of_week() const { return dow_; }    // 0 = Sunday
  // Cron's rule: when both day fields are restricted, a day matches if either matches.
  bool dom_restricted() const { return dom_restricted_; }
  bool dow_restricted() const { return dow_restricted_; }

  // The first firing strictly after `utc_seconds`, evaluated on the wall clock of `tz`, as
  // UTC seconds; nullopt when the expression never fires (e.g. 30 February). A wall time
  // skipped by a DST change fires at the instant it maps to; one repeated fires once.
  std::optional<int64_t> NextAfter(int64_t utc_seconds, const TimeZone& tz) const;
  // True when the local day (y-m-d, weekday 0 = Sunday) matches the day fields.
  bool DayMatches(unsigned month, unsigned day, unsigned weekday) const;

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> dom_;
  std::bitset<13> months_;
  std::bitset<7> dow_;
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

}  // namespace di
