// `data-ingestion --mode backup` as a user runs it, read back by independent tools: the
// AWS CLI, gunzip / zstd, Python's json module for every line, sha256sum for every part.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "pipeline/backup.h"
#include "sources/factory.h"
#include "stack_env.h"

namespace di::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string StackEnv(const std::string& extra) {
  const Config& c = StackConfig();
  return "env -i PATH=/usr/bin:/bin HOME=/nonexistent " + SanitizerOptionsEnv() +
         "AWS_ENDPOINT_URL=" + c.aws.endpoint_url + " AWS_ACCESS_KEY_ID=" + c.aws.access_key_id +
         " AWS_SECRET_ACCESS_KEY=" + c.aws.secret_access_key + " MYSQL_HOST=" + c.mysql.host +
         " MYSQL_PORT=" + std::to_string(c.mysql.port) + " MYSQL_USER=" + c.mysql.user +
         " MYSQL_PASSWORD=" + c.mysql.password + " POSTGRES_HOST=" + c.postgres.host +
         " POSTGRES_PORT=" + std::to_string(c.postgres.port) + " POSTGRES_USER=" + c.postgres.user +
         " POSTGRES_PASSWORD=" + c.postgres.password + " MONGODB_URI=" + c.mongo.uri + " " + extra +
         " ";
}

json ReadJson(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// Downloads a whole bucket with the AWS CLI (one call) into a temporary directory.
fs::path Download(const std::string& bucket) {
  fs::path dir = fs::path(::testing::TempDir()) / UniqueName("dl");
  std::string out;
  EXPECT_EQ(
      RunCommand(AwsCli() + "s3 cp --recursive --quiet s3://" + bucket + " " + dir.string(), &out),
      0)
      << out;
  return dir;
}

// Checks one backup under `root` (a downloaded bucket or a file:// location).
void CheckBackup(const fs::path& root, const std::string& decompress,
                 const std::string& manifest_key, int64_t want_rows) {
  std::string out;
  ASSERT_TRUE(fs::exists(root / manifest_key)) << manifest_key;
  json m = ReadJson(root / manifest_key);
  EXPECT_EQ(m["format_version"], 1);
  EXPECT_EQ(m["row_count"], want_rows) << manifest_key;
  EXPECT_FALSE(m["primary_key"].empty());
  int64_t rows = 0;
  for (const auto& p : m["parts"]) {
    std::string key = p["key"];
    // The stored bytes hash to the manifest's sha256.
    std::string file = "'" + (root / key).string() + "'";
    ASSERT_EQ(RunCommand("sha256sum " + file, &out), 0);
    EXPECT_EQ(out.substr(0, 64), p["sha256"].get<std::string>()) << key;
    // Every line is strict JSON (Python's json module refuses NaN/Infinity when asked to).
    ASSERT_EQ(RunCommand(decompress + " " + file + " | " + VenvPython() +
                             " -c \"import json,sys\nn=0\nfor line in sys.stdin:\n"
                             "  json.loads(line, parse_constant=lambda c: (_ for _ in "
                             "()).throw(ValueError(c)))\n"
                             "  n+=1\nprint(n)\"",
                         &out),
              0)
        << out;
    EXPECT_EQ(std::stoll(out), p["rows"].get<int64_t>()) << key;
    rows += p["rows"].get<int64_t>();
  }
  EXPECT_EQ(rows, want_rows);
}

TEST(Backup, CinemaTablesToS3ReadBackThroughTheAwsCli) {
  std::string bucket = UniqueName("di-backup");
  std::string env = StackEnv("S3_BUCKET_NAME=" + bucket + " WORKERS=3 BATCH_SIZE=700");
  std::string out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup", &out), 1) << out;  // no bucket yet
  EXPECT_NE(out.find("Run `data-ingestion --mode setup`"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3 mb s3://" + bucket, &out), 0) << out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup", &out), 0) << out;
  EXPECT_NE(out.find(": SUCCESS, "), std::string::npos) << out;
  fs::path root = Download(bucket);
  for (const auto& [engine, tables] : ExpectedCounts(CinemaScale())) {
    for (const auto& [table, rows] : tables) {
      fs::path t = root / "backups" / engine / table;
      ASSERT_TRUE(fs::is_directory(t)) << t;
      std::string run = fs::directory_iterator(t)->path().filename();
      CheckBackup(root, "gunzip -c",
                  "backups/" + engine + "/" + table + "/" + run + "/manifest.json", rows);
    }
  }
  // The report lists every table with its count.
  fs::path reports = root / "analytics" / "migration_reports";
  ASSERT_TRUE(fs::is_directory(reports));
  json report = ReadJson(fs::directory_iterator(reports)->path());
  EXPECT_EQ(report["migration_status"], "SUCCESS");
  EXPECT_EQ(report["record_counts"]["postgresql"]["reservations"], 10000 * CinemaScale());
  EXPECT_EQ(report["total_records_migrated"],
            1510 * CinemaScale() + 45000 * CinemaScale() + 16 + 50 * CinemaScale());
  fs::remove_all(root);
}

TEST(Backup, ZstdToALocalLocationForSelectedTables) {
  fs::path dir = fs::path(::testing::TempDir()) / UniqueName("di-local");
  std::string env =
      StackEnv("S3_BUCKET_NAME=file://" + dir.string() + " COMPRESSION=zstd BATCH_SIZE=500");
  std::string out;
  ASSERT_EQ(
      RunCommand(env + DI_BINARY + " --mode backup --table reserved_seats --table mongodb.movies",
                 &out),
      0)
      << out;
  for (auto [engine, table] :
       {std::pair{"postgresql", "reserved_seats"}, std::pair{"mongodb", "movies"}}) {
    fs::path t = dir / "backups" / engine / table;
    ASSERT_TRUE(fs::is_directory(t)) << t;
    std::string run = fs::directory_iterator(t)->path().filename();
    CheckBackup(dir, "zstd -dc",
                std::string("backups/") + engine + "/" + table + "/" + run + "/manifest.json",
                ExpectedCounts(CinemaScale()).at(engine).at(table));
  }
  // Only those two tables were backed up; nothing temporary is left behind.
  EXPECT_FALSE(fs::exists(dir / "backups" / "mysql"));
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
  fs::remove_all(dir);
}

TEST(Backup, SakilaPagilaAndMflixReadBackThroughTheAwsCli) {
  if (!TestDataPresent("sakila") || !TestDataPresent("pagila") || !TestDataPresent("mflix"))
    GTEST_SKIP() << "reference data not found under " << TestDataDir() << " (set TESTDATA_DIR)";
  std::string bucket = UniqueName("di-refdata");
  std::string out;
  ASSERT_EQ(RunCommand(AwsCli() + "s3 mb s3://" + bucket, &out), 0) << out;
  std::string uri = StackConfig().mongo.uri;
  std::string env =
      StackEnv("S3_BUCKET_NAME=" + bucket + " MYSQL_DATABASE=sakila POSTGRES_DATABASE=pagila") +
      "MONGODB_URI=" + uri.substr(0, uri.rfind('/')) + "/mflix ";
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup", &out), 0) << out;
  fs::path root = Download(bucket);
  std::vector<std::string> manifests;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.path().filename() == "manifest.json")
      manifests.push_back(fs::relative(e.path(), root).string());
  EXPECT_EQ(manifests.size(),
            16u + 15u + 4u);  // sakila, pagila (partitions via their parent), mflix
  std::map<std::string, int64_t> want = {
      {"mysql/film/", 1000},      {"mysql/rental/", 16044},    {"postgresql/payment/", 16049},
      {"postgresql/film/", 1000}, {"mongodb/theaters/", 1564}, {"mongodb/embedded_movies/", 101}};
  for (const auto& key : manifests) {
    int64_t rows = ReadJson(root / key)["row_count"];
    for (const auto& [frag, n] : want)
      if (key.find(frag) != std::string::npos) {
        EXPECT_EQ(rows, n) << key;
      }
    CheckBackup(root, "gunzip -c", key, rows);
  }
  fs::remove_all(root);
}

TEST(Backup, LargeTablesSplitIntoPartsAndFailuresListNothing) {
  fs::path dir = fs::path(::testing::TempDir()) / UniqueName("di-parts");
  auto store = MakeLocalStore(dir.string());
  auto src = OpenSource(Engine::kPostgres, StackConfig());
  ASSERT_TRUE(src.ok());
  auto info = (*src)->Describe("reservations");
  ASSERT_TRUE(info.ok());
  BackupOptions o;
  o.part_bytes = 256 * 1024;  // ~4 MB of JSON -> many parts
  o.batch_size = 250;
  TableBackup r = BackupTable(**src, *info, *store, o, "20260101T000000Z");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_GT(r.parts, 5u);
  CheckBackup(dir, "gunzip -c", r.manifest_key, 10000 * CinemaScale());
  json m = ReadJson(dir / r.manifest_key);
  EXPECT_EQ(m["cursor_column"], "updated_at");
  EXPECT_EQ(m["watermark"]["key"][0], 10000 * CinemaScale());  // the last row in (updated_at, id)
  EXPECT_EQ(m["columns"][5]["source_type"], "numeric(10,2)");

  // Stopped half way: parts may exist, but no manifest, so it is not a backup.
  std::atomic<bool> stop{false};
  o.stop = &stop;
  o.on_progress = [&](int64_t rows) {
    if (rows >= 3000) stop = true;
  };
  TableBackup cut = BackupTable(**src, *info, *store, o, "20260101T000001Z");
  EXPECT_EQ(cut.status.code(), StatusCode::kAborted);
  EXPECT_FALSE(fs::exists(dir / "backups/postgresql/reservations/20260101T000001Z/manifest.json"));
  fs::remove_all(dir);
}

TEST(Backup, UnknownTableIsAClearError) {
  std::string out;
  EXPECT_EQ(RunCommand(StackEnv("S3_BUCKET_NAME=file:///tmp/x") + DI_BINARY +
                           " --mode backup --table nope",
                       &out),
            2);
  EXPECT_NE(
      out.find(
          "table 'nope' is not in mysql (3 tables), postgresql (4 tables), mongodb (2 tables)"),
      std::string::npos)
      << out;
}

// The MongoDB, PostgreSQL and HTTP client libraries are opened on first use (core/lazy_lib.h):
// a MariaDB table backed up to a local folder loads none of them (they cost ~10 ms a run).
TEST(Backup, MariaDbToLocalFolderLoadsNoOtherClientLibrary) {
  fs::path dir = fs::temp_directory_path() / "di-backup-lazy";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string out;
  ASSERT_EQ(RunCommand(StackEnv("S3_BUCKET_NAME=file://" + dir.string() + " LD_DEBUG=files") +
                           DI_BINARY + " --mode backup --table mysql.schedules",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("libmariadb.so"), std::string::npos) << out;  // the trace is there
  for (const char* lib : {"libmongoc", "libbson", "libpq.so", "libcurl"})
    EXPECT_EQ(out.find(lib), std::string::npos) << lib << " was loaded";
  fs::remove_all(dir);
}

// --table means nothing to a migration (it runs, and resumes, every mapped table): refused by
// name rather than ignored.
TEST(Backup, TableOptionOutsideItsModesIsRefused) {
  std::string out;
  EXPECT_EQ(RunCommand(StackEnv("S3_BUCKET_NAME=file:///tmp/x") + DI_BINARY +
                           " --mode migrate --table mysql.rooms",
                       &out),
            2);
  EXPECT_NE(out.find("--table applies to --mode backup, sync, verify, restore and stream; --mode "
                     "migrate runs every mapped table (choose them with MAPPING_FILE)"),
            std::string::npos)
      << out;
  EXPECT_EQ(
      RunCommand(StackEnv("S3_BUCKET_NAME=file:///tmp/x") + DI_BINARY + " --mode backup --catch-up",
                 &out),
      2);
  EXPECT_NE(out.find("--catch-up applies to --mode stream only"), std::string::npos) << out;
}

}  // namespace
}  // namespace di::testing
