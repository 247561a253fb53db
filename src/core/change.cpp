#include "core/change.h"

namespace di {

std::string EngineName(Engine e) {
  switch (e) {
    case Engine::kMySql:
      return "mysql";
    case Engine::kPostgres:
      return "postgresql";
    case Engine::kMongo:
      return "mongodb";
  }
  return "unknown";
}

const char* ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kInsert:
      return "insert";
    case ChangeOp::kUpdate:
      return "update";
    case ChangeOp::kDelete:
      return "delete";
    case ChangeOp::kTruncate:
      return "truncate";
  }
  return "unknown";
}

}  // namespace di
