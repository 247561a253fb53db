// DynamoDbClient against the stack's moto, with boto3 as the independent reader.
#include <gtest/gtest.h>

#include <map>

#include "aws/dynamodb_client.h"
#include "aws/fault_transport.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using aws::DynamoDbClient;
using aws::Json;

aws::TableSpec TestTable(const std::string& name) {
  return {
      name,
      {"reservation_id", "N"},
      std::nullopt,
      {aws::IndexSpec{"user_id-index", {"user_id", "N"}, aws::KeyAttribute{"created_at", "S"}}}};
}

Json Item(int id) {
  return {{"reservation_id", {{"N", std::to_string(id)}}},
          {"user_id", {{"N", std::to_string(id % 3)}}},
          {"created_at", {{"S", "2026-01-01T00:00:" + std::to_string(10 + id % 50) + ".000000Z"}}},
          {"total", {{"N", "12345678901234567890.12"}}},
          {"title", {{"S", "Ñandú 🎬 " + std::to_string(id)}}},
          {"poster", {{"B", "AAEC/w=="}}},
          {"paid", {{"BOOL", id % 2 == 0}}},
          {"notes", {{"NULL", true}}},
          {"seats", {{"L", Json::array({{{"M", {{"label", {{"S", "A1"}}}}}}})}}}};
}

class DynamoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fault_ = std::make_shared<aws::FaultTransport>(aws::MakeCurlTransport());
    client_ = std::make_shared<aws::AwsClient>(StackService("dynamodb"), fault_);
    ddb_ = std::make_unique<DynamoDbClient>(client_);
    table_ = UniqueName("di-ddb-test");
    auto made = ddb_->CreateTable(TestTable(table_));
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ASSERT_TRUE(*made);
    ASSERT_TRUE(ddb_->WaitUntilActive(table_, std::chrono::seconds(30)).ok());
  }
  void TearDown() override { (void)ddb_->DeleteTable(table_); }

  std::shared_ptr<aws::FaultTransport> fault_;
  std::shared_ptr<aws::AwsClient> client_;
  std::unique_ptr<DynamoDbClient> ddb_;
  std::string table_;
};

TEST_F(DynamoTest, CreateTableIsIdempotentAndHasItsIndex) {
  auto again = ddb_->CreateTable(TestTable(table_));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(*again);
  auto t = ddb_->DescribeTable(table_);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["TableStatus"], "ACTIVE");
  EXPECT_EQ((*t)["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST");
  EXPECT_EQ((*t)["GlobalSecondaryIndexes"][0]["IndexName"], "user_id-index");
}

TEST_F(DynamoTest, ListTablesFollowsPagination) {
  std::string second = UniqueName("di-ddb-test");
  ASSERT_TRUE(ddb_->CreateTable(TestTable(second)).ok());
  auto names = ddb_->ListTables(1);  // one name per page
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_NE(std::find(names->begin(), names->end(), table_), names->end());
  EXPECT_NE(std::find(names->begin(), names->end(), second), names->end());
  ASSERT_TRUE(ddb_->DeleteTable(second).ok());
}

TEST_F(DynamoTest, PutItemReadsBackEqualThroughBoto3) {
  Json item = Item(7);
  ASSERT_TRUE(ddb_->PutItem(table_, item).ok());
  auto got = ddb_->GetItem(table_, {{"reservation_id", {{"N", "7"}}}});
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, item);
  const Config& c = StackConfig();
  std::string script =
      "import boto3, json, base64, sys\n"
      "c = boto3.client('dynamodb', endpoint_url='" +
      c.aws.endpoint_url + "', region_name='" + c.aws.region + "', aws_access_key_id='" +
      c.aws.access_key_id + "', aws_secret_access_key='" + c.aws.secret_access_key +
      "')\n"
      "it = c.get_item(TableName='" +
      table_ +
      "', Key={'reservation_id': {'N': '7'}})['Item']\n"
      "def enc(v):\n"
      "  if isinstance(v, bytes): return base64.b64encode(v).decode()\n"
      "  if isinstance(v, dict): return {k: enc(x) for k, x in v.items()}\n"
      "  if isinstance(v, list): return [enc(x) for x in v]\n"
      "  return v\n"
      "print(json.dumps(enc(it)))\n";
  std::string out;
  ASSERT_EQ(RunCommand(VenvPython() + " -c \"$(cat <<'PY'\n" + script + "PY\n)\"", &out), 0) << out;
  EXPECT_EQ(Json::parse(out), item) << out;
  auto none = ddb_->GetItem(table_, {{"reservation_id", {{"N", "999"}}}});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(DynamoTest, BatchWriteScanAndQueryOnTheIndex) {
  std::vector<aws::WriteRequest> writes;
  for (int i = 1; i <= 60; ++i) writes.push_back({Item(i), nullptr});
  auto r = ddb_->BatchWrite(table_, writes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->written, 60u);
  EXPECT_TRUE(r->unprocessed.empty());
  size_t scanned = 0;
  int pages = 0;
  Json start = nullptr;
  do {
    auto page = ddb_->Scan(table_, 25, start);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    scanned += page->items.size();
    start = page->last_evaluated_key;
    ++pages;
  } while (!start.is_null());
  EXPECT_EQ(scanned, 60u);
  EXPECT_GE(pages, 3);
  auto q = ddb_->Query(table_, {{"IndexName", "user_id-index"},
                                {"KeyConditionExpression", "user_id = :u"},
                                {"ExpressionAttributeValues", {{":u", {{"N", "1"}}}}}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->items.size(), 20u);  // ids 1, 4, ..., 58
  for (const auto& it : q->items) EXPECT_EQ(it["user_id"]["N"], "1");
}

// DynamoDB answers a busy BatchWriteItem with the items it did not write in
// UnprocessedItems. The fault transport plays that part: it forwards only the first half of
// a batch to moto and answers with the rest as unprocessed; the client must resend them.
TEST_F(DynamoTest, UnprocessedItemsAreResentUntilWritten) {
  auto inner = aws::MakeCurlTransport();
  int partial_answers = 0;
  fault_->AddRule(
      [&](const aws::HttpRequest& req, Result<aws::HttpResponse>* out) {
        if (!aws::FaultTransport::IsTarget(req, "BatchWriteItem")) return false;
        Json body = Json::parse(req.body);
        Json& items = body["RequestItems"][table_];
        if (items.size() < 2) return false;
        Json rest = Json::array();
        size_t keep = items.size() / 2;
        for (size_t i = keep; i < items.size(); ++i) rest.push_back(items[i]);
        items.erase(items.begin() + static_cast<long>(keep), items.end());
        // Forward the first half for real, re-signed by a plain client.
        aws::DynamoDbClient real(std::make_shared<aws::AwsClient>(StackService("dynamodb"), inner));
        auto sent = real.Call("BatchWriteItem", body, table_);
        if (!sent.ok()) return false;
        aws::HttpResponse resp;
        resp.status = 200;
        resp.body = Json{{"UnprocessedItems", {{table_, rest}}}}.dump();
        *out = resp;
        ++partial_answers;
        return true;
      },
      3);
  std::vector<aws::WriteRequest> writes;
  for (int i = 1; i <= 25; ++i) writes.push_back({Item(i), nullptr});
  auto r = ddb_->BatchWrite(table_, writes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(partial_answers, 3);
  EXPECT_EQ(r->resends, 3);
  EXPECT_EQ(r->written, 25u);
  EXPECT_TRUE(r->unprocessed.empty());
  auto page = ddb_->Scan(table_, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 25u);  // all there, none twice (keys are unique)
}

TEST_F(DynamoTest, UnprocessedItemsLeftAfterTheAttemptsAreReported) {
  fault_->AddRule([&](const aws::HttpRequest& req, Result<aws::HttpResponse>* out) {
    if (!aws::FaultTransport::IsTarget(req, "BatchWriteItem")) return false;
    Json body = Json::parse(req.body);
    aws::HttpResponse resp;
    resp.status = 200;
    resp.body = Json{{"UnprocessedItems", body["RequestItems"]}}.dump();
    *out = resp;
    return true;
  });
  std::vector<aws::WriteRequest> writes;
  for (int i = 1; i <= 5; ++i) writes.push_back({Item(i), nullptr});
  auto r = ddb_->BatchWrite(table_, writes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->written, 0u);
  EXPECT_EQ(r->unprocessed.size(), 5u);
  EXPECT_EQ(r->resends, client_->options().retry.max_attempts - 1);
}

// Items DynamoDB refuses for what they hold — a key of the wrong type, an item over 400 KB,
// an empty index key, a number out of range, a number that is not one — each refuse the
// whole request they are in: they are rejected with DynamoDB's reason, by their index, and
// every other item is written.
TEST_F(DynamoTest, ItemsDynamoDbRefusesAreRejectedAndTheRestWritten) {
  std::map<size_t, std::string> bad;  // index -> what DynamoDB says
  std::vector<aws::WriteRequest> writes;
  for (int i = 1; i <= 60; ++i) {
    Json item = Item(i);
    const size_t index = static_cast<size_t>(i - 1);
    if (i == 7) item["reservation_id"] = {{"S", "seven"}}, bad[index] = "Type mismatch";
    if (i == 20) item["blob"] = {{"S", std::string(420 * 1024, 'x')}}, bad[index] = "size";
    if (i == 33) item["created_at"] = {{"S", ""}}, bad[index] = "IndexKey: created_at";
    if (i == 45) item["total"] = {{"N", "1e200"}}, bad[index] = "Number overflow";
    if (i == 46) item["total"] = {{"N", "twelve"}}, bad[index] = "numeric value: twelve";
    writes.push_back({item, nullptr});
  }
  auto r = ddb_->BatchWrite(table_, writes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->written, 55u);
  EXPECT_TRUE(r->unprocessed.empty());
  ASSERT_EQ(r->rejected.size(), bad.size());
  for (const auto& x : r->rejected) {
    ASSERT_TRUE(bad.count(x.index)) << x.index << ": " << x.reason;
    EXPECT_NE(x.reason.find("ValidationException"), std::string::npos) << x.reason;
    EXPECT_NE(x.reason.find(bad[x.index]), std::string::npos) << x.reason;
  }
  auto page = ddb_->Scan(table_, 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 55u);
}

TEST_F(DynamoTest, MissingTableSaysToRunSetup) {
  std::string missing = UniqueName("di-missing");
  Status s = ddb_->PutItem(missing, Item(1));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("ResourceNotFoundException"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("--mode setup"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace di::testing
