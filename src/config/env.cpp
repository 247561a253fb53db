#include "config/env.h"

#include <fstream>
#include <sstream>

#include "config/dotenv.h"

extern char** environ;

namespace di {

Env Env::FromMap(const std::map<std::string, std::string>& vars) {
  Env env;
  for (const auto& [k, v] : vars) env.Set(k, v, EnvOrigin::kProcess);
  return env;
}

Result<Env> Env::FromProcess(const std::string& dotenv_path, bool required) {
  Env env;
  std::ifstream in(dotenv_path, std::ios::binary);
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return InvalidArgument("cannot read " + dotenv_path);
    ASSIGN_OR_RETURN(EnvPairs pairs, ParseDotEnv(text.str(), dotenv_path));
    for (auto& [k, v] : pairs) env.Set(k, v, EnvOrigin::kDotEnv);
  } else if (required) {
    return NotFound("env file " + dotenv_path + " does not exist or cannot be read");
  }
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.Set(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)), EnvOrigin::kProcess);
  }
  return env;
}

const Env::Var* Env::Find(std::string_view name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

void Env::Set(std::string name, std::string value, EnvOrigin origin) {
  vars_[std::move(name)] = Var{std::move(value), origin};
}

}  // namespace di
