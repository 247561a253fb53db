// RunWorld: everything outside its own memory that a run reads, writes or waits on — the
// configuration, where sources come from, the object store, the state store, the DynamoDB
// client its sinks write through, and the clock. app/ and api/ build one from the
// configuration; a test builds one of fakes, so resume, checkpoint and report logic runs in
// milliseconds without the stack. A RunWorld only refers: whoever builds it owns the parts and
// keeps them alive while runs use it. Every part is thread-safe (a run's workers share them).
#pragma once

#include "aws/dynamodb_client.h"
#include "config/config.h"
#include "core/clock.h"
#include "pipeline/state.h"
#include "sinks/object_store.h"
#include "sources/factory.h"

namespace di {

struct RunWorld {
  const Config& config;
  SourceFactory& sources;
  ObjectStore& store;
  // Null where the world has no AWS clients (a backup to a local folder): the runs that need
  // them (migrate, sync) then fail with a clear error instead of starting.
  StateStore* state = nullptr;
  aws::DynamoDbClient* dynamodb = nullptr;
  Clock& clock = SystemClock();
};

}  // namespace di
