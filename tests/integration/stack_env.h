// Shared by the integration tests: the configuration of the local stack (stack.env, with the
// process environment winning over it) and the dataset's scale.
#pragma once

#include <libpq-fe.h>
#include <mysql.h>
#include <cstdint>

#include <map>
#include <memory>
#include <string>

#include "config/config.h"

namespace di::testing {

const Config& StackConfig();
int CinemaScale();  // CINEMA_SCALE, default 1
// Expected row counts of the cinema dataset at a scale: engine -> table -> rows.
std::map<std::string, std::map<std::string, int64_t>> ExpectedCounts(int scale);
using MySqlPtr = std::unique_ptr<MYSQL, decltype(&mysql_close)>;
using PgPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
// Connections to the stack's MariaDB (over TCP) and PostgreSQL with StackConfig()'s settings.
// The caller checks mysql_errno / PQstatus: a failed connect still returns the handle.
MySqlPtr ConnectMySql(bool* connected);
PgPtr ConnectPg();
// Runs a shell command; returns its exit code and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output);

}  // namespace di::testing
