// libFuzzer target: a backup as restore and verify read it back (pipeline/backup_read.h) from a
// bucket whose contents the input chose — the manifest's text, then after a NUL byte the
// bytes of its part (compressed as the manifest's codec says, or not). The listing, the
// manifest and every part listed must be read or refused with an error naming the object;
// each decompressed line is split as a record.
#include "fuzz/fuzz_support.h"
#include "fuzz/memory_store.h"
#include "pipeline/backup_read.h"
#include "sinks/backup_record.h"

namespace {

constexpr char kRun[] = "backups/postgresql/t/2024-01-02T03:04:05Z";

void CheckError(const di::Status& s, const std::string& what) {
  di::fuzz::Check(s.ok() || s.message().find("memory:") != std::string::npos,
                  what + ": an error that names no object: " + s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = di::fuzz::Text(data, size);
  size_t nul = in.find('\0');
  di::fuzz::MemoryStore store;
  const std::string manifest_key = std::string(kRun) + "/manifest.json";
  store.objects[manifest_key] = std::string(in.substr(0, nul));
  if (nul != std::string_view::npos)
    store.objects[std::string(kRun) + "/part-00000.jsonl.gz"] = std::string(in.substr(nul + 1));

  auto listed = di::ListBackups(store, "backups", std::nullopt, "");
  di::fuzz::Check(listed.ok(), "listing a memory bucket failed: " + listed.status().ToString());
  auto latest = di::LatestManifestKey(store, "backups", di::Engine::kPostgres, "t");
  di::fuzz::Check(latest.ok() && *latest == manifest_key, "the latest manifest was not found");

  auto m = di::ReadManifest(store, manifest_key);
  CheckError(m.status(), "ReadManifest");
  if (!m.ok()) return 0;
  std::vector<di::RecordField> fields;
  size_t lines = 0;
  auto on_lines = [&](const std::vector<std::string_view>& batch) {
    for (auto line : batch) (void)di::SplitRecord(line, &fields);
    lines += batch.size();
    return di::Status::Ok();
  };
  for (const auto& part : m->doc["parts"])
    CheckError(di::StreamPart(store, *m, part, 3, on_lines), "StreamPart");
  return 0;
}
