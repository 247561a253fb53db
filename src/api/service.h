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
#include "aws/clients.h"
#include "config/config.h"
#include "pipeline/mapping.h"
#include "pipeline/restore.h"
#include "sinks/object_store.h"

namespace di {

class Service {
 public:
  Service(Config config, std::vector<TableMapping> mapping, ObjectStore& store,
          aws::AwsClients& clients, JobManager& jobs);

  const Config& config() const { return config_; }
  const std::vector<TableMapping>& mapping() const { return mapping_; }
  ObjectStore& store() { return store_; }
  aws::AwsClients& clients() { return clients_; }
  JobManager& jobs() { return jobs_; }

  // Each returns the job id; AlreadyExists when a migration already runs.
  Result<std::string> StartMigrate();
  Result<std::string> StartBackup(const std::vector<std::string>& tables);  // empty: all
  Result<std::string> StartSync(const std::vector<std::string>& tables,
                                std::optional<int64_t> since_micros);
  Result<std::string> StartRestore(const RestoreOptions& options);

  // {"status": "ok"|"degraded", "dependencies": {name: {status, latency_ms, error?, required}}}
  // and whether every required one answered.
  std::pair<nlohmann::json, bool> Health(std::chrono::milliseconds timeout);

  std::string RenderMetrics();

 private:
  JobResult Finish(const std::string& kind, const struct RunOutcome& outcome);
  Config config_;
  std::vector<TableMapping> mapping_;
  ObjectStore& store_;
  aws::AwsClients& clients_;
  JobManager& jobs_;
};

}  // namespace di
