// YAML mapping files: which files are YAML, YAML read into the JSON it stands for (scalar types,
// anchors), and the errors only YAML has, each naming the file, line and column.
#include <gtest/gtest.h>

#include <cmath>

#include "pipeline/mapping.h"
#include "pipeline/mapping_yaml.h"

namespace di {
namespace {

using OJ = nlohmann::ordered_json;

OJ Converted(const std::string& yaml) {
  auto j = YamlToJson(yaml, "m.yaml");
  EXPECT_TRUE(j.ok()) << j.status().message();
  return j.ok() ? *j : OJ();
}

// The message ParseMapping refuses a YAML document with.
std::string Refusal(const std::string& yaml) {
  auto m = ParseMapping(yaml, "m.yaml", MappingFormat::kYaml);
  EXPECT_FALSE(m.ok()) << yaml;
  return m.ok() ? "" : m.status().message();
}

TEST(MappingYaml, TheFileNameSaysTheFormat) {
  EXPECT_EQ(MappingFormatOf("/etc/di/mapping.yaml"), MappingFormat::kYaml);
  EXPECT_EQ(MappingFormatOf("mapping.yml"), MappingFormat::kYaml);
  EXPECT_EQ(MappingFormatOf("MAPPING.YML"), MappingFormat::kYaml);
  EXPECT_EQ(MappingFormatOf("mapping.json"), MappingFormat::kJson);
  EXPECT_EQ(MappingFormatOf("mapping"), MappingFormat::kJson);
  EXPECT_EQ(MappingFormatOf("conf.yaml/mapping.json"), MappingFormat::kJson);
  // A file read as JSON that is not JSON says how to have it read as YAML.
  auto m = ParseMapping("tables:\n  - source: mysql\n", "MAPPING_FILE mapping.conf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("MAPPING_FILE mapping.conf is not valid JSON: "),
            std::string::npos);
  EXPECT_NE(m.status().message().find("(a YAML file must end in .yaml or .yml)"),
            std::string::npos);
}

TEST(MappingYaml, ScalarsFollowTheCoreSchema) {
  OJ got = Converted(
      "quoted: \"123\"\nsingle: 'true'\nnumber: 123\nnegative: -7\nhex: 0x1F\noctal: 0o17\n"
      "float: 1.5e3\nyes: yes\n'on': on\nn: n\nbool: true\nBool: False\nnull_word: null\n"
      "tilde: ~\nempty:\ntagged: !!str 5\nblock: |\n  two\n  lines\ndate: 2024-01-02\n"
      "version: 1.2.3\n0x1F: hex key\n");
  EXPECT_EQ(got, OJ::parse(R"({"quoted": "123", "single": "true", "number": 123, "negative": -7,
      "hex": 31, "octal": 15, "float": 1500.0, "yes": "yes", "on": "on", "n": "n", "bool": true,
      "Bool": false, "null_word": null, "tilde": null, "empty": null, "tagged": "5",
      "block": "two\nlines\n", "date": "2024-01-02", "version": "1.2.3", "0x1F": "hex key"})"));
  EXPECT_TRUE(got["number"].is_number_integer());
  EXPECT_TRUE(got["float"].is_number_float());
  OJ edge = Converted(
      "big: 123456789012345678901234\ninf: -.inf\nnan: .NaN\nmin: -9223372036854775808\n");
  EXPECT_TRUE(edge["big"].is_number_float());
  EXPECT_DOUBLE_EQ(edge["big"].get<double>(), 123456789012345678901234.0);
  EXPECT_TRUE(std::isinf(edge["inf"].get<double>()) && edge["inf"].get<double>() < 0);
  EXPECT_TRUE(std::isnan(edge["nan"].get<double>()));
  EXPECT_EQ(edge["min"].get<int64_t>(), INT64_MIN);
  // In a mapping: a quoted number is a table name, an unquoted one is refused.
  auto m =
      ParseMapping("tables:\n  - {source: mysql, table: \"123\"}\n", "m", MappingFormat::kYaml);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ((*m)[0].table, "123");
}

TEST(MappingYaml, AliasesStandForTheirAnchors) {
  EXPECT_EQ(Converted("a: &m {x: 1, y: [b]}\nb: *m\n"),
            OJ::parse(R"({"a": {"x": 1, "y": ["b"]}, "b": {"x": 1, "y": ["b"]}})"));
  EXPECT_EQ(Converted(""), OJ());  // an empty file: null
}

TEST(MappingYaml, ASyntaxErrorNamesTheFileLineAndColumn) {
  EXPECT_EQ(Refusal("tables:\n  - source: mysql\n    table: [t\n"),
            "m.yaml is not valid YAML: line 4, column 1: end of sequence flow not found");
  EXPECT_EQ(Refusal("tables:\n  - source: mysql\n    table: t: u\n"),
            "m.yaml is not valid YAML: line 3, column 13: illegal map value");
}

TEST(MappingYaml, AKeyGivenTwiceIsRefusedByName) {
  EXPECT_EQ(Refusal("tables:\n  - source: mysql\n    table: t\n    table: u\n"),
            "m.yaml: line 4, column 5: key 'table' given twice (first on line 3)");
  EXPECT_EQ(Refusal("tables: []\n\"tables\": []\n"),
            "m.yaml: line 2, column 1: key 'tables' given twice (first on line 1)");
}

TEST(MappingYaml, ATopLevelThatIsNotAMappingIsRefusedAsInJson) {
  auto json = ParseMapping("[\"tables\"]", "m.yaml");
  ASSERT_FALSE(json.ok());
  for (const char* doc : {"- tables\n", "tables\n", "", "# only a comment\n"})
    EXPECT_EQ(Refusal(doc), json.status().message()) << doc;
}

TEST(MappingYaml, WhatJsonCannotSayIsRefused) {
  EXPECT_EQ(Refusal("? [a, b]\n: 1\n"),
            "m.yaml: line 1, column 3: a key must be a name, not a list, a mapping or null");
  EXPECT_EQ(Refusal("tables:\n  - source: mysql\n    table: !!int 5\n"),
            "m.yaml: line 3, column 12: tag !!int is not supported; write the value without it");
  EXPECT_EQ(Refusal("tables: !custom []\n"),
            "m.yaml: line 1, column 9: tag !custom is not supported; write the value without it");
  EXPECT_EQ(Refusal("tables: []\n---\ntables: []\n"),
            "m.yaml: line 3, column 1: a second YAML document; the file must hold one");
  EXPECT_EQ(Refusal("tables: 0x10000000000000000\n"),
            "m.yaml: line 1, column 9: integer 0x10000000000000000 exceeds 64 bits");
  EXPECT_NE(Refusal("tables: &t [*t]\n").find("m.yaml: line 1, column 9: nested more than 64 deep"),
            std::string::npos);
}

TEST(MappingYaml, AliasesCannotExpandWithoutEnd) {
  std::string doc = "a: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 6; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 1; k < 10; ++k) doc += ", " + prev;
    doc += "]\n";
  }
  EXPECT_NE(Refusal(doc).find("more than 100000 values once aliases are expanded"),
            std::string::npos);
}

// Found by fuzz/mapping_yaml.cpp: yaml-cpp 0.7's LoadAll never returned on a token no value can
// start with (it gave an empty document at it again and again, taking memory all the while).
TEST(MappingYaml, ATokenNoValueCanStartWithIsRefusedNotLoopedOn) {
  EXPECT_EQ(Refusal(",ata"),
            "m.yaml is not valid YAML: line 1, column 1: no value can start with ','");
  EXPECT_EQ(Refusal("\n  ,\n"),
            "m.yaml is not valid YAML: line 2, column 3: no value can start with ','");
}

}  // namespace
}  // namespace di
