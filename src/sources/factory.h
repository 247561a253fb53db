// Opening the Source of an engine: the SourceFactory interface the pipelines are handed (so a
// test hands fakes), ServerSources — the configured servers, with the cache of parked
// connections it owns — and OpenSource, one connection without a cache.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "sources/source.h"

namespace di {

// Where a run's sources come from. Implementations are thread-safe: a run's workers open
// their connections through one factory.
class SourceFactory {
 public:
  virtual ~SourceFactory() = default;
  // A new connection to `engine` (`database` non-empty: that database of the engine's server
  // instead of the configured one). Errors name the server and what to check.
  virtual Result<std::unique_ptr<Source>> Open(Engine engine, const std::string& database = "") = 0;
  // Hands an open source back for a later Open of the same engine and database; the default
  // closes it.
  virtual void Park(Engine engine, const std::string& database, std::unique_ptr<Source> source);
};

// The servers of a Config. A parked source is handed to the next Open of the same engine,
// server, user and database within a few seconds (a run's table listing passes its
// connection on to the first worker: one login fewer, ~10 ms with PostgreSQL's SCRAM); older
// ones are closed. Owns the parked connections; closes them when destroyed.
class ServerSources : public SourceFactory {
 public:
  explicit ServerSources(Config config) : config_(std::move(config)) {}
  Result<std::unique_ptr<Source>> Open(Engine engine, const std::string& database = "") override;
  void Park(Engine engine, const std::string& database, std::unique_ptr<Source> source) override;

 private:
  struct Parked {
    std::string key;  // what it was opened with (in memory only: it holds the password)
    std::unique_ptr<Source> source;
    std::chrono::steady_clock::time_point at;
  };
  std::unique_ptr<Source> TakeParked(const std::string& key);

  const Config config_;
  std::mutex mu_;
  std::vector<Parked> parked_;
};

// One new connection to `engine` of `config` (no cache).
Result<std::unique_ptr<Source>> OpenSource(Engine engine, const Config& config,
                                           const std::string& database = "");
// "mysql" | "postgresql" | "mongodb" (also "mariadb", "postgres", "mongo").
Result<Engine> ParseEngine(std::string_view name);

}  // namespace di
