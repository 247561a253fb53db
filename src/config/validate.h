// Validators for single configuration values. Each returns OK or an InvalidArgument whose
// message says what is accepted (the caller prefixes the variable's name). Pure functions,
// except ValidateTimeZone and ValidateReadableFile which look at the file system.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace di {

Result<int64_t> ParseIntInRange(std::string_view text, int64_t min, int64_t max);
// "5", "2.5", "5s", "500ms", "2m" -> duration. Bare numbers are seconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                std::chrono::milliseconds max);
// Case-insensitive match against `allowed`; returns the canonical spelling from `allowed`.
Result<std::string> ParseChoice(std::string_view text, const std::vector<std::string>& allowed);
Status ValidateBucketName(std::string_view name);       // S3 rules, or a file:///abs/path location
Status ValidateDynamoTableName(std::string_view name);  // 3-255 of [A-Za-z0-9_.-]
Status ValidateRegion(std::string_view region);         // e.g. us-east-1, eu-west-3
// `schemes` like {"http", "https"}; requires scheme://host[...].
Status ValidateUrl(std::string_view url, const std::vector<std::string>& schemes);
Status ValidateTimeZone(std::string_view tz);  // "UTC" or a name under /usr/share/zoneinfo
Status ValidateReadableFile(std::string_view path);
// The options of a URL's query (scheme://host/db?k=v&k2=v2), percent-decoded, in order;
// none when it has no '?'.
std::vector<std::pair<std::string, std::string>> UrlQuery(std::string_view url);
Status ValidateFolder(std::string_view folder);  // an S3 key prefix: non-empty, no "//", no ".."
// A PostgreSQL replication slot's or publication's name as we create them: 1-63 of
// lowercase letters, digits and '_' (a slot allows no other).
Status ValidateReplicationName(std::string_view name);

}  // namespace di
