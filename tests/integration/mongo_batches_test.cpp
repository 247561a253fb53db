// MongoDB reads in batches and pages on the stack's FerretDB: a batch ends once past its
// bytes (large documents), and ordered pages go on past documents that lack the cursor field.
#include <gtest/gtest.h>

#include <mongoc/mongoc.h>

#include <string>
#include <vector>

#include "core/json_encode.h"
#include "sources/mongo_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

// A scratch collection in a database of its own (the cinema one keeps its two collections),
// dropped before and after; and the _ids a reader gives, batch by batch.
class MongoScratchCollection {
 public:
  explicit MongoScratchCollection(const char* name) {
    settings_.database = "di_source_scratch_test";
    client_ = mongoc_client_new(settings_.uri.c_str());
    coll_ = mongoc_client_get_collection(client_, settings_.database.c_str(), name);
    bson_error_t e;
    mongoc_collection_drop(coll_, &e);
  }
  ~MongoScratchCollection() {
    bson_error_t e;
    mongoc_collection_drop(coll_, &e);
    mongoc_collection_destroy(coll_);
    mongoc_client_destroy(client_);
  }
  void Insert(bson_t* doc) {  // takes the document
    bson_error_t e;
    EXPECT_TRUE(mongoc_collection_insert_one(coll_, doc, nullptr, nullptr, &e)) << e.message;
    bson_destroy(doc);
  }
  const MongoSettings& settings() const { return settings_; }

 private:
  MongoSettings settings_ = StackConfig().mongo;
  mongoc_client_t* client_;
  mongoc_collection_t* coll_;
};

std::vector<std::vector<std::string>> BatchIds(RowReader& reader) {
  std::vector<std::vector<std::string>> batches;
  RecordBatch b;
  while (true) {
    auto more = reader.Next(&b);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    batches.emplace_back();
    for (const auto& row : b.rows)
      batches.back().push_back(ToJson(*row[0].as<Document>().Find("_id"), JsonStyle::kPlain));
  }
  return batches;
}

// Large documents: a batch also ends past 256 KiB of BSON (documents run to 16 MB each, so
// BATCH_SIZE alone does not bound memory); read whole and paged (incremental) alike, every
// document comes once and in order.
TEST(Sources, MongoBatchesOfLargeDocumentsEndPastTheirBytes) {
  MongoScratchCollection coll("big_docs");
  const std::string pad(100 * 1000, 'x');
  for (int id = 1; id <= 24; ++id)
    coll.Insert(BCON_NEW("_id", BCON_INT32(id), "pad", BCON_UTF8(pad.c_str())));
  auto src = OpenMongoSource(coll.settings());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto info = (*src)->Describe("big_docs");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  for (bool incremental : {false, true}) {
    SCOPED_TRACE(incremental ? "paged" : "whole");
    auto reader = (*src)->Read(*info, {1000, std::nullopt, incremental});
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<std::string> ids, want;
    auto batches = BatchIds(**reader);
    for (const auto& batch : batches) {
      EXPECT_LE(batch.size(), 3u);  // ~100 KB each: the third goes past 256 KiB
      ids.insert(ids.end(), batch.begin(), batch.end());
    }
    for (int id = 1; id <= 24; ++id) want.push_back(std::to_string(id));
    EXPECT_EQ(ids, want);
    EXPECT_EQ(batches.size(), 8u);
  }
}

// Paged by the change-tracking field, documents without it (or with null) sort first: the
// pages past them must go on to the rest (a filter {$gt: null} matches nothing, which lost
// every later document when a page ended on such a document).
TEST(Sources, MongoPagesGoOnPastDocumentsWithoutTheCursorField) {
  MongoScratchCollection coll("null_cursor");
  for (int id = 1; id <= 10; ++id)
    coll.Insert(id % 2 == 0 ? BCON_NEW("_id", BCON_INT32(id), "updated_at",
                                       BCON_DATE_TIME(1735689600000LL + id * 1000))
                : id == 9   ? BCON_NEW("_id", BCON_INT32(id), "updated_at", BCON_NULL)
                            : BCON_NEW("_id", BCON_INT32(id)));
  auto src = OpenMongoSource(coll.settings());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto info = (*src)->Describe("null_cursor");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  info->cursor_column = "updated_at";
  auto reader = (*src)->Read(*info, {2, std::nullopt, true});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<std::string> ids;
  for (const auto& batch : BatchIds(**reader)) ids.insert(ids.end(), batch.begin(), batch.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "3", "5", "7", "9", "2", "4", "6", "8", "10"}));
}

}  // namespace
}  // namespace di::testing
