// Env: a snapshot of the variables the configuration reads, with where each came from.
// The process environment wins over the `.env` file (the usual dotenv rule).
// Immutable after construction; safe to share between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace di {

enum class EnvOrigin { kProcess, kDotEnv };

class Env {
 public:
  struct Var {
    std::string value;
    EnvOrigin origin;
  };

  Env() = default;
  // Tests build an Env from a map; every entry counts as coming from the process.
  static Env FromMap(const std::map<std::string, std::string>& vars);
  // The process environment plus `dotenv_path` when that file exists. A file that exists but
  // cannot be read or parsed is an error naming the file and the line. `required` makes a
  // missing file an error too (for an explicit --env-file).
  static Result<Env> FromProcess(const std::string& dotenv_path, bool required);

  const Var* Find(std::string_view name) const;
  void Set(std::string name, std::string value, EnvOrigin origin);

 private:
  std::map<std::string, Var, std::less<>> vars_;
};

}  // namespace di
