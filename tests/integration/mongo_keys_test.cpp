// MongoDB `_id`s of any BSON type as DynamoDB keys, through the binary on the stack's FerretDB
// and moto: collections of numbers, strings, documents and a mix are set up (the key type
// inferred from the `_id`s), migrated (every key read back with the AWS CLI, of the expected
// type and value, and the S texts mapped back to the very `_id`s), verified clean, and backed
// up and restored with the same `_id`s and BSON types. A batch holding items that cannot be
// written (a key of another type, an item over 400 KB, one DynamoDB refuses) writes the rest
// and dead-letters each of those with its reason and key.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "sinks/dynamo_key.h"
#include "sources/mongo_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string MongoBase() {
  const std::string& uri = StackConfig().mongo.uri;
  return uri.substr(0, uri.rfind('/'));
}

// Each collection's documents (canonical Extended JSON) and the keys their items must have.
struct Collection {
  std::string name;
  std::vector<std::string> docs;
  std::string key_type;    // what setup must infer
  std::vector<json> keys;  // the items' key AttributeValues
};

std::vector<std::string> IdDocs(const std::vector<std::string>& ids) {
  std::vector<std::string> docs;
  for (size_t i = 0; i < ids.size(); ++i)
    docs.push_back("{\"_id\":" + ids[i] + ",\"n\":{\"$numberInt\":\"" + std::to_string(i) +
                   "\"},\"title\":\"doc " + std::to_string(i) + "\"}");
  return docs;
}

std::vector<Collection> Collections() {
  Collection ints{"int_ids", {}, "N", {}};
  std::vector<std::string> ids;
  for (int i = 1; i <= 20; ++i) {
    ids.push_back("{\"$numberInt\":\"" + std::to_string(i) + "\"}");
    ints.keys.push_back({{"N", std::to_string(i)}});
  }
  for (const auto& [id, n] : std::vector<std::pair<std::string, std::string>>{
           {"{\"$numberLong\":\"9007199254740993\"}", "9007199254740993"},
           {"{\"$numberDouble\":\"2.5\"}", "2.5"},
           {"{\"$numberDouble\":\"-7.0\"}", "-7"}}) {  // (FerretDB has no decimal128)
    ids.push_back(id);
    ints.keys.push_back({{"N", n}});
  }
  ints.docs = IdDocs(ids);

  Collection strings{"string_ids",
                     IdDocs({"\"a\"", "\"movie-17\"", "\"\"", "\"65a1b2c3d4e5f60718293a4b\"",
                             "\"{brace\"", "\"true\"", "\"Ñandú 🎬\"", "\"5\""}),
                     "S",
                     {}};
  for (const char* s : {"a", "movie-17", "\"\"", "\"65a1b2c3d4e5f60718293a4b\"", "\"{brace\"",
                        "\"true\"", "Ñandú 🎬", "5"})
    strings.keys.push_back({{"S", s}});

  Collection docs{"document_ids",
                  IdDocs({"{\"a\":{\"$numberInt\":\"1\"},\"b\":\"x\"}",
                          "{\"b\":\"x\",\"a\":{\"$numberInt\":\"1\"}}",
                          "{\"n\":{\"m\":[{\"$numberInt\":\"1\"},\"y\"]}}",
                          "{\"when\":{\"$date\":{\"$numberLong\":\"1735689600000\"}}}"}),
                  "S",
                  {}};
  for (const char* s :
       {"{\"a\":{\"$numberInt\":\"1\"},\"b\":\"x\"}", "{\"b\":\"x\",\"a\":{\"$numberInt\":\"1\"}}",
        "{\"n\":{\"m\":[{\"$numberInt\":\"1\"},\"y\"]}}",
        "{\"when\":{\"$date\":{\"$numberLong\":\"1735689600000\"}}}"})
    docs.keys.push_back({{"S", s}});

  // (FerretDB takes an ObjectId and a string of its hex for one _id: not both here.)
  Collection mixed{
      "mixed_ids",
      IdDocs({"{\"$oid\":\"65a1b2c3d4e5f60718293a4b\"}", "{\"$numberInt\":\"5\"}", "\"5\"", "\"\"",
              "{\"$numberLong\":\"6\"}", "{\"$numberDouble\":\"5.5\"}", "{\"k\":\"v\"}",
              "{\"$date\":{\"$numberLong\":\"1735689600000\"}}",
              "{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"00\"}}", "true", "null",
              "{\"$timestamp\":{\"t\":7,\"i\":3}}"}),
      "S",
      {}};
  for (const char* s : {"65a1b2c3d4e5f60718293a4b", "{\"$numberInt\":\"5\"}", "5", "\"\"",
                        "{\"$numberLong\":\"6\"}", "{\"$numberDouble\":\"5.5\"}", "{\"k\":\"v\"}",
                        "{\"$date\":{\"$numberLong\":\"1735689600000\"}}",
                        "{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"00\"}}", "true", "null",
                        "{\"$timestamp\":{\"t\":7,\"i\":3}}"})
    mixed.keys.push_back({{"S", s}});

  Collection bins{"binary_ids",
                  IdDocs({"{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"00\"}}",
                          "{\"$binary\":{\"base64\":\"AwQF\",\"subType\":\"04\"}}"}),
                  "B",
                  {json{{"B", "AQI="}}, json{{"B", "AwQF"}}}};
  return {ints, strings, docs, mixed, bins};
}

class MongoKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = "di_keys_" + std::to_string(getpid()) + "_" + std::to_string(++counter_);
    dir_ = fs::temp_directory_path() / UniqueName("di-mongo-keys");
    fs::create_directories(dir_);
    mongoc_init();
    client_ = mongoc_client_new(MongoBase().c_str());
    Drop();
  }
  void TearDown() override {
    Drop();
    mongoc_client_destroy(client_);
    std::string out;
    for (const auto& t : tables_)
      RunCommand(AwsCli() + "dynamodb delete-table --table-name " + t, &out);
    fs::remove_all(dir_);
  }
  void Drop() {
    for (const std::string& db : {db_, db_ + "_restored"}) {
      mongoc_database_t* d = mongoc_client_get_database(client_, db.c_str());
      bson_error_t e;
      mongoc_database_drop(d, &e);
      mongoc_database_destroy(d);
    }
  }
  void Insert(const std::string& coll, const std::vector<std::string>& docs) {
    mongoc_collection_t* c = mongoc_client_get_collection(client_, db_.c_str(), coll.c_str());
    for (const auto& d : docs) {
      bson_error_t e;
      bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(d.data()),
                                     static_cast<ssize_t>(d.size()), &e);
      ASSERT_TRUE(b) << d << ": " << e.message;
      EXPECT_TRUE(mongoc_collection_insert_one(c, b, nullptr, nullptr, &e))
          << coll << " " << d << ": " << e.message;
      bson_destroy(b);
    }
    mongoc_collection_destroy(c);
  }
  // A mapping entry: the collection into table "<collection>-<suffix>" keyed `id`.
  std::string Entry(const std::string& coll, const std::string& extra = "") {
    tables_.push_back(Table(coll));
    return R"({"source": "mongodb", "database": ")" + db_ + R"(", "table": ")" + coll +
           R"(", "dynamodb": {"table": ")" + Table(coll) + R"(", "key": {"id": "_id"})" + extra +
           "}}";
  }
  std::string Table(const std::string& coll) const { return coll + "-" + s_; }
  std::string WriteMapping(const std::vector<std::string>& entries, const std::string& name) {
    std::string text = "{\"tables\": [";
    for (size_t i = 0; i < entries.size(); ++i) text += (i ? ",\n" : "\n") + entries[i];
    text += "]}";
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string Env(const std::string& mapping) const {
    return StackEnvShell() + "export MAPPING_FILE=" + mapping + " S3_BUCKET_NAME=file://" +
           (dir_ / "store").string() + " DYNAMODB_STATE_TABLE=state-" + s_ +
           " MONGODB_URI=" + MongoBase() + "/" + db_ + " && ";
  }
  std::string Run(const std::string& mapping, const std::string& args, int want) {
    std::string out;
    EXPECT_EQ(RunCommand(Env(mapping) + DI_BINARY + " " + args, &out), want) << args << "\n" << out;
    return out;
  }
  json Items(const std::string& table) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb scan --table-name " + table, &out), 0) << out;
    return json::parse(out, nullptr, false)["Items"];
  }
  std::string KeyType(const std::string& table) {
    std::string out;
    EXPECT_EQ(RunCommand(AwsCli() + "dynamodb describe-table --table-name " + table, &out), 0);
    json t = json::parse(out, nullptr, false)["Table"];
    for (const auto& a : t["AttributeDefinitions"])
      if (a["AttributeName"] == "id") return a["AttributeType"];
    return "?";
  }
  // The dead letters of the one migrate run, every line of every object.
  std::vector<json> DeadLetters() {
    std::vector<json> letters;
    fs::path root = dir_ / "store" / "analytics" / "dead_letters";
    if (!fs::exists(root)) return letters;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path());
      for (std::string line; std::getline(in, line);) letters.push_back(json::parse(line));
    }
    return letters;
  }

  std::string db_;
  fs::path dir_;
  std::string s_ = UniqueName("keys");
  mongoc_client_t* client_ = nullptr;
  std::vector<std::string> tables_;
  static inline int counter_ = 0;
};

// The value a document's `_id` is, as the source reads it.
Value IdOf(const std::string& doc) {
  bson_error_t e;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(doc.data()),
                                 static_cast<ssize_t>(doc.size()), &e);
  Value v = BsonToValue(b);
  bson_destroy(b);
  return *v.as<Document>().Find("_id");
}

TEST_F(MongoKeysTest, KeysOfEveryTypeAreMigratedVerifiedAndRestored) {
  const auto collections = Collections();
  std::vector<std::string> entries;
  for (const auto& c : collections) {
    Insert(c.name, c.docs);
    entries.push_back(Entry(c.name));
  }
  const std::string mapping = WriteMapping(entries, "keys.json");
  std::string out = Run(mapping, "--mode setup", 0);
  EXPECT_NE(out.find("inferred       DynamoDB table " + Table("int_ids") +
                     " key id: N, from the types of mongodb.int_ids._id in 23 documents "
                     "(double 2, int 20, long 1)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(Table("mixed_ids") +
                     " key id: S, from the types of mongodb.mixed_ids._id in 12 documents "
                     "(binData 1, bool 1, date 1, double 1, int 1, long 1, null 1, object 1, "
                     "objectId 1, string 2, timestamp 1)"),
            std::string::npos)
      << out;
  for (const auto& c : collections) EXPECT_EQ(KeyType(Table(c.name)), c.key_type) << c.name;

  out = Run(mapping, "--mode migrate", 0);
  for (const auto& c : collections) {
    SCOPED_TRACE(c.name);
    EXPECT_NE(out.find("mongodb." + c.name + " -> " + Table(c.name) + ": " +
                       std::to_string(c.docs.size()) + " items written"),
              std::string::npos)
        << out;
    json items = Items(Table(c.name));
    std::multiset<std::string> got, want;
    for (const auto& it : items) got.insert(it["id"].dump());
    for (const auto& k : c.keys) want.insert(k.dump());
    EXPECT_EQ(got, want);
    // Each S text reads back as the very _id the document has; the other fields came too.
    std::map<std::string, std::string> doc_of_title;
    for (const auto& d : c.docs) doc_of_title[json::parse(d)["title"].get<std::string>()] = d;
    for (const auto& it : items) {
      const std::string& doc = doc_of_title[it["title"]["S"].get<std::string>()];
      EXPECT_FALSE(it.contains("_id")) << it.dump();
      if (!it["id"].contains("S")) continue;
      auto back = ParseMongoKeyText(it["id"]["S"].get<std::string>());
      ASSERT_TRUE(back.ok()) << back.status().message();
      EXPECT_EQ(*back, IdOf(doc)) << it["id"].dump() << " is not the _id of " << doc;
    }
  }

  out = Run(mapping, "--mode verify", 0);
  for (const auto& c : collections) {
    const std::string n = std::to_string(c.docs.size());
    EXPECT_NE(
        out.find("OK        mongodb." + c.name + ": source " + n + ", dynamodb " + n + ", backup "),
        std::string::npos)
        << out;
  }

  // Restored from the migrate's backup: the same _ids with their BSON types.
  for (const auto& c : collections) {
    Run(mapping,
        "--mode restore --source-db mongodb --table " + c.name + " --latest --target-url " +
            MongoBase() + "/" + db_ + "_restored",
        0);
    EXPECT_EQ(
        RunCommand(VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/compare_mongo.py " +
                       MongoBase() + " " + db_ + " " + db_ + "_restored " + c.name,
                   &out),
        0)
        << c.name << ": " << out;
    EXPECT_EQ(out, "equal " + std::to_string(c.docs.size()) + "\n") << c.name;
  }
}

// Three items that cannot be written among 41: a string key in the N table, an item over
// 400 KB (both found before sending) and an empty index key (which DynamoDB refuses,
// refusing the whole request of 23 items it is in): the other 38 are written, the three
// dead-lettered with their reasons and keys, the counts exact, and verify names them.
TEST_F(MongoKeysTest, ItemsThatCannotBeWrittenNeverFailTheRestOfTheirBatch) {
  std::vector<std::string> docs;
  const std::string pad(450 * 1024, 'x');
  for (int i = 1; i <= 40; ++i)
    docs.push_back("{\"_id\":{\"$numberInt\":\"" + std::to_string(i) + "\"},\"tag\":\"" +
                   (i == 23 ? std::string() : "t" + std::to_string(i % 3)) + "\"" +
                   (i == 17 ? ",\"pad\":\"" + pad + "\"" : std::string()) + "}");
  docs.push_back(R"({"_id":"oops","tag":"t1"})");
  Insert("bad_batch", docs);
  const std::string mapping = WriteMapping(
      {Entry("bad_batch",
             R"(, "key_type": "N", "indexes": [{"name": "tag-index", "hash": "tag"}])")},
      "bad.json");
  std::string out = Run(mapping, "--mode setup", 0);
  EXPECT_EQ(out.find("inferred"), std::string::npos) << out;  // the mapping gave it
  EXPECT_EQ(KeyType(Table("bad_batch")), "N");

  out = Run(mapping, "--mode migrate", 1);
  EXPECT_NE(out.find(": PARTIAL, "), std::string::npos) << out;
  EXPECT_NE(out.find("mongodb.bad_batch -> " + Table("bad_batch") +
                     ": 38 items written, 3 dead-lettered"),
            std::string::npos)
      << out;
  EXPECT_EQ(Items(Table("bad_batch")).size(), 38u);

  std::map<std::string, std::string> reasons;  // key -> reason
  for (const auto& l : DeadLetters()) {
    EXPECT_EQ(l["table"], "mongodb.bad_batch");
    reasons[l["key"].dump()] = l["reason"];
  }
  ASSERT_EQ(reasons.size(), 3u) << json(reasons).dump();
  EXPECT_NE(
      reasons["\"oops\""].find("the key is of type string, which the table's N key cannot hold"),
      std::string::npos)
      << reasons["\"oops\""];
  EXPECT_NE(reasons[R"({"$numberInt":"17"})"].find("over DynamoDB's 400 KB"), std::string::npos)
      << reasons[R"({"$numberInt":"17"})"];
  const std::string& refused = reasons[R"({"$numberInt":"23"})"];
  EXPECT_NE(refused.find("ValidationException"), std::string::npos) << refused;
  EXPECT_NE(refused.find("IndexKey: tag"), std::string::npos) << refused;

  // The report's counts add up: read = written + dead-lettered.
  json report;
  for (const auto& e : fs::directory_iterator(dir_ / "store" / "analytics" / "migration_reports"))
    report = json::parse(std::ifstream(e.path()));
  bool seen = false;
  for (const auto& t : report["tables"]) {
    if (t["kind"] != "dynamodb") continue;
    seen = true;
    EXPECT_EQ(t["rows"], 41);
    EXPECT_EQ(t["items_written"], 38);
    EXPECT_EQ(t["dead_lettered"], 3);
    EXPECT_EQ(t["failed_items"], 0);
  }
  EXPECT_TRUE(seen) << report.dump();

  out = Run(mapping, "--mode verify", 1);
  for (const char* key : {"missing in DynamoDB: 17", "missing in DynamoDB: 23",
                          "missing in DynamoDB: (not a key of the table) \"oops\""})
    EXPECT_NE(out.find(key), std::string::npos) << key << " in:\n" << out;
}

// A migrate killed in mid-read resumes after its last checkpoint's key — a number here — and
// still reads every later key of every other type (a query's $gt compares within one type:
// strings, documents and ObjectIds after a number were lost), and keeps checkpoints of
// document keys (stored as null before, which ended the resumed read at once).
TEST_F(MongoKeysTest, AKilledMigrateResumesPastKeysOfEveryType) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 60; ++i) {
    ids.push_back("{\"$numberInt\":\"" + std::to_string(i) + "\"}");
    ids.push_back("\"s" + std::to_string(100 + i) + "\"");
    ids.push_back("{\"d\":{\"$numberInt\":\"" + std::to_string(i) + "\"}}");
  }
  for (int i = 10; i <= 40; ++i)
    ids.push_back("{\"$oid\":\"65a1b2c3d4e5f60718293a" + std::to_string(i) + "\"}");
  Insert("resumed", IdDocs(ids));
  const std::string mapping = WriteMapping({Entry("resumed")}, "resumed.json");
  Run(mapping, "--mode setup", 0);
  // Killed after its 2nd checkpoint (batches of 20: within the numbers), then after the 5th
  // of the resumed run (among the documents), then run to the end.
  std::string out;
  for (const char* when : {"2", "5"})
    EXPECT_EQ(RunCommand(Env(mapping) + "BATCH_SIZE=20 DI_CRASH_AFTER_CHECKPOINTS=" + when + " " +
                             DI_BINARY + " --mode migrate",
                         &out),
              137)
        << out;
  EXPECT_EQ(RunCommand(Env(mapping) + "BATCH_SIZE=20 " + DI_BINARY + " --mode migrate", &out), 0)
      << out;
  const std::string n = std::to_string(ids.size());
  EXPECT_EQ(Items(Table("resumed")).size(), ids.size());
  out = Run(mapping, "--mode verify", 0);
  EXPECT_NE(out.find("OK        mongodb.resumed: source " + n + ", dynamodb " + n + ", backup "),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace di::testing
