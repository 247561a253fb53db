// Opens the Source of an engine with the configured connection settings.
#pragma once

#include <memory>

#include "config/config.h"
#include "sources/source.h"

namespace di {

// `database` non-empty: that database of the engine's server instead of the configured one.
Result<std::unique_ptr<Source>> OpenSource(Engine engine, const Config& config,
                                           const std::string& database = "");
// "mysql" | "postgresql" | "mongodb" (also "postgres", "mongo").
Result<Engine> ParseEngine(std::string_view name);

}  // namespace di
