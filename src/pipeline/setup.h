// `--mode setup`: creates the bucket and the DynamoDB tables of docs/dynamodb-mapping.md (with
// their global secondary indexes) plus the state table. Idempotent: what exists is left alone and
// reported as such.
#pragma once

#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "aws/s3_client.h"
#include "config/config.h"
#include "pipeline/mapping.h"

namespace di {

struct SetupReport {
  std::vector<std::string> created;
  std::vector<std::string> existed;
  std::vector<std::string> notes;  // choices setup made (a key type it inferred)
};

// Creates what is missing — the bucket, the DynamoDB tables `mapping` writes to (with their
// indexes) and the state table; a `file://` bucket location is created as a directory.
Result<SetupReport> RunSetup(const Config& config, const std::vector<TableMapping>& mapping,
                             aws::S3Client& s3, aws::DynamoDbClient& dynamodb);

// `--mode setup --with-stream`, PostgreSQL's change capture: for each PostgreSQL database of
// `mapping`, the server checked for logical replication (the setting to change named), the
// publication STREAM_PUBLICATION over its mapped tables and their embedded child tables,
// and the permanent slot StreamSlotName. Idempotent. The first error stops it, naming the
// server, the table or the setting and the fix.
Result<SetupReport> RunStreamSetup(const Config& config, const std::vector<TableMapping>& mapping);
// The slot of a PostgreSQL database: STREAM_SLOT for POSTGRES_DATABASE (or ""), else
// "<STREAM_SLOT>_<database>" (lowercased, other characters '_', at most 63).
std::string StreamSlotName(const Config& config, const std::string& database);

}  // namespace di
