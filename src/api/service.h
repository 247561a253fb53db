// Service: what the REST API and the scheduler start — migrate, backup, sync and restore
// jobs on a JobManager, health checks of every dependency, and the metrics those jobs feed.
// The HTTP layer (server.h) validates requests and calls this; nothing here parses HTTP.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/jobs.h"
#include "api/metrics.h"
#include "api/stream_control.h"
#include "aws/clients.h"
#include "config/config.h"
#include "pipeline/mapping.h"
#include "pipeline/restore.h"
#include "pipeline/world.h"
#include "sinks/object_store.h"

namespace di {

class Service {
 public:
  // `world` (and what it refers to), `clients` and `jobs` outlive the service.
  Service(std::vector<TableMapping> mapping, const RunWorld& world, aws::AwsClients& clients,
          JobManager& jobs);

  const Config& config() const { return world_.config; }
  const std::vector<TableMapping>& mapping() const { return mapping_; }
  ObjectStore& store() { return world_.store; }
  JobManager& jobs() { return jobs_; }

  // Each returns the job id; AlreadyExists when a migration already runs.
  Result<std::string> StartMigrate();
  Result<std::string> StartBackup(const std::vector<std::string>& tables);  // empty: all
  Result<std::string> StartSync(const std::vector<std::string>& tables,
                                std::optional<int64_t> since_micros);
  Result<std::string> StartRestore(const RestoreOptions& options);

  // The change stream run inside the service (GET/POST /stream..., --with-stream).
  StreamControl& stream() { return stream_; }

  // {"status": "ok"|"degraded", "dependencies": {name: {status, latency_ms, error?, required}}}
  // and whether every required one answered (and the stream, when it runs, is not failed,
  // paused or lagging past STREAM_MAX_LAG_SECONDS).
  std::pair<nlohmann::json, bool> Health(std::chrono::milliseconds timeout);

  std::string RenderMetrics();

  // The mapped DynamoDB tables (pipeline/dynamo_browse.h): their status, and pages of items.
  nlohmann::json DynamoTables();
  Result<aws::Page> DynamoItems(const std::string& name, int limit, const nlohmann::json& start);

 private:
  JobResult Finish(const std::string& kind, const struct RunOutcome& outcome);
  std::vector<TableMapping> mapping_;
  const RunWorld& world_;
  aws::AwsClients& clients_;
  JobManager& jobs_;
  StreamControl stream_;  // last: stopped (and joined) first
};

}  // namespace di
