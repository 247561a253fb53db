#include "config/dotenv.h"

#include <gtest/gtest.h>

namespace di {
namespace {

TEST(DotEnv, ParsesTheCommonForms) {
  auto r = ParseDotEnv(
      "# comment\n"
      "\n"
      "A=1\n"
      "export B = two words \n"
      "C='single # not a comment'\n"
      "D=\"line\\nnext \\\"q\\\"\"  # trailing comment\n"
      "E=value # comment\n"
      "F=\n"
      "G=a=b=c\n"
      "H=\"ñandú 🎬\"\n"
      "I=   # an empty value, then a comment\n"
      "J=a#b\n",
      ".env");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EnvPairs want = {{"A", "1"},
                   {"B", "two words"},
                   {"C", "single # not a comment"},
                   {"D", "line\nnext \"q\""},
                   {"E", "value"},
                   {"F", ""},
                   {"G", "a=b=c"},
                   {"H", "ñandú 🎬"},
                   {"I", ""},  // was "# an empty value, then a comment"
                   {"J", "a#b"}};
  EXPECT_EQ(*r, want);
}

struct BadCase {
  const char* text;
  const char* want;
};

TEST(DotEnv, ErrorsNameTheLineAndTheProblem) {
  const BadCase cases[] = {
      {"A=1\nNOEQUALS\n", "line 2 of test.env: expected NAME=value"},
      {"1A=x\n", "line 1 of test.env: a variable name must start with a letter or '_'"},
      {"A-B=x\n", "line 1 of test.env: 'A-B' is not a valid variable name"},
      {"A='open\n", "line 1 of test.env: unterminated single quote in A"},
      {"A=\"open\n", "line 1 of test.env: unterminated double quote in A"},
      {"A=\"x\" junk\n", "line 1 of test.env: unexpected text after the quoted value of A"},
  };
  for (const auto& c : cases) {
    auto r = ParseDotEnv(c.text, "test.env");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.want) << c.text;
  }
}

}  // namespace
}  // namespace di
