// Opens the Source of an engine with the configured connection settings.
#pragma once

#include <memory>

#include "config/config.h"
#include "sources/source.h"

namespace di {

// `database` non-empty: that database of the engine's server instead of the configured one.
Result<std::unique_ptr<Source>> OpenSource(Engine engine, const Config& config,
                                           const std::string& database = "");
// Hands an open source back for the next OpenSource of the same engine, server, user and
// database within a few seconds (the run's table listing passes its connection on to the
// first worker: one connection and one login fewer, ~10 ms with PostgreSQL's SCRAM). Older
// parked sources are closed.
void ParkSource(Engine engine, const Config& config, const std::string& database,
                std::unique_ptr<Source> source);
// "mysql" | "postgresql" | "mongodb" (also "postgres", "mongo").
Result<Engine> ParseEngine(std::string_view name);

}  // namespace di
