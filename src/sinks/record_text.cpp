#include "sinks/record_text.h"

#include "aws/crypto.h"
#include "core/json_encode.h"

namespace di {

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

}  // namespace di
