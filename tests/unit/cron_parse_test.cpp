#include "scheduler/cron.h"

#include <gtest/gtest.h>

namespace di {
namespace {

std::string Bits(const auto& set, int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i)
    if (set.test(i)) out += (out.empty() ? "" : ",") + std::to_string(i);
  return out;
}

struct Case {
  const char* expr;
  const char* minutes;
  const char* hours;
  const char* dom;
  const char* months;
  const char* dow;
};

TEST(CronParse, FieldsExpandAsCronDoes) {
  const Case cases[] = {
      {"0 2 * * *", "0", "2", "*", "*", "*"},
      {"*/30 * * * *", "0,30", "*", "*", "*", "*"},
      {"5,10-12 0-6/3 1,15 JAN,jun-Aug MON-FRI", "5,10,11,12", "0,3,6", "1,15", "1,6,7,8",
       "1,2,3,4,5"},
      {"0 0 * * 7", "0", "0", "*", "*", "0"},
      {"0 0 * * 5-7", "0", "0", "*", "*", "0,5,6"},
      {"10/20 * * * *", "10,30,50", "*", "*", "*", "*"},
      {"0 0 L * *", nullptr, nullptr, nullptr, nullptr, nullptr},  // L is not supported
      {"@hourly", "0", "*", "*", "*", "*"},
      {"@weekly", "0", "0", "*", "*", "0"},
      {"@yearly", "0", "0", "1", "1", "*"},
  };
  for (const auto& c : cases) {
    auto r = CronExpr::Parse(c.expr);
    if (!c.minutes) {
      EXPECT_FALSE(r.ok()) << c.expr;
      continue;
    }
    ASSERT_TRUE(r.ok()) << c.expr << ": " << r.status().ToString();
    auto all_or = [](const std::string& s, int from, int to, const char* want) {
      if (std::string(want) == "*") {
        std::string full;
        for (int i = from; i <= to; ++i) full += (full.empty() ? "" : ",") + std::to_string(i);
        return s == full;
      }
      return s == want;
    };
    EXPECT_TRUE(all_or(Bits(r->minutes(), 0, 59), 0, 59, c.minutes)) << c.expr;
    EXPECT_TRUE(all_or(Bits(r->hours(), 0, 23), 0, 23, c.hours)) << c.expr;
    EXPECT_TRUE(all_or(Bits(r->days_of_month(), 1, 31), 1, 31, c.dom)) << c.expr;
    EXPECT_TRUE(all_or(Bits(r->months(), 1, 12), 1, 12, c.months)) << c.expr;
    EXPECT_TRUE(all_or(Bits(r->days_of_week(), 0, 6), 0, 6, c.dow)) << c.expr;
  }
}

TEST(CronParse, DayFieldRestrictionDrivesTheOrRule) {
  auto a = CronExpr::Parse("0 0 1 * MON");
  EXPECT_TRUE(a->dom_restricted());
  EXPECT_TRUE(a->dow_restricted());
  auto b = CronExpr::Parse("0 0 * * MON");
  EXPECT_FALSE(b->dom_restricted());
  EXPECT_TRUE(b->dow_restricted());
  auto c = CronExpr::Parse("0 0 */2 * *");
  EXPECT_FALSE(c->dom_restricted());  // a leading '*' counts as unrestricted, as in cron
}

struct Bad {
  const char* expr;
  const char* message;
};

TEST(CronParse, ErrorsNameTheField) {
  const Bad cases[] = {
      {"", "'' has 0 fields; expected 5"},
      {"* * * *", "has 4 fields; expected 5"},
      {"* * * * * *", "has 6 fields; expected 5"},
      {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
      {"* 24 * * *", "field 2 (hour): 24 is out of range 0-23"},
      {"* * 0 * *", "field 3 (day of month): 0 is out of range 1-31"},
      {"* * * 13 *", "field 4 (month): 13 is out of range 1-12"},
      {"* * * FOO *", "field 4 (month): 'FOO' is not a number 1-12 or JAN-DEC"},
      {"* * * * 8", "field 5 (day of week): 8 is out of range 0-7"},
      {"* * * * XYZ", "field 5 (day of week): 'XYZ' is not a number 0-7 or SUN-SAT"},
      {"5-1 * * * *", "field 1 (minute): range '5-1' goes backwards"},
      {"*/0 * * * *", "field 1 (minute): step '0' must be a number from 1 to 59"},
      {"1,,2 * * * *", "field 1 (minute): empty list element"},
      {"@often", "has 1 fields; expected 5"},
  };
  for (const auto& c : cases) {
    auto r = CronExpr::Parse(c.expr);
    ASSERT_FALSE(r.ok()) << c.expr;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.expr << " -> " << r.status().message();
  }
}

}  // namespace
}  // namespace di
