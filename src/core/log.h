// Logging: `timestamp logger level message` lines (UTC, milliseconds) to stderr and to
// LOG_FILE with size-based rotation (LOG_MAX_BYTES, LOG_BACKUPS), or one JSON object a line
// with LOG_FORMAT=json. Every line passes a redactor first: the configured secrets (keys,
// tokens, passwords, passwords inside URLs) are replaced by **** whatever message carries
// them. Loggers are named by area: "main", "pipeline", "api", "scheduler". The lines meant
// for stderr can be routed elsewhere for a while (RouteStderr: the progress display draws
// them above its block). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "config/config.h"
#include "core/status.h"

namespace di {

// The secret values of `config` worth redacting (empty and very short ones left out).
std::vector<std::string> SecretsOf(const Config& config);

// Sets up the sinks once per process (later calls replace them). `to_stderr` false keeps
// stderr quiet (tests).
Status InitLogging(const Config& config, bool to_stderr = true);

// A logger of `name` sharing the configured sinks (a stderr-only one before InitLogging).
std::shared_ptr<spdlog::logger> GetLogger(const std::string& name);

// From now on the lines the loggers write to stderr go to `to` instead, one whole line
// (its newline included) a call, until RouteStderr is called again with an empty function.
// `to` is called under a lock, so lines never interleave; it must not log.
void RouteStderr(std::function<void(std::string_view)> to);

// `text` with every registered secret replaced by ****.
std::string Redact(std::string_view text);

}  // namespace di
