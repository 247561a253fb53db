#include "core/time_util.h"

#include <gtest/gtest.h>

#include "core/json_encode.h"
#include "core/value.h"

namespace di {
namespace {

int64_t Secs(int y, unsigned m, unsigned d, int hh, int mi, int ss) {
  return int64_t{DaysFromCivil(y, m, d)} * 86400 + hh * 3600 + mi * 60 + ss;
}

TEST(TimeZone, MadridAcrossDaylightSaving) {
  auto tz = TimeZone::Load("Europe/Madrid");
  ASSERT_TRUE(tz.ok()) << tz.status().ToString();
  // Winter: UTC+1; summer: UTC+2.
  EXPECT_EQ((*tz)->LocalToUtc(Secs(2025, 1, 15, 12, 0, 0)), Secs(2025, 1, 15, 11, 0, 0));
  EXPECT_EQ((*tz)->LocalToUtc(Secs(2025, 7, 15, 12, 0, 0)), Secs(2025, 7, 15, 10, 0, 0));
  // 2025-10-26 02:30 happens twice: the earlier instant (still summer time) wins.
  EXPECT_EQ((*tz)->LocalToUtc(Secs(2025, 10, 26, 2, 30, 0)), Secs(2025, 10, 26, 0, 30, 0));
  // 2025-03-30 02:30 does not exist: read with the offset before the gap.
  EXPECT_EQ((*tz)->LocalToUtc(Secs(2025, 3, 30, 2, 30, 0)), Secs(2025, 3, 30, 1, 30, 0));
  EXPECT_EQ((*tz)->OffsetAt(Secs(2025, 7, 1, 0, 0, 0)), 7200);
  EXPECT_EQ((*tz)->UtcMicrosToLocal(Secs(2025, 7, 15, 10, 0, 0) * 1000000 + 5),
            Secs(2025, 7, 15, 12, 0, 0) * 1000000 + 5);
  EXPECT_EQ((*tz)->LocalMicrosToUtc(Secs(1960, 1, 1, 0, 0, 0) * 1000000 + 250000),
            Secs(1959, 12, 31, 23, 0, 0) * 1000000 + 250000);
}

TEST(TimeZone, UtcAndUnknownZones) {
  auto utc = TimeZone::Load("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_TRUE((*utc)->is_utc());
  EXPECT_EQ((*utc)->LocalToUtc(12345), 12345);
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus").ok());
}

TEST(SqlTime, Parsing) {
  int32_t days;
  EXPECT_TRUE(ParseSqlDate("2025-01-31", &days));
  EXPECT_EQ(FormatDate(days), "2025-01-31");
  EXPECT_FALSE(ParseSqlDate("0000-00-00", &days));
  EXPECT_FALSE(ParseSqlDate("2025-13-01", &days));
  int64_t us;
  bool off;
  ASSERT_TRUE(ParseSqlTimestamp("2025-01-31 13:45:00.25", &us, &off));
  EXPECT_FALSE(off);
  EXPECT_EQ(FormatTimestamp(us), "2025-01-31T13:45:00.250000Z");
  ASSERT_TRUE(ParseSqlTimestamp("2025-01-31 13:45:00.123456+05:30", &us, &off));
  EXPECT_TRUE(off);
  EXPECT_EQ(FormatTimestamp(us), "2025-01-31T08:15:00.123456Z");
  ASSERT_TRUE(ParseSqlTimestamp("1901-12-13 20:45:52-00:14:44", &us, &off));  // LMT offsets
  EXPECT_EQ(FormatTimestamp(us), "1901-12-13T21:00:36.000000Z");
  EXPECT_FALSE(ParseSqlTimestamp("2025-01-31", &us, &off));
  EXPECT_FALSE(ParseSqlTimestamp("2025-01-31 13:45:00 BC", &us, &off));
  ASSERT_TRUE(ParseSqlTime("-838:59:59.5", &us));
  EXPECT_EQ(us, -((838LL * 3600 + 59 * 60 + 59) * 1000000 + 500000));
}

// The formatters write digits by hand (no printf): every edge of the fixed-width fields.
TEST(SqlTime, FormattingEdges) {
  EXPECT_EQ(FormatDate(DaysFromCivil(1, 1, 1)), "0001-01-01");
  EXPECT_EQ(FormatDate(DaysFromCivil(0, 2, 29)), "0000-02-29");
  EXPECT_EQ(FormatDate(DaysFromCivil(-1, 12, 31)), "-0001-12-31");
  EXPECT_EQ(FormatDate(DaysFromCivil(-12345, 6, 7)), "-12345-06-07");
  EXPECT_EQ(FormatDate(DaysFromCivil(9999, 12, 31)), "9999-12-31");
  EXPECT_EQ(FormatDate(DaysFromCivil(10000, 1, 1)), "+10000-01-01");
  EXPECT_EQ(FormatTime(0), "00:00:00.000000");
  EXPECT_EQ(FormatTime(((838LL * 3600 + 59 * 60 + 59) * 1000000) + 7), "838:59:59.000007");
  EXPECT_EQ(FormatTime(-((12LL * 3600 + 5) * 1000000 + 999999)), "-12:00:05.999999");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(int64_t{DaysFromCivil(9999, 12, 31)} * 86400000000LL + 86399999999LL),
            "9999-12-31T23:59:59.999999Z");
  std::string out = "x";
  AppendTimestamp(1000001, out);
  AppendDate(0, out);
  EXPECT_EQ(out, "x1970-01-01T00:00:01.000001Z1970-01-01");
}

// The copying fast path takes only text the parsing path reads to the same record: a real
// calendar date, hours to 23, seconds to 59, at most six fraction digits.
TEST(TimeUtil, UtcTimestampTextIsCopiedOnlyWhereParsingWouldGiveTheSame) {
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_TRUE(IsIsoDate("0001-01-01"));
  EXPECT_TRUE(IsIsoDate("9999-12-31"));
  for (const char* bad : {"2023-02-29", "1900-02-29", "0000-00-00", "0000-01-01", "2025-13-01",
                          "2025-04-31", "2025-1-01", "2025-01-01 "})
    EXPECT_FALSE(IsIsoDate(bad)) << bad;
  auto copied = [](std::string_view s, bool naive_is_utc) {
    std::string out = "x";
    if (!AppendUtcTimestampText(s, naive_is_utc, out)) return out == "x" ? std::string("-") : out;
    return out.substr(1);
  };
  EXPECT_EQ(copied("2025-01-31 13:45:00.25", true), "\"2025-01-31T13:45:00.250000Z\"");
  EXPECT_EQ(copied("2025-01-31 13:45:00+00", false), "\"2025-01-31T13:45:00.000000Z\"");
  EXPECT_EQ(copied("2000-02-29 23:59:59.999999+00", false), "\"2000-02-29T23:59:59.999999Z\"");
  for (const char* bad :
       {"2025-01-31 13:45:00", "2025-01-31 24:00:00+00", "2025-01-31 12:60:00+00",
        "2025-01-31 12:00:60+00", "2025-01-31 12:00:00.+00", "2025-01-31 12:00:00.1234567+00",
        "2025-02-30 12:00:00+00", "0000-00-00 00:00:00+00", "2025-01-31T12:00:00+00",
        "2025-01-31 12:00:00+01", "infinity"})
    EXPECT_EQ(copied(bad, false), "-") << bad;
  // The parsing path reads the accepted ones to the same instant.
  int64_t micros;
  bool has_offset;
  ASSERT_TRUE(ParseSqlTimestamp("2000-02-29 23:59:59.999999", &micros, &has_offset));
  EXPECT_EQ("\"" + FormatTimestamp(micros) + "\"", copied("2000-02-29 23:59:59.999999", true));
}

}  // namespace
}  // namespace di
