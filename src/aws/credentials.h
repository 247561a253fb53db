// The credentials chain: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), then the shared files (~/.aws/credentials and ~/.aws/config, or
// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE) for AWS_PROFILE (default "default").
// Reads files; no network. Also resolves the region and the per-service endpoints.
#pragma once

#include <map>
#include <string>

#include "aws/sigv4.h"
#include "config/config.h"
#include "config/env.h"
#include "core/status.h"

namespace di::aws {

struct ResolvedAws {
  Credentials credentials;
  std::string credentials_source;  // "environment" or "profile 'x' in <file>"; never secrets
  std::string region;
  std::string s3_endpoint;        // scheme://host[:port], empty for AWS itself
  std::string dynamodb_endpoint;  // idem
};

// `env` supplies HOME, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE.
// No credentials anywhere: Unauthenticated, naming every place looked at.
Result<ResolvedAws> ResolveAws(const AwsSettings& settings, const Env& env);

// Parses an INI file of the AWS shape into section -> key -> value. Sections keep their
// names as written ("default", "profile prod").
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(std::string_view text);

}  // namespace di::aws
