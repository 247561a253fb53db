// The tail of an SQL ordered read (sources/source.h OrderedReadTail): the row comparison
// after a position and up to an end, and its written-out form for MariaDB, whose planner
// ranges over "a > 1 OR (a = 1 AND b > 2)" but scans a whole key for "(a, b) > (1, 2)".
#include <gtest/gtest.h>

#include <string>

#include "sources/source.h"

namespace di {
namespace {

TableInfo TwoColumnKey() {
  TableInfo t;
  t.name = "t";
  t.columns = {{"a", "int", false, {}, "", ""},
               {"b", "int", false, {}, "", ""},
               {"v", "int", true, {}, "", ""}};
  t.primary_key = {"a", "b"};
  return t;
}

std::string Tail(const TableInfo& t, const ReadOptions& o, bool expand) {
  return OrderedReadTail(
      t, o, [](std::string_view s) { return "`" + std::string(s) + "`"; },
      [](size_t, const Value& v) { return std::to_string(v.as<int64_t>()); }, expand);
}

TEST(OrderedReadTail, ARowComparisonOrItsWrittenOutForm) {
  ReadOptions o;
  o.by_key = true;
  o.after = Position{Value(), {Value(int64_t{1}), Value(int64_t{2})}};
  EXPECT_EQ(Tail(TwoColumnKey(), o, false), " WHERE (`a`, `b`) > (1, 2) ORDER BY `a`, `b`");
  EXPECT_EQ(Tail(TwoColumnKey(), o, true),
            " WHERE (`a` > 1 OR (`a` = 1 AND `b` > 2)) ORDER BY `a`, `b`");
  o.until = Position{Value(), {Value(int64_t{7}), Value(int64_t{8})}};
  EXPECT_EQ(Tail(TwoColumnKey(), o, true),
            " WHERE (`a` > 1 OR (`a` = 1 AND `b` > 2)) AND (`a` < 7 OR (`a` = 7 AND `b` <= 8)) "
            "ORDER BY `a`, `b`");
  o.after.reset();
  EXPECT_EQ(Tail(TwoColumnKey(), o, false), " WHERE (`a`, `b`) <= (7, 8) ORDER BY `a`, `b`");
}

TEST(OrderedReadTail, OneColumnAndACursorAloneStayAsTheyAre) {
  TableInfo t = TwoColumnKey();
  t.primary_key = {"a"};
  ReadOptions o;
  o.by_key = true;
  o.after = Position{Value(), {Value(int64_t{5})}};
  EXPECT_EQ(Tail(t, o, true), " WHERE (`a`) > (5) ORDER BY `a`");
  ReadOptions inc;
  inc.incremental = true;
  t.cursor_column = "v";
  inc.after = Position{Value(int64_t{9}), {}};
  EXPECT_EQ(Tail(t, inc, true), " WHERE `v` > 9 ORDER BY `v`, `a`");
}

}  // namespace
}  // namespace di
