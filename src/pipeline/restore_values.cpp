// Backed-up values as a target's text, for the SQL targets of restore: an instant as wall
// time in a zone, base64 bytes as hex (pipeline/restore_internal.h).
#include "aws/crypto.h"
#include "core/json_encode.h"
#include "pipeline/restore_internal.h"

namespace di::restore_internal {

// "2024-01-02T03:04:05.000006Z" (an instant) -> wall time in `tz`, "2024-01-02 03:04:05.000006";
// other text is returned as it is (e.g. "infinity", a year past 9999).
std::string WallTime(const std::string& iso, const TimeZone& tz) {
  int64_t micros = 0;
  bool has_offset = false;
  if (!ParseSqlTimestamp(iso, &micros, &has_offset)) return iso;
  if (has_offset) micros = tz.UtcMicrosToLocal(micros);
  std::string s = FormatTimestamp(micros);  // ...T...Z
  s[10] = ' ';
  s.pop_back();
  return s;
}

std::string HexOfBase64(const std::string& b64) {
  std::string bytes;
  Base64Decode(b64, &bytes);
  return aws::Hex(bytes);
}

}  // namespace di::restore_internal
