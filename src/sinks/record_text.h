// Backed-up values (docs/formats.md, Records) as a SQL database's text, for the database
// sinks of restore (sinks/database_sink.h): an instant as wall time in a zone, base64 bytes
// as hex. Pure functions.
#pragma once

#include <string>

#include "core/time_util.h"

namespace di {

// "2024-01-02T03:04:05.000006Z" (an instant) -> wall time in `tz`, "2024-01-02 03:04:05.000006";
// other text is returned as it is (e.g. "infinity", a year past 9999).
std::string WallTime(const std::string& iso, const TimeZone& tz);

// Base64 text -> the bytes' lowercase hex.
std::string HexOfBase64(const std::string& b64);

}  // namespace di
