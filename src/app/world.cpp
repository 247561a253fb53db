#include "app/world.h"

#include <cstdlib>

namespace di {

Result<std::unique_ptr<AppWorld>> AppWorld::Open(const Config& config, const Env& env,
                                                 WorldNeeds needs) {
  std::unique_ptr<AppWorld> w(new AppWorld(config));
  if (!config.s3.is_local() || needs.aws) {
    ASSIGN_OR_RETURN(auto clients, aws::MakeAwsClients(config, env));
    w->clients_ = std::move(clients);
  }
  if (config.s3.is_local()) {
    w->store_ = MakeLocalStore(config.s3.local_path());
  } else {
    w->store_ = MakeS3Store(*w->clients_->s3, config.s3.bucket, config.s3.sse);
    if (needs.bucket_exists) RETURN_IF_ERROR(w->store_->Check());
  }
  StateStore* state = nullptr;
  aws::DynamoDbClient* dynamodb = nullptr;
  if (w->clients_) {
    dynamodb = w->clients_->dynamodb.get();
    w->state_ = std::make_unique<DynamoStateStore>(*dynamodb, config.dynamodb.state_table);
    state = w->state_.get();
    // The crash tests' hooks (docs/configuration.md, "Read outside the configuration"): test-only,
    // off unless set.
    CheckpointFaults faults = CheckpointFaultsFrom(std::getenv("DI_CRASH_AFTER_CHECKPOINTS"),
                                                   std::getenv("DI_SIGTERM_AFTER_CHECKPOINTS"),
                                                   std::getenv("DI_PAUSE_AFTER_CHECKPOINT_MS"));
    if (faults.any()) {
      w->faults_ = std::make_unique<FaultingStateStore>(*state, faults);
      state = w->faults_.get();
    }
  }
  w->world_.reset(new RunWorld{config, w->sources_, *w->store_, state, dynamodb, SystemClock()});
  return w;
}

}  // namespace di
