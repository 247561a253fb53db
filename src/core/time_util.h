// Parsing of SQL date/time text and time-zone conversion of naive timestamps.
// TimeZone reads the system's TZif files (/usr/share/zoneinfo, or TZDIR); instances are
// immutable and shared between threads. Past the last transition in the file (2037 in
// Debian's files) the last offset is kept.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace di {

class TimeZone {
 public:
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name);
  static std::shared_ptr<const TimeZone> Utc();

  const std::string& name() const { return name_; }
  bool is_utc() const { return transitions_.empty() && offsets_.size() == 1 && offsets_[0] == 0; }
  // UTC offset in seconds in force at a UTC instant.
  int32_t OffsetAt(int64_t utc_seconds) const;
  // Wall-clock seconds in this zone -> UTC seconds. In a DST overlap the earlier instant
  // wins; a wall time inside a DST gap is read with the offset before the gap.
  int64_t LocalToUtc(int64_t local_seconds) const;
  // The same for microsecond values (wall time <-> UTC instant).
  int64_t LocalMicrosToUtc(int64_t local_micros) const;
  int64_t UtcMicrosToLocal(int64_t utc_micros) const;

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // offsets_[0]: before the first transition; then one each
};

// "YYYY-MM-DD" (year 0001-9999) -> days since 1970-01-01.
bool ParseSqlDate(std::string_view s, int32_t* days);
// "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM[:SS]]]" -> microseconds of the wall time
// (no offset) or of the UTC instant (with an offset); `has_offset` says which.
bool ParseSqlTimestamp(std::string_view s, int64_t* micros, bool* has_offset);
// "[-]HHH:MM:SS[.ffffff]" -> microseconds.
bool ParseSqlTime(std::string_view s, int64_t* micros);
// Copying the databases' text where it is already what the backup record holds (the hot path
// of every date and timestamp column):
// "YYYY-MM-DD", a real calendar date of years 0001-9999 (not MariaDB's zero dates, BC dates,
// infinity or longer years, which ParseSqlDate reads otherwise or not at all).
bool IsIsoDate(std::string_view s);
// The text of a UTC timestamp, "YYYY-MM-DD HH:MM:SS[.f to .ffffff]" (a real date, hours to 23,
// seconds to 59) with "+00" (PostgreSQL's timestamptz read in a UTC session) or without it when
// `naive_is_utc`, appended as the record writes its instant: "\"2025-01-31T13:45:00.250000Z\"";
// false (nothing written) for any other text.
bool AppendUtcTimestampText(std::string_view s, bool naive_is_utc, std::string& out);

}  // namespace di
