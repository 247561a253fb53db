// Micro-benchmarks of the hot paths (Google Benchmark): a row -> JSON line, a row ->
// DynamoDB AttributeValue map, SigV4 signing of a BatchWriteItem, streaming compression.
#include <benchmark/benchmark.h>

#include "aws/sigv4.h"
#include "core/json_encode.h"
#include "pipeline/backup.h"
#include "pipeline/migrate.h"
#include "sinks/compressor.h"
#include "sinks/dynamo_item.h"

namespace di {
namespace {

// A reservations-like row: integers, decimal, text, JSON, array, timestamps.
TableInfo Table() {
  TableInfo t;
  t.engine = Engine::kPostgres;
  t.name = "reservations";
  for (const char* c : {"id", "user_id", "schedule_id", "movie_id", "status", "total_amount",
                        "seat_count", "booking_channel", "notes", "metadata", "seat_numbers",
                        "show_time", "created_at", "updated_at"})
    t.columns.push_back({c, "text", true, {}, "", ""});
  t.primary_key = {"id"};
  return t;
}

std::vector<Value> Row(int64_t i) {
  return {Value(i),
          Value(int64_t{i % 1000}),
          Value(int64_t{i % 300}),
          Value(std::string("6580001eac12b63c90320970")),
          Value(std::string("confirmed")),
          Value(Decimal{"42.50"}),
          Value(int64_t{3}),
          Value(std::string("web")),
          Value(std::string("aisle please, near the exit \xc3\xb1")),
          Value(Json{R"({"promo":"SUMMER","device":{"os":"android","v":14}})"}),
          Value(Array{{Value(int64_t{12}), Value(int64_t{13}), Value(int64_t{14})}}),
          Value(Timestamp{1735689600000000 + i}),
          Value(Timestamp{1735600000123456 + i}),
          Value(Timestamp{1735600000654321 + i})};
}

void BM_RowToJsonLine(benchmark::State& state) {
  TableInfo t = Table();
  auto row = Row(7);
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendRecord(row, t, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_RowToJsonLine);

// What the migration writes: the AttributeValue map as JSON text, straight from the values.
void BM_RowToAttributeValues(benchmark::State& state) {
  TableInfo t = Table();
  auto row = Row(7);
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(AppendRowAsMap(row, t, out, nullptr));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_RowToAttributeValues);

// The same map as a JSON tree (what verify compares; the migration's path before the text
// writer): the difference is the cost of building a tree per row.
void BM_RowToAttributeValueTree(benchmark::State& state) {
  TableInfo t = Table();
  auto row = Row(7);
  for (auto _ : state) {
    auto m = RowToMap(row, t, nullptr);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RowToAttributeValueTree);

void BM_SigV4SignBatchWrite(benchmark::State& state) {
  aws::HttpRequest req;
  req.method = "POST";
  req.host = "dynamodb.us-east-1.amazonaws.com";
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Amz-Target", "DynamoDB_20120810.BatchWriteItem"}};
  req.body.assign(16 * 1024, 'x');  // a 25-item batch is ~10-20 KB
  aws::Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  aws::SigningOptions so;
  so.region = "us-east-1";
  so.service = "dynamodb";
  so.time = std::chrono::system_clock::now();
  for (auto _ : state) {
    aws::HttpRequest r = req;
    aws::SignRequest(r, creds, so);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(req.body.size()));
}
BENCHMARK(BM_SigV4SignBatchWrite);

void Compress(benchmark::State& state, Compression codec) {
  TableInfo t = Table();
  std::string lines;
  for (int64_t i = 0; lines.size() < (1 << 20); ++i) {
    AppendRecord(Row(i), t, lines);
    lines += '\n';
  }
  std::string out;
  for (auto _ : state) {
    auto c = MakeCompressor(codec);
    out.clear();
    if (!c->Write(lines, out).ok() || !c->Finish(out).ok()) state.SkipWithError("compress");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(lines.size()));
  state.counters["ratio"] = static_cast<double>(lines.size()) / static_cast<double>(out.size());
}
void BM_CompressGzip1(benchmark::State& state) {
  Compress(state, Compression::kGzip);
}
void BM_CompressZstd1(benchmark::State& state) {
  Compress(state, Compression::kZstd);
}
BENCHMARK(BM_CompressGzip1);
BENCHMARK(BM_CompressZstd1);

}  // namespace
}  // namespace di

BENCHMARK_MAIN();
