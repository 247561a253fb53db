// The S3 and DynamoDB clients (aws/s3_client.h, aws/dynamodb_client.h) given answers no real
// service gives — of other types, malformed, or paging without end — each found by the fuzz
// targets fuzz/s3_xml and fuzz/dynamodb_json. Every one must end in a Status naming the call,
// never in an exception or an endless listing. The answers come from a transport that gives
// the same one to every request.
#include <gtest/gtest.h>

#include <memory>

#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "fakes.h"
#include "pipeline/dynamo_browse.h"
#include "pipeline/mapping.h"

namespace di::aws {
namespace {

class SameAnswer : public HttpTransport {
 public:
  SameAnswer(long status, std::string body) : status_(status), body_(std::move(body)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    ++sent;
    HttpResponse r;
    r.status = status_;
    if (request.on_body)
      request.on_body(body_);
    else
      r.body = body_;
    return r;
  }
  int sent = 0;

 private:
  long status_;
  std::string body_;
};

std::shared_ptr<AwsClient> Client(const std::string& service, std::shared_ptr<SameAnswer> t) {
  return fakes::ClientOver(service, std::move(t));
}

// Found by fuzz/s3_xml: a <Size> past 64 bits threw std::out_of_range (std::stoull).
TEST(AwsAnswers, AnObjectSizeThatIsNoNumberIsNamed) {
  auto t = std::make_shared<SameAnswer>(
      200,
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
      "<Size>99999999999999999999999</Size></Contents></ListBucketResult>");
  S3Client s3(Client("s3", t));
  auto page = s3.ListObjectsV2("bucket", "backups/");
  EXPECT_EQ(page.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(page.status().message(),
            "S3 ListObjectsV2 bucket: the size of 'k' is '99999999999999999999999', not a number "
            "of bytes");
}

// A server that hands out the same continuation token again would be listed forever.
TEST(AwsAnswers, AListingWhosePagesDoNotMoveOnEnds) {
  auto t = std::make_shared<SameAnswer>(
      200,
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok1"
      "</NextContinuationToken><Contents><Key>k</Key><Size>1</Size></Contents>"
      "</ListBucketResult>");
  S3Client s3(Client("s3", t));
  auto all = s3.ListAll("bucket", "backups/");
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
  EXPECT_NE(all.status().message().find("the continuation token 'tok1' came twice"),
            std::string::npos)
      << all.status().message();
  EXPECT_EQ(t->sent, 2);
}

// Found by fuzz/dynamodb_json: an answer that is JSON but no object ("Table" then NUL bytes,
// which JSON's parser stops at) threw nlohmann's type_error out of DescribeTable.
TEST(AwsAnswers, ADynamoAnswerThatIsNoObjectIsNamed) {
  auto t = std::make_shared<SameAnswer>(200, std::string("\"Table\"\0\0\0\0", 11));
  DynamoDbClient db(Client("dynamodb", t));
  auto d = db.DescribeTable("cinema-users");
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(d.status().message(), "DynamoDB DescribeTable: the answer is not a JSON object");
  auto answer = [](const char* body) {
    return std::make_unique<DynamoDbClient>(
        Client("dynamodb", std::make_shared<SameAnswer>(200, body)));
  };
  EXPECT_EQ(answer(R"({"Table":[1]})")->DescribeTable("t").status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"Items":{"a":1}})")->Scan("t", 10).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"Items":[1]})")->Scan("t", 10).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"LastEvaluatedKey":[]})")->Scan("t", 10).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"Item":"x"})")->GetItem("t", {{"id", {{"N", "1"}}}}).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"TableNames":[1]})")->ListTables().status().code(), StatusCode::kCorruption);
  EXPECT_EQ(answer(R"({"Table":{"TableStatus":1,"GlobalSecondaryIndexes":{}}})")
                ->WaitUntilActive("t", std::chrono::seconds(0))
                .code(),
            StatusCode::kCorruption);
  // The API's table view shows what it cannot read as UNKNOWN.
  auto odd = std::make_shared<SameAnswer>(200, R"({"Table":{"TableStatus":5,"ItemCount":"x"}})");
  DynamoDbClient db3(Client("dynamodb", odd));
  auto views = DescribeDynamoTargets(db3, CinemaMapping(DynamoSettings{}));
  ASSERT_FALSE(views.empty());
  EXPECT_EQ(views[0]["status"], "UNKNOWN");
  EXPECT_EQ(views[0]["item_count"], 0);
}

// A ListTables answer whose LastEvaluatedTableName does not move on was listed forever.
TEST(AwsAnswers, ATableListingWhosePagesDoNotMoveOnEnds) {
  auto t =
      std::make_shared<SameAnswer>(200, R"({"TableNames":["a","b"],"LastEvaluatedTableName":"b"})");
  DynamoDbClient db(Client("dynamodb", t));
  auto names = db.ListTables(10);
  EXPECT_EQ(names.status().code(), StatusCode::kCorruption);
  EXPECT_NE(names.status().message().find("LastEvaluatedTableName 'b' does not move"),
            std::string::npos)
      << names.status().message();
  EXPECT_EQ(t->sent, 2);
}

// UnprocessedItems that are not requests, or more than were sent, counted items written below
// zero (a size_t gone round) or read missing fields.
TEST(AwsAnswers, UnprocessedItemsThatAreNoRequestsAreNamed) {
  std::vector<WriteRequest> two(2);
  two[0].put_item = {{"id", {{"N", "1"}}}};
  two[1].put_item = {{"id", {{"N", "2"}}}};
  for (const char* body :
       {R"({"UnprocessedItems":{"t":[{"PutRequest":{}},{"DeleteRequest":{"Key":{}}}]}})",
        R"({"UnprocessedItems":{"t":{"a":1}}})",
        R"({"UnprocessedItems":{"t":[{"DeleteRequest":{"Key":{}}},{"DeleteRequest":{"Key":{}}},)"
        R"({"DeleteRequest":{"Key":{}}}]}})"}) {
    auto t = std::make_shared<SameAnswer>(200, body);
    DynamoDbClient db(Client("dynamodb", t));
    auto r = db.BatchWrite("t", two);
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << body;
  }
  auto t = std::make_shared<SameAnswer>(
      200, R"({"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"id":{"N":"2"}}}}]}})");
  DynamoDbClient db(Client("dynamodb", t));
  auto r = db.BatchWrite("t", two);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 1u);
  ASSERT_EQ(r->unprocessed.size(), 1u);
  EXPECT_EQ(r->unprocessed[0].put_item["id"]["N"], "2");
}

}  // namespace
}  // namespace di::aws
