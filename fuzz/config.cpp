// libFuzzer target: configuration validation. The input is a `.env` file; its variables go
// through LoadConfig (config/config.h) as the process environment would, and each value
// through the single-value validators (config/validate.h). Every outcome is a Config or an
// InvalidArgument naming the variable; the printed configuration is made of whatever loaded.
#include <map>

#include "config/config.h"
#include "config/dotenv.h"
#include "config/env.h"
#include "config/validate.h"
#include "core/log.h"
#include "fuzz/fuzz_support.h"

namespace {

void Validators(const std::string& v) {
  using std::chrono::milliseconds;
  (void)di::ParseIntInRange(v, -1000, 1000);
  (void)di::ParseDuration(v, milliseconds(600'000));
  (void)di::ParseChoice(v, {"gzip", "zstd", "none"});
  (void)di::ValidateBucketName(v);
  (void)di::ValidateDynamoTableName(v);
  (void)di::ValidateRegion(v);
  (void)di::ValidateUrl(v, {"http", "https"});
  (void)di::ValidateUrl(v, {"mongodb", "postgresql", "mysql"});
  (void)di::ValidateFolder(v);
  (void)di::ValidateReplicationName(v);
  (void)di::UrlQuery(v);
  (void)di::MaskUrlPassword(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pairs = di::ParseDotEnv(di::fuzz::Text(data, size), ".env");
  if (!pairs.ok()) {
    Validators(std::string(di::fuzz::Text(data, size)));
    return 0;
  }
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : *pairs) {
    vars[k] = v;
    Validators(v);
  }
  auto config = di::LoadConfig(di::Env::FromMap(vars));
  if (!config.ok()) {
    di::fuzz::Check(config.status().code() == di::StatusCode::kInvalidArgument,
                    "a configuration refused as something else than InvalidArgument: " +
                        config.status().ToString());
    return 0;
  }
  (void)di::FormatConfig(*config);
  (void)di::SecretsOf(*config);
  return 0;
}
