#include "fakes.h"

#include <string>

#include "aws/client.h"

namespace di::fakes {
namespace {

std::mutex& DecodersMu() {
  static std::mutex m;
  return m;
}
std::set<const CellDecoder*>& Decoders() {
  static std::set<const CellDecoder*> s;
  return s;
}

// Reads `keys` a batch at a time, each batch with its last row's position when `ordered`; with
// `drop_after` >= 0 it fails (a lost connection, noted in *lost) once it has given that many
// rows.
class Reader : public RowReader {
 public:
  Reader(std::vector<int64_t> keys, size_t batch, bool cells, bool ordered, int64_t drop_after,
         std::atomic<bool>* lost)
      : keys_(std::move(keys)),
        batch_(batch),
        cells_(cells),
        ordered_(ordered),
        drop_after_(drop_after),
        lost_(lost) {}
  bool CanReadCells() const override { return cells_; }
  Result<bool> NextCells(CellBatch* b) override {
    RETURN_IF_ERROR(Dropped());
    b->clear();
    b->kinds = {CellText::kInteger};
    b->decoder = &decoder_;
    for (size_t n = 0; at_ < End() && n < batch_; ++at_, ++n)
      b->Add(std::to_string(keys_[at_]), false);
    if (b->rows() == 0) return false;
    if (ordered_) b->last = Position{Null{}, {b->value(b->rows() - 1, 0)}};
    return true;
  }
  Result<bool> Next(RecordBatch* b) override {
    RETURN_IF_ERROR(Dropped());
    b->clear();
    for (; at_ < End() && b->rows.size() < batch_; ++at_) b->rows.push_back({Value(keys_[at_])});
    if (b->rows.empty()) return false;
    if (ordered_) b->last = Position{Null{}, {b->rows.back()[0]}};
    return true;
  }

 private:
  // Rows are given up to the drop; the call after the last of them fails.
  size_t End() const {
    return drop_after_ < 0 ? keys_.size()
                           : std::min(keys_.size(), static_cast<size_t>(drop_after_));
  }
  Status Dropped() const {
    if (drop_after_ >= 0 && at_ >= static_cast<size_t>(drop_after_) && at_ < keys_.size()) {
      *lost_ = true;
      return Unavailable("fake source: server closed the connection unexpectedly");
    }
    return Status::Ok();
  }
  std::vector<int64_t> keys_;
  size_t batch_, at_ = 0;
  bool cells_, ordered_;
  int64_t drop_after_;
  std::atomic<bool>* lost_;
  IntDecoder decoder_;
};

}  // namespace

const TableInfo& FakeTable() {
  static const TableInfo t{
      Engine::kPostgres, "db", "t", {{"id", "bigint", false, {}, "", ""}}, {"id"}, ""};
  return t;
}

IntDecoder::IntDecoder() {
  std::lock_guard lock(DecodersMu());
  Decoders().insert(this);
}
IntDecoder::~IntDecoder() {
  std::lock_guard lock(DecodersMu());
  Decoders().erase(this);
}
Value IntDecoder::Decode(size_t, std::string_view text) const {
  return Value(static_cast<int64_t>(std::stoll(std::string(text))));
}
bool IntDecoder::Alive(const CellDecoder* d) {
  std::lock_guard lock(DecodersMu());
  return Decoders().count(d) > 0;
}

FakeSource::FakeSource(std::vector<int64_t> keys, bool cells)
    : data_(std::make_shared<FakeTableData>()) {
  data_->keys = std::move(keys);
  data_->cells = cells;
}

Result<TableInfo> FakeSource::Describe(const std::string&, const std::string&) {
  return FakeTable();
}

int64_t FakeSource::EstimateRows(const TableInfo&) {
  return static_cast<int64_t>(data_->keys.size());
}

void FakeTableData::Note(const std::string& event) {
  std::lock_guard lock(mu_);
  events_.push_back(event);
}

std::vector<std::string> FakeTableData::events() {
  std::lock_guard lock(mu_);
  return events_;
}

std::string FakeSource::Seen() const {
  return !pinned_.empty() ? pinned_ : !joined_.empty() ? joined_ : "live";
}

Result<std::vector<std::vector<Value>>> FakeSource::Lookup(const TableInfo&, const std::string&,
                                                           const std::vector<Value>&) {
  data_->Note("lookup in " + Seen() + (serving_ ? " by the read's source" : ""));
  return std::vector<std::vector<Value>>{};
}

Result<LogPosition> FakeSource::PinSnapshot() {
  ReleaseSnapshot();
  if (!data_->snapshots) return LogPosition();
  const int n = ++data_->pins;
  pinned_ = "snap-" + std::to_string(n);
  data_->Note("pin " + pinned_);
  return LogPosition{Engine::kPostgres, "0/" + std::to_string(n), "", 0};
}

void FakeSource::ReleaseSnapshot() {
  if (!pinned_.empty()) data_->Note("release " + pinned_);
  pinned_.clear();
  serving_ = false;
}

bool FakeSource::ServeLookupsInSnapshot() {
  serving_ = data_->serves_lookups && !pinned_.empty();
  return serving_;
}

Result<bool> FakeSource::JoinSnapshot(const std::string& token, std::string* missed) {
  LeaveSnapshot();
  if (data_->join_fails) return Unavailable("fake source: snapshot " + token + " is gone");
  if (data_->join_misses.load() > 0 && --data_->join_misses >= 0) {
    *missed = "fake source: a commit came between";
    return false;
  }
  data_->Note("join " + token);
  joined_ = token;
  return true;
}

void FakeSource::LeaveSnapshot() {
  if (!joined_.empty()) data_->Note("leave " + joined_);
  joined_.clear();
}

Result<std::unique_ptr<RowReader>> FakeSource::Read(const TableInfo&, const ReadOptions& o) {
  ++data_->reads;
  data_->Note("read in " + Seen());
  auto key = [](const std::optional<Position>& p, int64_t none) {
    return p ? p->key.at(0).as<int64_t>() : none;
  };
  std::vector<int64_t> range;
  for (int64_t k : data_->keys)
    if (k > key(o.after, INT64_MIN) && k <= key(o.until, INT64_MAX)) range.push_back(k);
  int64_t drop = -1;
  if (data_->drops.load() > 0 && --data_->drops >= 0) drop = data_->drop_after;
  return std::unique_ptr<RowReader>(
      new Reader(std::move(range), o.batch_size, data_->cells, o.ordered(), drop, &lost_));
}

Status FakeSource::Reconnect(std::string* note) {
  if (data_->reconnect_failures.load() > 0 && --data_->reconnect_failures >= 0)
    return Unavailable("fake source: connection refused");
  lost_ = false;
  ++data_->reconnected;
  if (!pinned_.empty()) *note = "fake source: " + pinned_ + " was lost with its connection";
  return Status::Ok();
}

Result<std::unique_ptr<Source>> FakeSources::Open(Engine, const std::string&) {
  ++opened;
  return std::unique_ptr<Source>(new FakeSource(data_));
}

Result<aws::HttpResponse> MemoryDynamo::Send(const aws::HttpRequest& request) {
  if (unavailable) return Unavailable("memory dynamodb: connection refused");
  const std::string* target = request.FindHeader("X-Amz-Target");
  aws::HttpResponse r;
  if (!target || target->find("BatchWriteItem") == std::string::npos) {
    r.status = 400;
    r.body = R"({"__type":"ValidationException","message":"not served by the fake"})";
    return r;
  }
  auto body = nlohmann::json::parse(request.body);
  std::lock_guard lock(mu_);
  for (const auto& [table, writes] : body["RequestItems"].items())
    for (const auto& w : writes)
      if (w.contains("PutRequest")) ++puts_[table][w["PutRequest"]["Item"]["id"].dump()];
  r.status = 200;
  r.body = R"({"UnprocessedItems":{}})";
  return r;
}

std::map<std::string, int> MemoryDynamo::Puts(const std::string& table) {
  std::lock_guard lock(mu_);
  return puts_[table];
}

std::shared_ptr<aws::AwsClient> ClientOver(const std::string& service,
                                           std::shared_ptr<aws::HttpTransport> transport) {
  aws::ServiceOptions o;
  o.service = service;
  o.region = "us-east-1";
  o.endpoint = "http://127.0.0.1:1";
  o.credentials = {"fake", "fake", ""};
  o.retry.max_attempts = 1;
  o.retry.base_delay = std::chrono::milliseconds(1);
  return std::make_shared<aws::AwsClient>(o, std::move(transport));
}

std::unique_ptr<aws::DynamoDbClient> DynamoOver(std::shared_ptr<aws::HttpTransport> transport) {
  return std::make_unique<aws::DynamoDbClient>(ClientOver("dynamodb", std::move(transport)));
}

std::vector<int64_t> Keys(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= n; ++i) v.push_back(i * 10);
  return v;
}

}  // namespace di::fakes
