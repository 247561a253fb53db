// libFuzzer target: DynamoDB's JSON answers as the DynamoDB client reads them
// (aws/dynamodb_client.h) and as the API's table views use them (pipeline/dynamo_browse.h).
// The input's last byte picks the call, the one before it the HTTP status, and the rest
// is the answer's body. Every answer must end in a result or a Status — no exception, no endless
// paging — and a batch write never counts more items written than it sent.
#include <fuzzer/FuzzedDataProvider.h>

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "core/clock.h"
#include "fuzz/aws_client.h"
#include "fuzz/fuzz_support.h"
#include "pipeline/dynamo_browse.h"
#include "pipeline/mapping.h"
#include "pipeline/verify.h"

namespace {

using Json = nlohmann::json;

void BatchWrite(di::aws::DynamoDbClient& db) {
  std::vector<di::aws::WriteRequest> requests(30);
  for (size_t i = 0; i < requests.size(); ++i)
    requests[i].put_item = {{"id", {{"N", std::to_string(i)}}}};
  requests[3].put_item = nullptr;
  requests[3].delete_key = Json{{"id", {{"N", "3"}}}};
  auto r = db.BatchWrite("cinema-users", std::move(requests));
  if (r.ok())
    di::fuzz::Check(r->written + r->unprocessed.size() <= 30,
                    "a batch write counts more items than it sent: " + std::to_string(r->written) +
                        " written, " + std::to_string(r->unprocessed.size()) + " unprocessed");
}

void Call(di::aws::DynamoDbClient& db, uint8_t op) {
  static const auto mapping = di::CinemaMapping(di::DynamoSettings{});
  const std::string t = "cinema-users";
  switch (op % 10) {
    case 0:
      (void)db.DescribeTable(t);
      break;
    case 1:
      (void)db.WaitUntilActive(t, std::chrono::seconds(2));
      break;
    case 2:
      (void)db.ListTables(10);
      break;
    case 3:
      BatchWrite(db);
      break;
    case 4:
      (void)db.GetItem(t, {{"id", {{"N", "1"}}}});
      break;
    case 5:
      (void)db.Query(t, {{"KeyConditionExpression", "id = :id"},
                         {"ExpressionAttributeValues", {{":id", {{"N", "1"}}}}}});
      break;
    case 6:
      (void)db.Scan(t, 100, {{"id", {{"N", "1"}}}});
      break;
    case 7:
      (void)di::DescribeDynamoTargets(db, mapping);
      break;
    case 8:
      if (!mapping.empty() && mapping.back().dynamodb)
        (void)di::BrowseDynamoItems(db, mapping, mapping.back().dynamodb->table, 10, nullptr);
      break;
    default: {
      di::aws::TableSpec spec;
      spec.name = t;
      spec.hash = {"id", "N"};
      spec.global_indexes.push_back({"by_email", {"email", "S"}, std::nullopt});
      (void)db.CreateTable(spec);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  di::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const uint8_t op = in.ConsumeIntegral<uint8_t>();
  static constexpr long kStatus[] = {200, 200, 200, 400, 403, 404, 413, 500, 503};
  di::aws::HttpResponse answer;
  answer.status = in.PickValueInArray(kStatus);
  answer.headers = {{"x-amzn-RequestId", "REQ1"}};
  answer.body = in.ConsumeRemainingBytesAsString();
  (void)di::aws::ParseDynamoError(answer);
  (void)di::CanonicalNumber(answer.body);

  di::FakeClock clock(std::chrono::system_clock::time_point(std::chrono::hours(480'000)));
  auto transport = std::make_shared<di::fuzz::CannedTransport>(answer);
  di::aws::DynamoDbClient db(di::fuzz::ClientOver("dynamodb", transport), clock);
  Call(db, op);
  return 0;
}
