// libFuzzer target: cron expressions (scheduler/cron.h). The input is the expression, then
// after a NUL byte eight bytes of a start time (from 1970 to 2400, as a clock gives). Parse
// must accept or name the field; the next firing must come after the start, be a minute
// boundary, and match the expression on the wall clock (UTC and a zone with DST).
#include <cstring>

#include "core/time_util.h"
#include "fuzz/fuzz_support.h"
#include "scheduler/cron.h"

namespace {

void CheckFiring(const di::CronExpr& c, int64_t start, const di::TimeZone& tz) {
  auto next = c.NextAfter(start, tz);
  if (!next) return;
  di::fuzz::Check(*next > start, "'" + c.text() + "' fires at or before its start in " + tz.name());
  if (tz.is_utc()) {
    di::fuzz::Check(*next % 60 == 0, "'" + c.text() + "' fires off a minute boundary");
    int64_t minute = *next / 60 % 60, hour = *next / 3600 % 24;
    di::fuzz::Check(
        c.minutes()[static_cast<size_t>(minute)] && c.hours()[static_cast<size_t>(hour)],
        "'" + c.text() + "' fires at a minute or hour it does not list");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = di::fuzz::Text(data, size);
  size_t nul = in.find('\0');
  std::string_view text = in.substr(0, nul);
  uint64_t raw = 1'733'000'000;  // 2024-11-30
  if (nul != std::string_view::npos) {
    std::string_view t = in.substr(nul + 1);
    raw = 0;
    std::memcpy(&raw, t.data(), std::min(t.size(), sizeof raw));
  }
  constexpr int64_t kYear2400 = 13'574'563'200;
  const int64_t start = static_cast<int64_t>(raw % static_cast<uint64_t>(kYear2400));
  auto c = di::CronExpr::Parse(text);
  if (!c.ok()) {
    const std::string& m = c.status().message();
    di::fuzz::Check(m.rfind("field ", 0) == 0 || m.find("fields; expected 5") != std::string::npos,
                    "a cron error names neither a field nor the field count: " + m);
    return 0;
  }
  di::fuzz::Check(di::CronExpr::Parse(c->text()).ok(), "'" + c->text() + "' does not parse again");
  CheckFiring(*c, start, *di::TimeZone::Utc());
  static const auto berlin = di::TimeZone::Load("Europe/Berlin");
  if (berlin.ok()) CheckFiring(*c, start, **berlin);
  return 0;
}
