// AppWorld: the process's RunWorld (pipeline/world.h) built from the configuration — the
// configured servers (with their connection cache), the AWS clients, the object store of
// S3_BUCKET_NAME, the state table — and the owner of all of them for as long as the process
// runs its modes. With DI_CRASH_AFTER_CHECKPOINTS, DI_SIGTERM_AFTER_CHECKPOINTS or
// DI_PAUSE_AFTER_CHECKPOINT_MS in the environment, the state store is wrapped in the crash tests'
// FaultingStateStore. Built once on the main thread; what it hands out is thread-safe.
#pragma once

#include <memory>
#include <optional>

#include "aws/clients.h"
#include "config/config.h"
#include "config/env.h"
#include "pipeline/state_faults.h"
#include "pipeline/world.h"

namespace di {

struct WorldNeeds {
  bool aws = false;           // DynamoDB and the state table (migrate, sync, verify, api)
  bool bucket_exists = true;  // an S3 bucket must exist (the API starts without: /health says)
};

class AppWorld {
 public:
  // Errors name what is missing and how to get it (`--mode setup` for the bucket).
  static Result<std::unique_ptr<AppWorld>> Open(const Config& config, const Env& env,
                                                WorldNeeds needs);
  AppWorld(const AppWorld&) = delete;
  AppWorld& operator=(const AppWorld&) = delete;

  const RunWorld& world() const { return *world_; }
  ObjectStore& store() { return *store_; }
  aws::AwsClients* clients() { return clients_ ? &*clients_ : nullptr; }

 private:
  explicit AppWorld(const Config& config) : sources_(config) {}
  ServerSources sources_;
  std::optional<aws::AwsClients> clients_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<FaultingStateStore> faults_;
  std::unique_ptr<RunWorld> world_;
};

}  // namespace di
