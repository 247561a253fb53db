#include "aws/dynamodb_client.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "aws/xml.h"
#include "core/strings.h"

namespace di::aws {
namespace {

constexpr size_t kMaxBatchItems = 25;
constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;

Json KeySchema(const KeyAttribute& hash, const std::optional<KeyAttribute>& range) {
  Json ks = Json::array({{{"AttributeName", hash.name}, {"KeyType", "HASH"}}});
  if (range) ks.push_back({{"AttributeName", range->name}, {"KeyType", "RANGE"}});
  return ks;
}

Json ToJson(const WriteRequest& w) {
  if (!w.put_item.is_null()) return {{"PutRequest", {{"Item", w.put_item}}}};
  return {{"DeleteRequest", {{"Key", w.delete_key}}}};
}

// `o`'s `field` when it is a string, else "" (an answer's text that is missing or of
// another type reads as none).
std::string Text(const Json& o, const char* field) {
  auto it = o.is_object() ? o.find(field) : o.end();
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An answer's `field` of the given type, or a Corruption naming the call and the field.
Result<const Json*> Field(const Json& answer, const char* field, Json::value_t type,
                          const std::string& call) {
  auto it = answer.find(field);
  if (it == answer.end() || it->type() != type)
    return Corruption("DynamoDB " + call + ": the answer's " + field + " is not " +
                      (type == Json::value_t::array ? "a list" : "an object"));
  return &*it;
}

// An UnprocessedItems entry as the WriteRequest it stands for; nullopt when it is none.
std::optional<WriteRequest> FromJson(const Json& j) {
  WriteRequest w;
  auto inner = [&](const char* request, const char* what) -> const Json* {
    auto r = j.is_object() ? j.find(request) : j.end();
    if (r == j.end() || !r->is_object()) return nullptr;
    auto v = r->find(what);
    return v != r->end() && v->is_object() ? &*v : nullptr;
  };
  if (const Json* item = inner("PutRequest", "Item")) w.put_item = *item;
  if (const Json* key = inner("DeleteRequest", "Key")) w.delete_key = *key;
  if (w.put_item.is_null() == w.delete_key.is_null()) return std::nullopt;
  return w;
}

Result<Page> ToPage(const Json& answer, const std::string& call) {
  Page p;
  if (answer.contains("Items")) {
    ASSIGN_OR_RETURN(const Json* items, Field(answer, "Items", Json::value_t::array, call));
    for (const auto& it : *items) {
      if (!it.is_object()) return Corruption("DynamoDB " + call + ": an item is not an object");
      p.items.push_back(it);
    }
  }
  if (answer.contains("LastEvaluatedKey")) {
    ASSIGN_OR_RETURN(const Json* last,
                     Field(answer, "LastEvaluatedKey", Json::value_t::object, call));
    p.last_evaluated_key = *last;
  }
  auto count = answer.find("Count");
  p.count = count != answer.end() && count->is_number_integer()
                ? count->get<int64_t>()
                : static_cast<int64_t>(p.items.size());
  return p;
}

}  // namespace

AwsError ParseDynamoError(const HttpResponse& r) {
  AwsError e;
  e.http_status = r.status;
  if (const std::string* id = r.FindHeader("x-amzn-RequestId")) e.request_id = *id;
  Json j = Json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    std::string type = Text(j, "__type");
    e.code = type.substr(type.find('#') == std::string::npos ? 0 : type.find('#') + 1);
    e.message = j.contains("message") ? Text(j, "message") : Text(j, "Message");
    return e;
  }
  // An IAM layer in front of the service (moto's) may answer in the query protocol's XML:
  // <ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>...
  auto xml = ParseXml(r.body);
  const XmlNode* errors = xml.ok() ? xml->Child("Errors") : nullptr;
  if (const XmlNode* error = errors ? errors->Child("Error") : nullptr) {
    e.code = error->ChildText("Code");
    e.message = error->ChildText("Message");
  }
  return e;
}

Result<Json> DynamoDbClient::Call(const std::string& operation, const Json& body,
                                  const std::string& table) {
  return CallText(operation, body.dump(), table);
}

Result<Json> DynamoDbClient::CallText(const std::string& operation, std::string body,
                                      const std::string& table) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.SetHeader("Content-Type", "application/x-amz-json-1.0");
  r.SetHeader("X-Amz-Target", "DynamoDB_20120810." + operation);
  r.body = std::move(body);
  ASSIGN_OR_RETURN(HttpResponse resp, client_->Send(std::move(r), ParseDynamoError));
  if (resp.status >= 300) {
    AwsError e = ParseDynamoError(resp);
    std::string hint;
    if (e.code == "ResourceNotFoundException" && !table.empty())
      hint = "Table '" + table + "' is missing. Run `data-ingestion --mode setup` to create it";
    const Permission needed{
        "dynamodb:" + operation,
        table.empty() ? "*" : "table " + table + " (region " + client_->options().region + ")"};
    return ErrorStatus("DynamoDB " + operation + (table.empty() ? "" : " " + table), e, hint,
                       needed);
  }
  Json answer = Json::parse(resp.body, nullptr, false);
  if (answer.is_discarded())
    return Corruption("DynamoDB " + operation + ": the answer is not JSON");
  if (!answer.is_object())
    return Corruption("DynamoDB " + operation + ": the answer is not a JSON object");
  return answer;
}

Result<std::string> DynamoDbClient::PartitionKeyType(const std::string& table) {
  ASSIGN_OR_RETURN(Json t, DescribeTable(table));
  std::string name;
  for (const auto& k : t.value("KeySchema", Json::array()))
    if (k.value("KeyType", "") == "HASH") name = k.value("AttributeName", "");
  for (const auto& a : t.value("AttributeDefinitions", Json::array()))
    if (!name.empty() && a.value("AttributeName", "") == name) return a.value("AttributeType", "");
  return Corruption("DynamoDB DescribeTable " + table + ": no partition key in the answer");
}

Result<bool> DynamoDbClient::CreateTable(const TableSpec& spec) {
  Json attrs = Json::array();
  auto add_attr = [&](const KeyAttribute& a) {
    for (const auto& x : attrs)
      if (x["AttributeName"] == a.name) return;
    attrs.push_back({{"AttributeName", a.name}, {"AttributeType", a.type}});
  };
  add_attr(spec.hash);
  if (spec.range) add_attr(*spec.range);
  Json body = {{"TableName", spec.name},
               {"BillingMode", "PAY_PER_REQUEST"},
               {"KeySchema", KeySchema(spec.hash, spec.range)}};
  if (!spec.global_indexes.empty()) {
    Json gsis = Json::array();
    for (const auto& g : spec.global_indexes) {
      add_attr(g.hash);
      if (g.range) add_attr(*g.range);
      gsis.push_back({{"IndexName", g.name},
                      {"KeySchema", KeySchema(g.hash, g.range)},
                      {"Projection", {{"ProjectionType", "ALL"}}}});
    }
    body["GlobalSecondaryIndexes"] = gsis;
  }
  body["AttributeDefinitions"] = attrs;
  auto r = Call("CreateTable", body, spec.name);
  if (r.ok()) return true;
  if (r.status().message().find("ResourceInUseException") != std::string::npos) return false;
  return r.status();
}

Result<Json> DynamoDbClient::DescribeTable(const std::string& table) {
  ASSIGN_OR_RETURN(Json answer, Call("DescribeTable", {{"TableName", table}}, table));
  ASSIGN_OR_RETURN(const Json* t,
                   Field(answer, "Table", Json::value_t::object, "DescribeTable " + table));
  return *t;
}

Status DynamoDbClient::WaitUntilActive(const std::string& table, std::chrono::seconds timeout) {
  auto deadline = clock_.Now() + timeout;
  while (true) {
    ASSIGN_OR_RETURN(Json t, DescribeTable(table));
    bool active = Text(t, "TableStatus") == "ACTIVE";
    if (t.contains("GlobalSecondaryIndexes")) {
      ASSIGN_OR_RETURN(const Json* indexes, Field(t, "GlobalSecondaryIndexes", Json::value_t::array,
                                                  "DescribeTable " + table));
      for (const auto& g : *indexes)
        if (g.is_object() && g.contains("IndexStatus") && Text(g, "IndexStatus") != "ACTIVE")
          active = false;
    }
    if (active) return Status::Ok();
    if (clock_.Now() >= deadline)
      return Unavailable("DynamoDB table '" + table + "' is not ACTIVE after " +
                         std::to_string(timeout.count()) + "s (status " +
                         (Text(t, "TableStatus").empty() ? "?" : Text(t, "TableStatus")) + ")");
    clock_.SleepFor(std::chrono::milliseconds(500));
  }
}

Result<std::vector<std::string>> DynamoDbClient::ListTables(int page_size) {
  std::vector<std::string> names;
  Json body = {{"Limit", page_size}};
  while (true) {
    ASSIGN_OR_RETURN(Json answer, Call("ListTables", body));
    if (answer.contains("TableNames")) {
      ASSIGN_OR_RETURN(const Json* page,
                       Field(answer, "TableNames", Json::value_t::array, "ListTables"));
      for (const auto& n : *page) {
        if (!n.is_string()) return Corruption("DynamoDB ListTables: a table name is not a string");
        names.push_back(n.get<std::string>());
      }
    }
    if (!answer.contains("LastEvaluatedTableName")) break;
    // A page must move on: a server that answers the same place again would be listed forever.
    std::string last = Text(answer, "LastEvaluatedTableName");
    if (last.empty() ||
        (body.contains("ExclusiveStartTableName") && body["ExclusiveStartTableName"] == last))
      return Corruption("DynamoDB ListTables: the answer's LastEvaluatedTableName '" + last +
                        "' does not move the listing on");
    body["ExclusiveStartTableName"] = last;
  }
  return names;
}

Status DynamoDbClient::DeleteTable(const std::string& table) {
  return Call("DeleteTable", {{"TableName", table}}, table).status();
}

Result<BatchWriteResult> DynamoDbClient::BatchWrite(const std::string& table,
                                                    std::vector<WriteRequest> requests) {
  std::vector<std::string> texts;
  texts.reserve(requests.size());
  for (const auto& r : requests) texts.push_back(ToJson(r).dump());
  return BatchWriteText(table, std::move(texts));
}

Result<BatchWriteResult> DynamoDbClient::BatchWriteText(const std::string& table,
                                                        std::vector<std::string> requests) {
  // The requests' groups [begin, end): at most 25 items and 16 MB each.
  const std::string head = "{\"RequestItems\":{" + Json(table).dump() + ":[";
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t next = 0; next < requests.size();) {
    const size_t begin = next;
    size_t bytes = head.size() + 3;
    while (next < requests.size() && next - begin < kMaxBatchItems) {
      if (next > begin && bytes + requests[next].size() + 1 > kMaxBatchBytes) break;
      bytes += requests[next++].size() + 1;
    }
    groups.emplace_back(begin, next);
  }
  std::vector<size_t> idx(requests.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;

  // Up to write_concurrency requests in flight; each resends its UnprocessedItems.
  BatchWriteResult result;
  Status failed;
  std::mutex mu;
  std::atomic<size_t> next_group{0};
  auto work = [&] {
    for (size_t g; (g = next_group++) < groups.size();) {
      {
        std::lock_guard lock(mu);
        if (!failed.ok()) return;
      }
      BatchWriteResult mine;
      const auto [begin, end] = groups[g];
      Status status = WriteItems(table, head, requests, idx.data() + begin, end - begin, &mine);
      std::lock_guard lock(mu);
      result.written += mine.written;
      result.resends += mine.resends;
      for (auto& u : mine.unprocessed) result.unprocessed.push_back(std::move(u));
      for (auto& r : mine.rejected) result.rejected.push_back(std::move(r));
      if (!status.ok() && failed.ok()) failed = status;
    }
  };
  size_t threads = std::min(groups.size(), static_cast<size_t>(std::max(write_concurrency_, 1)));
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& h : helpers) h.join();
  if (!failed.ok()) return failed;
  return result;
}

namespace {

// DynamoDB refused a BatchWriteItem for what one of its items holds, not for the table, the
// credentials or the service: a ValidationException (a key of the wrong type or empty, an
// item over 400 KB, a number out of range, an empty set, two puts of one key...) or an item
// collection over its size.
bool RefusedForAnItem(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument &&
         (s.message().find(" ValidationException") != std::string::npos ||
          s.message().find(" ItemCollectionSizeLimitExceededException") != std::string::npos);
}

}  // namespace

Status DynamoDbClient::WriteItems(const std::string& table, const std::string& head,
                                  const std::vector<std::string>& requests, const size_t* idx,
                                  size_t n, BatchWriteResult* out) {
  std::string body = head;
  size_t bytes = head.size() + 3;
  for (size_t k = 0; k < n; ++k) bytes += requests[idx[k]].size() + 1;
  body.reserve(bytes);
  for (size_t k = 0; k < n; ++k) {
    if (k) body += ',';
    body += requests[idx[k]];
  }
  body += "]}}";
  bool refused = false;
  Status s = SendBatch(table, std::move(body), n, out, &refused);
  if (!refused) return s;
  if (n == 1) {
    out->rejected.push_back({idx[0], s.message()});
    return Status::Ok();
  }
  RETURN_IF_ERROR(WriteItems(table, head, requests, idx, n / 2, out));
  return WriteItems(table, head, requests, idx + n / 2, n - n / 2, out);
}

Status DynamoDbClient::SendBatch(const std::string& table, std::string body, size_t n,
                                 BatchWriteResult* out, bool* refused) {
  const RetryOptions& retry = client_->options().retry;
  size_t sent = n;
  for (int round = 0;; ++round) {
    auto answer = CallText("BatchWriteItem", std::move(body), table);
    if (!answer.ok()) {
      *refused = round == 0 && RefusedForAnItem(answer.status());
      return answer.status();
    }
    Json left = Json::array();
    if (answer->contains("UnprocessedItems") && (*answer)["UnprocessedItems"].contains(table))
      left = (*answer)["UnprocessedItems"][table];
    // Requests we sent, at most: any other answer (a count that would wrap the written one
    // below zero) is named, not trusted.
    std::vector<WriteRequest> back;
    for (const auto& j : left.is_array() ? left : Json::array())
      if (auto w = FromJson(j)) back.push_back(std::move(*w));
    if (!left.is_array() || back.size() != left.size() || back.size() > sent)
      return Corruption("DynamoDB BatchWriteItem " + table +
                        ": the answer's UnprocessedItems are not " + std::to_string(sent) +
                        " requests at most");
    out->written += sent - left.size();
    if (left.empty()) return Status::Ok();
    if (round + 1 >= retry.max_attempts) {
      for (auto& w : back) out->unprocessed.push_back(std::move(w));
      return Status::Ok();
    }
    ++out->resends;
    clock_.SleepFor(BackoffDelay(retry, round + 1, 1.0));
    body = Json{{"RequestItems", {{table, left}}}}.dump();
    sent = left.size();
  }
}

Status DynamoDbClient::PutItem(const std::string& table, const Json& item) {
  return Call("PutItem", {{"TableName", table}, {"Item", item}}, table).status();
}

Result<std::optional<Json>> DynamoDbClient::GetItem(const std::string& table, const Json& key,
                                                    bool consistent) {
  ASSIGN_OR_RETURN(
      Json answer,
      Call("GetItem", {{"TableName", table}, {"Key", key}, {"ConsistentRead", consistent}}, table));
  if (!answer.contains("Item")) return std::optional<Json>();
  ASSIGN_OR_RETURN(const Json* item,
                   Field(answer, "Item", Json::value_t::object, "GetItem " + table));
  return std::optional<Json>(*item);
}

Result<Page> DynamoDbClient::Query(const std::string& table, Json request) {
  request["TableName"] = table;
  ASSIGN_OR_RETURN(Json answer, Call("Query", request, table));
  return ToPage(answer, "Query " + table);
}

Result<Page> DynamoDbClient::Scan(const std::string& table, int limit,
                                  const Json& exclusive_start_key) {
  Json body = {{"TableName", table}, {"Limit", limit}};
  if (!exclusive_start_key.is_null()) body["ExclusiveStartKey"] = exclusive_start_key;
  ASSIGN_OR_RETURN(Json answer, Call("Scan", body, table));
  return ToPage(answer, "Scan " + table);
}

}  // namespace di::aws
