#include "config/validate.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/strings.h"

namespace di {

Result<int64_t> ParseIntInRange(std::string_view text, int64_t min, int64_t max) {
  auto v = ParseInt64(Trim(text));
  std::string range = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v) return InvalidArgument("'" + std::string(text) + "' is not a number; expected " + range);
  if (*v < min || *v > max)
    return InvalidArgument(std::to_string(*v) + " is out of range; expected " + range);
  return *v;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text,
                                                std::chrono::milliseconds max) {
  std::string_view t = Trim(text);
  double scale_ms = 1000.0;
  if (t.size() > 2 && t.substr(t.size() - 2) == "ms") {
    scale_ms = 1.0;
    t.remove_suffix(2);
  } else if (!t.empty() && (t.back() == 's' || t.back() == 'm')) {
    scale_ms = t.back() == 's' ? 1000.0 : 60000.0;
    t.remove_suffix(1);
  }
  std::string accepted = "expected seconds (5, 2.5) or a number with ms, s or m (500ms, 5s, 2m)";
  auto v = ParseDouble(Trim(t));
  if (!v || !std::isfinite(*v) || *v < 0)
    return InvalidArgument("'" + std::string(text) + "' is not a duration; " + accepted);
  double ms = *v * scale_ms;
  if (ms > static_cast<double>(max.count()))
    return InvalidArgument("'" + std::string(text) + "' is too long; at most " +
                           std::to_string(max.count() / 1000) + "s");
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}

Result<std::string> ParseChoice(std::string_view text, const std::vector<std::string>& allowed) {
  std::string lower = ToLower(Trim(text));
  for (const auto& a : allowed)
    if (ToLower(a) == lower) return a;
  return InvalidArgument("'" + std::string(text) + "' is not accepted; expected " +
                         JoinHuman(allowed));
}

Status ValidateBucketName(std::string_view name) {
  if (StartsWith(name, "file://")) {
    std::string_view path = name.substr(7);
    if (path.empty() || path.front() != '/')
      return InvalidArgument("'" + std::string(name) +
                             "' is not a local location; expected file:///absolute/path");
    return Status::Ok();
  }
  std::string rule =
      "expected an S3 bucket name (3-63 characters: lowercase letters, digits, '.' and '-', "
      "starting and ending with a letter or digit) or file:///absolute/path";
  auto bad = [&] { return InvalidArgument("'" + std::string(name) + "' is not valid; " + rule); };
  if (name.size() < 3 || name.size() > 63) return bad();
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
      return bad();
  if (!std::isalnum(static_cast<unsigned char>(name.front())) ||
      !std::isalnum(static_cast<unsigned char>(name.back())) ||
      name.find("..") != std::string_view::npos)
    return bad();
  return Status::Ok();
}

Status ValidateDynamoTableName(std::string_view name) {
  bool ok = name.size() >= 3 && name.size() <= 255;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      ok = false;
  if (ok) return Status::Ok();
  return InvalidArgument("'" + std::string(name) +
                         "' is not a DynamoDB table name; expected 3-255 characters of "
                         "letters, digits, '_', '-' and '.'");
}

Status ValidateRegion(std::string_view region) {
  // Lowercase words separated by '-', the last one a number: us-east-1, ap-southeast-2,
  // us-gov-west-1, cn-north-1.
  auto parts = Split(region, '-');
  bool ok = parts.size() >= 3;
  for (size_t i = 0; ok && i < parts.size(); ++i) {
    if (parts[i].empty()) ok = false;
    for (char c : parts[i]) {
      bool last = i + 1 == parts.size();
      if (last ? !std::isdigit(static_cast<unsigned char>(c))
               : !std::islower(static_cast<unsigned char>(c)))
        ok = false;
    }
  }
  if (ok) return Status::Ok();
  return InvalidArgument("'" + std::string(region) +
                         "' is not an AWS region; expected a name such as us-east-1 or eu-west-3");
}

Status ValidateUrl(std::string_view url, const std::vector<std::string>& schemes) {
  size_t sep = url.find("://");
  std::vector<std::string> shown;
  for (const auto& s : schemes) shown.push_back(s + "://");
  std::string expected = "expected a URL starting with " + JoinHuman(shown);
  if (sep == std::string_view::npos || sep + 3 >= url.size())
    return InvalidArgument("'" + std::string(url) + "' is not a URL; " + expected);
  std::string scheme = ToLower(url.substr(0, sep));
  for (const auto& s : schemes)
    if (s == scheme) return Status::Ok();
  return InvalidArgument("scheme '" + scheme + "' is not accepted; " + expected);
}

Status ValidateTimeZone(std::string_view tz) {
  if (tz == "UTC" || tz == "Etc/UTC") return Status::Ok();
  std::string msg = "'" + std::string(tz) +
                    "' is not a known time zone; expected UTC or an IANA name such as "
                    "Europe/Madrid or America/Bogota";
  if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string_view::npos)
    return InvalidArgument(msg);
  const char* dir = std::getenv("TZDIR");
  std::filesystem::path p =
      std::filesystem::path(dir ? dir : "/usr/share/zoneinfo") / std::string(tz);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return InvalidArgument(msg);
  return Status::Ok();
}

Status ValidateReadableFile(std::string_view path) {
  std::ifstream in{std::string(path)};
  if (!in)
    return InvalidArgument("cannot open '" + std::string(path) + "'; expected a readable file");
  return Status::Ok();
}

namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> UrlQuery(std::string_view url) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t q = url.find('?');
  if (q == std::string_view::npos) return out;
  for (std::string_view part : Split(url.substr(q + 1), '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
    out.emplace_back(PercentDecode(key), PercentDecode(value));
  }
  return out;
}

Status ValidateFolder(std::string_view folder) {
  if (folder.empty() || folder.find("//") != std::string_view::npos ||
      folder.find("..") != std::string_view::npos || folder.front() == '/' || folder.back() == '/')
    return InvalidArgument("'" + std::string(folder) +
                           "' is not a folder name; expected a key prefix such as backups or "
                           "team/backups, without leading or trailing '/'");
  return Status::Ok();
}

Status ValidateReplicationName(std::string_view name) {
  if (name.empty() || name.size() > 63 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos)
    return InvalidArgument("'" + std::string(name) +
                           "' is not a slot or publication name; use 1 to 63 lowercase "
                           "letters, digits and '_', such as data_ingestion");
  return Status::Ok();
}

}  // namespace di
