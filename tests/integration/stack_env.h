// Shared by the integration tests: the configuration of the local stack (stack.env, with the
// process environment winning over it) and the dataset's scale.
#pragma once

#include <libpq-fe.h>
#include <mysql.h>
#include <cstdint>

#include <map>
#include <memory>
#include <string>

#include "aws/client.h"
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
// The stack's moto as an AWS service (S3 or DynamoDB) with fast retries for tests.
aws::ServiceOptions StackService(const std::string& service);
// A shell prefix that runs the venv's AWS CLI against the stack's moto:
// AwsCli() + "s3 cp s3://b/k -".
std::string AwsCli();
std::string VenvPython();
// A shell prefix that loads stack.env for a child command, "set -a && . stack.env && set +a
// && export ... && ", where the variables this process's environment sets win over the
// file (as they do in StackConfig), so a stack on other ports is the one the child talks to.
std::string StackEnvShell();
// For a child started with a clean environment (`env -i ... `): "TSAN_OPTIONS=... " for each
// sanitizer's options this process has (make test-tsan's, make test-asan's), so the child is
// checked as this process is; "" in a plain build's run.
std::string SanitizerOptionsEnv();
// A name unique to this process and call, for buckets and tables: "<prefix>-<pid>-<n>".
std::string UniqueName(const std::string& prefix);
// A loopback port below the kernel's ephemeral range (32768 and up), where the outgoing
// connections of the process under test (databases, moto) cannot take it first, that binds
// right now. Not thread-safe.
int FreeLoopbackPort();
// Loads the cinema dataset again (for tests that change it); returns the loader's output.
int Reseed(std::string* output);
// The public reference data (TESTDATA_DIR, default ../shared/testdata) and whether one of
// its folders ("sakila", "pagila", "mflix") is there.
std::string TestDataDir();
bool TestDataPresent(const std::string& what);
// psql -At (PGTZ=UTC) / mariadb -N -B (utf8mb4) on a database of the stack, run through
// the shell; returns stdout+stderr with trailing newlines trimmed ("" db: none chosen).
std::string PsqlOn(const std::string& db, const std::string& sql);
std::string MariaDbOn(const std::string& db, const std::string& sql);
// Runs a shell command; returns its exit code and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output);
// Runs `transaction` (a shell command writing one transaction to the stack's databases) over
// and over in the background through `migrate` (a shell command running a migrate that pauses
// at each checkpoint, DI_PAUSE_AFTER_CHECKPOINT_MS): the migrate starts once the writers have
// committed 5 transactions, and the writers stop once it has ended (after 20 at least, 5000
// at most), so the run's snapshot always falls among the writes however fast or slow the
// machine. `markers`: the prefix of the writers' marker files ("/tmp/<name>-writers.").
// Returns the migrate's exit code (-1 when the writers could not start), its output in `out`.
int RunUnderWrites(const std::string& transaction, const std::string& migrate,
                   const std::string& markers, std::string* out);

}  // namespace di::testing
