// The OpenAPI 3 description of the REST API; a test keeps it equal to ApiServer::Routes().
#include <nlohmann/json.hpp>

#include "api/server.h"

namespace di {
namespace {

using J = nlohmann::json;

J Err(const char* what) {
  return {
      {"description", what},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

J JobAccepted() {
  return {
      {"description", "job accepted; follow Location (/jobs/{id})"},
      {"headers", {{"Location", {{"schema", {{"type", "string"}}}}}}},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/JobRef"}}}}}}}};
}

J JobDone() {
  return {
      {"description", "with ?wait=true: the finished job"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Job"}}}}}}}};
}

J WaitParam() {
  return {{"name", "wait"},
          {"in", "query"},
          {"schema", {{"type", "boolean"}}},
          {"description", "answer when the job has finished"}};
}

// The paths that start jobs (and /health): migrate, backup, sync, restore.
void JobPaths(J& p, const J& open) {
  J ok = {{"description", "OK"}};
  p["/health"]["get"] = {
      {"summary", "Each dependency's status and latency"},
      {"security", open},
      {"responses", {{"200", ok}, {"503", Err("a required dependency is down")}}}};
  p["/migrate"]["post"] = {{"summary", "Full migration: DynamoDB, backups, warehouse, report"},
                           {"parameters", {WaitParam()}},
                           {"responses",
                            {{"202", JobAccepted()},
                             {"200", JobDone()},
                             {"401", Err("missing or wrong token")},
                             {"409", Err("a migration is already running")}}}};
  p["/backup"]["post"] = {
      {"summary", "Backup of every table, or of `tables`"},
      {"parameters", {WaitParam()}},
      {"requestBody",
       {{"required", false},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties",
               {{"tables", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}}}}}}}}},
      {"responses",
       {{"202", JobAccepted()},
        {"200", JobDone()},
        {"400", Err("malformed body")},
        {"401", Err("missing or wrong token")},
        {"404", Err("unknown table")}}}};
  p["/sync/{table_name}"]["post"] = {
      {"summary", "Incremental sync of one mapped table"},
      {"parameters",
       {{{"name", "table_name"},
         {"in", "path"},
         {"required", true},
         {"schema", {{"type", "string"}}}},
        WaitParam()}},
      {"requestBody",
       {{"required", false},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties",
               {{"last_sync_time", {{"type", "string"}, {"format", "date-time"}}}}}}}}}}}}},
      {"responses",
       {{"202", JobAccepted()},
        {"200", JobDone()},
        {"400", Err("malformed body or timestamp")},
        {"401", Err("missing or wrong token")},
        {"404", Err("table not mapped")}}}};
  p["/restore"]["post"] = {
      {"summary", "Restore a backup into a database"},
      {"parameters", {WaitParam()}},
      {"requestBody",
       {{"required", true},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"required", {"source_db", "table"}},
              {"properties",
               {{"source_db", {{"type", "string"}, {"enum", {"mysql", "postgresql", "mongodb"}}}},
                {"table", {{"type", "string"}}},
                {"run_id", {{"type", "string"}}},
                {"latest", {{"type", "boolean"}}},
                {"target_url", {{"type", "string"}}},
                {"target_table", {{"type", "string"}}},
                {"if_exists",
                 {{"type", "string"}, {"enum", {"fail", "replace", "append"}}}}}}}}}}}}}},
      {"responses",
       {{"202", JobAccepted()},
        {"200", JobDone()},
        {"400", Err("malformed body")},
        {"401", Err("missing or wrong token")},
        {"404", Err("no complete backup of that table")}}}};
}

// The paths that read: backups, DynamoDB, jobs, metrics, this document.
void ReadPaths(J& p, const J& open) {
  J ok = {{"description", "OK"}};
  p["/backups"]["get"] = {
      {"summary", "Complete (restorable) backups, newest first"},
      {"parameters",
       {{{"name", "source_db"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
        {{"name", "table_name"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
        {{"name", "limit"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"maximum", 1000}}}},
        {{"name", "cursor"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200", ok}, {"400", Err("bad parameter")}, {"401", Err("missing or wrong token")}}}};
  p["/dynamodb/tables"]["get"] = {
      {"summary", "The mapped DynamoDB tables with item counts and status"},
      {"responses", {{"200", ok}, {"401", Err("missing or wrong token")}}}};
  p["/dynamodb/{table_name}/items"]["get"] = {
      {"summary", "Items of a mapped table, paginated with a cursor"},
      {"parameters",
       {{{"name", "table_name"},
         {"in", "path"},
         {"required", true},
         {"schema", {{"type", "string"}}}},
        {{"name", "limit"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"maximum", 1000}}}},
        {{"name", "cursor"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200", ok},
        {"400", Err("bad parameter")},
        {"401", Err("missing or wrong token")},
        {"404", Err("not a mapped table")}}}};
  p["/jobs"]["get"] = {{"summary", "Every job of this process, newest first"},
                       {"responses", {{"200", ok}, {"401", Err("missing or wrong token")}}}};
  p["/jobs/{id}"]["get"] = {
      {"summary", "A job's state, progress per table, rows, errors and report"},
      {"parameters",
       {{{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200", JobDone()}, {"401", Err("missing or wrong token")}, {"404", Err("unknown job")}}}};
  p["/metrics"]["get"] = {
      {"summary", "Prometheus text metrics"}, {"security", open}, {"responses", {{"200", ok}}}};
  J stream = {
      {"description", "the stream's state"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Stream"}}}}}}}};
  p["/stream"]["get"] = {
      {"summary", "Change capture: state, confirmed place, lag, changes per table and operation"},
      {"responses", {{"200", stream}, {"401", Err("missing or wrong token")}}}};
  p["/stream/start"]["post"] = {
      {"summary", "Start change capture inside the service"},
      {"responses",
       {{"202", stream}, {"401", Err("missing or wrong token")}, {"409", Err("already running")}}}};
  p["/stream/stop"]["post"] = {
      {"summary", "Stop change capture after the batch in hand (everything applied confirmed)"},
      {"responses", {{"200", stream}, {"401", Err("missing or wrong token")}}}};
  p["/openapi.json"]["get"] = {
      {"summary", "This document"}, {"security", open}, {"responses", {{"200", ok}}}};
}

J Build() {
  J bearer = J::array({{{"bearer", J::array()}}});
  J open = J::array();
  J doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "data-ingestion"},
        {"version", "1"},
        {"description", "Cinema data into S3, DynamoDB and a PostgreSQL warehouse."}}},
      {"security", bearer},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties",
             {{"error", {{"type", "string"}}},
              {"field", {{"type", "string"}, {"description", "the request field at fault"}}}}}}},
          {"JobRef",
           {{"type", "object"},
            {"properties",
             {{"job_id", {{"type", "string"}}},
              {"location", {{"type", "string"}}},
              {"state", {{"type", "string"}}}}}}},
          {"Stream",
           {{"type", "object"},
            {"properties",
             {{"state",
               {{"type", "string"},
                {"enum", {"starting", "running", "paused", "stopped", "failed"}}}},
              {"where", {{"type", "string"}}},
              {"confirmed", {{"type", "string"}, {"description", "the source place confirmed"}}},
              {"lag_seconds", {{"type", "number"}}},
              {"lag_bytes", {{"type", "integer"}}},
              {"changes", {{"type", "integer"}}},
              {"restarts", {{"type", "integer"}}},
              {"last_error", {{"type", "string"}}},
              {"was_running", {{"type", "boolean"}}},
              {"tables",
               {{"type", "object"},
                {"description", "per table: changes applied per operation"}}}}}}},
          {"Job",
           {{"type", "object"},
            {"properties",
             {{"id", {{"type", "string"}}},
              {"kind", {{"type", "string"}, {"enum", {"migrate", "backup", "sync", "restore"}}}},
              {"state",
               {{"type", "string"},
                {"enum", {"queued", "running", "succeeded", "partial", "failed", "stopped"}}}},
              {"progress", {{"type", "object"}, {"description", "rows per table task"}}},
              {"run_id", {{"type", "string"}, {"nullable", true}}},
              {"report_key", {{"type", "string"}, {"nullable", true}}},
              {"errors", {{"type", "array"}, {"items", {{"type", "string"}}}}},
              {"result", {{"type", "object"}}}}}}}}}}},
      {"paths", J::object()}};
  JobPaths(doc["paths"], open);
  ReadPaths(doc["paths"], open);
  return doc;
}

}  // namespace

const std::string& OpenApiDocument() {
  static const std::string doc = Build().dump(2) + "\n";
  return doc;
}

}  // namespace di
