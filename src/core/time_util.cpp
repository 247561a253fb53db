#include "core/time_util.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/validate.h"
#include "core/value.h"

namespace di {
namespace {

int64_t ReadBe(const std::string& d, size_t pos, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | static_cast<unsigned char>(d[pos + i]);
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// ".ffffff" (1-9 digits; beyond 6 truncated) at s[pos]; returns micros and advances pos.
int64_t Fraction(std::string_view s, size_t* pos) {
  if (*pos >= s.size() || s[*pos] != '.') return 0;
  ++*pos;
  int64_t v = 0;
  int n = 0;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    if (n < 6) v = v * 10 + (s[*pos] - '0'), ++n;
    ++*pos;
  }
  while (n++ < 6) v *= 10;
  return v;
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const std::shared_ptr<const TimeZone> utc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    z->offsets_ = {0};
    return std::const_pointer_cast<const TimeZone>(z);
  }();
  return utc;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  RETURN_IF_ERROR(ValidateTimeZone(name));
  const char* dir = std::getenv("TZDIR");
  std::string path = std::string(dir ? dir : "/usr/share/zoneinfo") + "/" + name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string d = ss.str();
  auto bad = [&] { return Corruption("time zone file " + path + " is not a TZif file"); };
  if (d.size() < 44 || d.compare(0, 4, "TZif") != 0) return bad();
  auto counts = [&](size_t h, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBe(d, h + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  counts(0, c);
  size_t pos = 44;
  int tsize = 4;
  if (d[4] >= '2') {  // skip the 32-bit block, use the 64-bit one
    pos += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (d.size() < pos + 44) return bad();
    counts(pos, c);
    pos += 44;
    tsize = 8;
  }
  int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt < 1 || d.size() < pos + timecnt * (tsize + 1) + typecnt * 6) return bad();
  auto z = std::make_shared<TimeZone>();
  z->name_ = name;
  std::vector<int32_t> type_off(typecnt);
  size_t types_at = pos + timecnt * (tsize + 1);
  for (int64_t i = 0; i < typecnt; ++i)
    type_off[i] = static_cast<int32_t>(ReadBe(d, types_at + 6 * i, 4));
  z->offsets_.push_back(type_off[0]);
  for (int64_t i = 0; i < timecnt; ++i) {
    z->transitions_.push_back(ReadBe(d, pos + i * tsize, tsize));
    auto idx = static_cast<unsigned char>(d[pos + timecnt * tsize + i]);
    if (idx >= typecnt) return bad();
    z->offsets_.push_back(type_off[idx]);
  }
  return std::const_pointer_cast<const TimeZone>(z);
}

int32_t TimeZone::OffsetAt(int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return offsets_[static_cast<size_t>(it - transitions_.begin())];
}

int64_t TimeZone::LocalToUtc(int64_t local) const {
  if (transitions_.empty()) return local - offsets_[0];
  // Try each offset in force around that wall time; the earliest consistent instant wins.
  int64_t best = 0;
  bool found = false;
  for (int32_t off : {OffsetAt(local - 86400), OffsetAt(local), OffsetAt(local + 86400)}) {
    int64_t utc = local - off;
    if (OffsetAt(utc) == off && (!found || utc < best)) {
      best = utc;
      found = true;
    }
  }
  if (found) return best;
  return local - OffsetAt(local - 86400);  // in a gap: the offset before it
}

namespace {
int64_t FloorSeconds(int64_t micros) {
  return micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
}
}  // namespace

int64_t TimeZone::LocalMicrosToUtc(int64_t local) const {
  int64_t secs = FloorSeconds(local);
  return LocalToUtc(secs) * 1000000 + (local - secs * 1000000);
}

int64_t TimeZone::UtcMicrosToLocal(int64_t utc) const {
  return utc + static_cast<int64_t>(OffsetAt(FloorSeconds(utc))) * 1000000;
}

bool ParseSqlDate(std::string_view s, int32_t* days) {
  int64_t y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d))
    return false;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

bool IsIsoDate(std::string_view s) {
  auto digit = [&](size_t i) { return static_cast<unsigned char>(s[i] - '0') < 10; };
  if (s.size() != 10 || !(digit(0) && digit(1) && digit(2) && digit(3) && s[4] == '-' && digit(5) &&
                          digit(6) && s[7] == '-' && digit(8) && digit(9)))
    return false;
  const int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  const int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool AppendUtcTimestampText(std::string_view s, bool naive_is_utc, std::string& out) {
  if (s.size() >= 3 && s.substr(s.size() - 3) == "+00")
    s.remove_suffix(3);
  else if (!naive_is_utc)
    return false;
  if (s.size() < 19 || s.size() == 20 || s.size() > 26 || !IsIsoDate(s.substr(0, 10))) return false;
  auto digit = [&](size_t i) { return static_cast<unsigned char>(s[i] - '0') < 10; };
  if (!(s[10] == ' ' && digit(11) && digit(12) && s[13] == ':' && digit(14) && digit(15) &&
        s[16] == ':' && digit(17) && digit(18)) ||
      (s[11] - '0') * 10 + (s[12] - '0') > 23 || s[14] > '5' || s[17] > '5')
    return false;
  if (s.size() > 19 && s[19] != '.') return false;
  for (size_t i = 20; i < s.size(); ++i)
    if (!digit(i)) return false;
  const size_t frac = s.size() > 19 ? s.size() - 20 : 0;
  const size_t at = out.size();
  out.resize(at + 29);  // "YYYY-MM-DDTHH:MM:SS.ffffffZ" quoted
  char* o = out.data() + at;
  o[0] = '"';
  std::memcpy(o + 1, s.data(), 10);
  o[11] = 'T';
  std::memcpy(o + 12, s.data() + 11, 8);
  o[20] = '.';
  std::memcpy(o + 21, s.data() + 20, frac);
  std::memset(o + 21 + frac, '0', 6 - frac);
  o[27] = 'Z';
  o[28] = '"';
  return true;
}

bool ParseSqlTimestamp(std::string_view s, int64_t* micros, bool* has_offset) {
  int32_t days;
  int64_t hh, mi, ss;
  if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T') || !ParseSqlDate(s.substr(0, 10), &days) ||
      s[13] != ':' || s[16] != ':' || !Digits(s, 11, 2, &hh) || !Digits(s, 14, 2, &mi) ||
      !Digits(s, 17, 2, &ss) || hh > 24 || mi > 59 || ss > 60)
    return false;
  size_t pos = 19;
  int64_t frac = Fraction(s, &pos);
  int64_t v = (static_cast<int64_t>(days) * 86400 + hh * 3600 + mi * 60 + ss) * 1000000 + frac;
  *has_offset = false;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      *has_offset = true;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int sign = s[pos] == '-' ? -1 : 1;
      int64_t oh = 0, om = 0, os = 0;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      size_t p = pos + 3;
      if (p < s.size() && s[p] == ':') {
        if (!Digits(s, p + 1, 2, &om)) return false;
        p += 3;
        if (p < s.size() && s[p] == ':') {
          if (!Digits(s, p + 1, 2, &os)) return false;
          p += 3;
        }
      }
      if (p != s.size()) return false;
      v -= sign * (oh * 3600 + om * 60 + os) * 1000000;
      *has_offset = true;
    } else {
      return false;
    }
  }
  *micros = v;
  return true;
}

bool ParseSqlTime(std::string_view s, int64_t* micros) {
  int sign = 1;
  if (!s.empty() && s[0] == '-') {
    sign = -1;
    s.remove_prefix(1);
  }
  size_t c1 = s.find(':');
  if (c1 == std::string_view::npos || c1 < 1 || c1 > 3 || s.size() < c1 + 6 || s[c1 + 3] != ':')
    return false;
  int64_t h, m, sec;
  if (!Digits(s, 0, c1, &h) || !Digits(s, c1 + 1, 2, &m) || !Digits(s, c1 + 4, 2, &sec))
    return false;
  size_t pos = c1 + 6;
  int64_t frac = Fraction(s, &pos);
  if (pos != s.size()) return false;
  *micros = sign * ((h * 3600 + m * 60 + sec) * 1000000 + frac);
  return true;
}

}  // namespace di
