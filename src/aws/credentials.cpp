#include "aws/credentials.h"

#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace di::aws {
namespace {

std::string EnvValue(const Env& env, std::string_view name) {
  const Env::Var* v = env.Find(name);
  return v ? v->value : std::string();
}

bool ReadIni(const std::string& path, IniFile* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = ParseIni(s.str());
  return true;
}

std::string ExpandHome(const std::string& path, const std::string& home) {
  if (StartsWith(path, "~/")) return home + path.substr(1);
  return path;
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile ini;
  std::string section;
  for (std::string_view raw : Split(text, '\n')) {
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      ini[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || section.empty()) continue;
    ini[section][ToLower(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
  }
  return ini;
}

Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const Env& env) {
  ResolvedAws out;
  const std::string home = EnvValue(env, "HOME");
  std::string profile = settings.profile.empty() ? "default" : settings.profile;
  std::string cred_path = EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE");
  std::string conf_path = EnvValue(env, "AWS_CONFIG_FILE");
  if (cred_path.empty()) cred_path = home + "/.aws/credentials";
  if (conf_path.empty()) conf_path = home + "/.aws/config";
  cred_path = ExpandHome(cred_path, home);
  conf_path = ExpandHome(conf_path, home);

  IniFile creds_ini, conf_ini;
  bool have_creds_file = ReadIni(cred_path, &creds_ini);
  bool have_conf_file = ReadIni(conf_path, &conf_ini);
  const auto* cred_section = creds_ini.count(profile) ? &creds_ini.at(profile) : nullptr;
  std::string conf_name = profile == "default" ? "default" : "profile " + profile;
  const auto* conf_section = conf_ini.count(conf_name) ? &conf_ini.at(conf_name) : nullptr;

  if (!settings.access_key_id.empty()) {
    out.credentials = {settings.access_key_id, settings.secret_access_key, settings.session_token};
    out.credentials_source = "environment";
  } else {
    for (auto [section, path] :
         {std::pair{cred_section, cred_path}, std::pair{conf_section, conf_path}}) {
      if (!section || !section->count("aws_access_key_id")) continue;
      const auto* in = section;  // (a lambda of clang 14 cannot capture a structured binding)
      auto get = [in](const char* k) { return in->count(k) ? in->at(k) : std::string(); };
      out.credentials = {get("aws_access_key_id"), get("aws_secret_access_key"),
                         get("aws_session_token")};
      if (out.credentials.secret_access_key.empty())
        return Unauthenticated("profile '" + profile + "' in " + path +
                               " has aws_access_key_id but no aws_secret_access_key");
      out.credentials_source = "profile '" + profile + "' in " + path;
      break;
    }
  }
  if (out.credentials.access_key_id.empty()) {
    auto state = [](bool file, bool section) {
      return !file ? "file not found" : section ? "no keys in the profile" : "no such profile";
    };
    return Unauthenticated(
        "no AWS credentials found; looked at AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (unset), "
        "profile '" +
        profile + "' in " + cred_path + " (" + state(have_creds_file, cred_section != nullptr) +
        ") and in " + conf_path + " (" + state(have_conf_file, conf_section != nullptr) +
        "). Set the variables, or AWS_PROFILE with a profile that has keys.");
  }

  out.region = settings.region;
  if (!settings.region_from_env && conf_section && conf_section->count("region"))
    out.region = conf_section->at("region");
  out.s3_endpoint =
      !settings.endpoint_url_s3.empty() ? settings.endpoint_url_s3 : settings.endpoint_url;
  out.dynamodb_endpoint = !settings.endpoint_url_dynamodb.empty() ? settings.endpoint_url_dynamodb
                                                                  : settings.endpoint_url;
  return out;
}

}  // namespace di::aws
