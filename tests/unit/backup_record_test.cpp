// Backup records split into fields without a JSON tree (src/sinks/backup_record.h).
#include <gtest/gtest.h>

#include "sinks/backup_record.h"

namespace di {
namespace {

TEST(BackupRecord, SplitsEveryKindOfValueInOrder) {
  std::vector<RecordField> f;
  ASSERT_TRUE(SplitRecord(R"({"id":12,"name":"a\"b","ok":true,"no":false,"gone":null,"x":-1.5e3,)"
                          R"("tags":["a","]",[1]],"doc":{"k":"}","n":{}}, "sp" : "v" })",
                          &f));
  ASSERT_EQ(f.size(), 9u);
  EXPECT_EQ(f[0].key, "id");
  EXPECT_EQ(f[0].kind, RecordField::kNumber);
  EXPECT_EQ(f[0].value, "12");
  EXPECT_EQ(f[1].kind, RecordField::kString);
  EXPECT_EQ(f[1].value, R"(a\"b)");
  EXPECT_TRUE(f[1].value_escaped);
  EXPECT_EQ(f[2].kind, RecordField::kTrue);
  EXPECT_EQ(f[3].kind, RecordField::kFalse);
  EXPECT_EQ(f[4].kind, RecordField::kNull);
  EXPECT_EQ(f[5].value, "-1.5e3");
  EXPECT_EQ(f[6].kind, RecordField::kArray);
  EXPECT_EQ(f[6].value, R"(["a","]",[1]])");
  EXPECT_EQ(f[7].kind, RecordField::kObject);
  EXPECT_EQ(f[7].value, R"({"k":"}","n":{}})");
  EXPECT_EQ(f[8].key, "sp");
  EXPECT_EQ(f[8].value, "v");
  EXPECT_FALSE(f[8].value_escaped);
  ASSERT_TRUE(SplitRecord("{}", &f));
  EXPECT_TRUE(f.empty());
}

TEST(BackupRecord, RefusesWhatIsNotOneObject) {
  std::vector<RecordField> f;
  for (const char* bad :
       {"", "[1]", "{", R"({"a":1)", R"({"a":1,})", R"({"a" 1})", R"({"a":nul})", R"({"a":"x)",
        R"({"a":1} x)", R"({"a":[1})", "{\"a\":\"tab\there\"}", R"({a:1})"})
    EXPECT_FALSE(SplitRecord(bad, &f)) << bad;
}

TEST(BackupRecord, SplitsArraysIntoTheirElements) {
  std::vector<RecordField> e;
  ASSERT_TRUE(SplitArray(R"([1, "a,b", null, [2, [3]], true, {"k": [4]}])", &e));
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].value, "1");
  EXPECT_EQ(e[1].kind, RecordField::kString);
  EXPECT_EQ(e[1].value, "a,b");
  EXPECT_EQ(e[2].kind, RecordField::kNull);
  EXPECT_EQ(e[3].kind, RecordField::kArray);
  EXPECT_EQ(e[3].value, "[2, [3]]");
  EXPECT_EQ(e[4].kind, RecordField::kTrue);
  EXPECT_EQ(e[5].kind, RecordField::kObject);
  ASSERT_TRUE(SplitArray("[]", &e));
  EXPECT_TRUE(e.empty());
  for (const char* bad : {"[1,]", "[1", "{}", "[1] 2", R"(["a":1])"})
    EXPECT_FALSE(SplitArray(bad, &e)) << bad;
}

TEST(BackupRecord, UnescapesJsonStrings) {
  std::string out;
  ASSERT_TRUE(AppendUnescaped(R"(a\"\\\/\b\f\n\r\t\u00e9\u20ac\ud83d\ude00z)", out));
  EXPECT_EQ(out, "a\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
  for (const char* bad : {R"(\)", R"(\x)", R"(\u12)", R"(\ud83d)", R"(\ude00)", R"(\u12g4)"}) {
    out.clear();
    EXPECT_FALSE(AppendUnescaped(bad, out)) << bad;
  }
}

}  // namespace
}  // namespace di
