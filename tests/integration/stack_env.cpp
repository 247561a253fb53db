#include "stack_env.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace di::testing {

const Config& StackConfig() {
  static const Config config = [] {
    // stack.env gives the stack's settings; variables set in the environment win.
    auto env = Env::FromProcess(DI_SOURCE_DIR "/stack.env", true);
    if (!env.ok()) throw std::runtime_error(env.status().ToString());
    auto c = LoadConfig(*env);
    if (!c.ok()) throw std::runtime_error(c.status().ToString());
    return *c;
  }();
  return config;
}

int CinemaScale() {
  const char* s = std::getenv("CINEMA_SCALE");
  return s && *s ? std::atoi(s) : 1;
}

std::map<std::string, std::map<std::string, int64_t>> ExpectedCounts(int scale) {
  // The closed forms of tools/datagen/cinema_datagen.py (README.md, "The cinema dataset").
  return {
      {"mysql", {{"rooms", 10 * scale}, {"seats", 1200 * scale}, {"schedules", 300 * scale}}},
      {"postgresql",
       {{"users", 1000 * scale},
        {"reservations", 10000 * scale},
        {"reserved_seats", 25000 * scale},
        {"payments", 9000 * scale}}},
      {"mongodb", {{"genres", 16}, {"movies", 50 * scale}}},
  };
}

MySqlPtr ConnectMySql(bool* connected) {
  const auto& c = StackConfig().mysql;
  MySqlPtr db(mysql_init(nullptr), mysql_close);
  unsigned int proto = MYSQL_PROTOCOL_TCP;
  mysql_options(db.get(), MYSQL_OPT_PROTOCOL, &proto);
  *connected = mysql_real_connect(db.get(), c.host.c_str(), c.user.c_str(), c.password.c_str(),
                                  c.database.c_str(), c.port, nullptr, 0) != nullptr;
  return db;
}

PgPtr ConnectPg() {
  const auto& c = StackConfig().postgres;
  std::string conninfo = "host=" + c.host + " port=" + std::to_string(c.port) + " user=" + c.user +
                         " password=" + c.password + " dbname=" + c.database + " connect_timeout=5";
  return PgPtr(PQconnectdb(conninfo.c_str()), PQfinish);
}

aws::ServiceOptions StackService(const std::string& service) {
  const Config& c = StackConfig();
  aws::ServiceOptions o;
  o.service = service;
  o.region = c.aws.region;
  o.endpoint = c.aws.endpoint_url;
  o.credentials = {c.aws.access_key_id, c.aws.secret_access_key, c.aws.session_token};
  o.retry.max_attempts = 4;
  o.retry.base_delay = std::chrono::milliseconds(10);
  o.retry.max_backoff = std::chrono::milliseconds(100);
  return o;
}

std::string StackEnvShell() {
  std::string path = std::string(DI_SOURCE_DIR) + "/stack.env";
  std::string out = "set -a && . " + path + " && set +a && ";
  std::ifstream in(path);
  std::string line, keep;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    const char* value = std::getenv(key.c_str());
    if (!value) continue;
    keep += " " + key + "='";
    for (const char* c = value; *c; ++c)
      keep += *c == '\'' ? std::string("'\\''") : std::string(1, *c);
    keep += "'";
  }
  return keep.empty() ? out : out + "export" + keep + " && ";
}

std::string VenvPython() {
  return std::string(DI_SOURCE_DIR) + "/.venv/bin/python";
}

std::string AwsCli() {
  const Config& c = StackConfig();
  return "env AWS_ACCESS_KEY_ID=" + c.aws.access_key_id +
         " AWS_SECRET_ACCESS_KEY=" + c.aws.secret_access_key +
         " AWS_DEFAULT_REGION=" + c.aws.region + " " + DI_SOURCE_DIR +
         "/.venv/bin/aws --endpoint-url " + c.aws.endpoint_url + " ";
}

std::string SanitizerOptionsEnv() {
  std::string env;
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"})
    if (const char* v = std::getenv(name); v && *v) env += std::string(name) + "='" + v + "' ";
  return env;
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

int FreeLoopbackPort() {
  static int next = 20000 + getpid() % 1000 * 10;
  for (int tries = 0; tries < 1000; ++tries) {
    int port = next++;
    if (next >= 32000) next = 20000;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  return next;
}

int Reseed(std::string* output) {
  return RunCommand(
      "CINEMA_SCALE=" + std::to_string(CinemaScale()) + " " + DI_SOURCE_DIR + "/scripts/seed",
      output);
}

std::string TestDataDir() {
  const char* d = std::getenv("TESTDATA_DIR");
  return d && *d ? d : std::string(DI_SOURCE_DIR) + "/../shared/testdata";
}

bool TestDataPresent(const std::string& what) {
  return std::filesystem::is_directory(TestDataDir() + "/" + what);
}

namespace {
std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

std::string PsqlOn(const std::string& db, const std::string& sql) {
  const Config& c = StackConfig();
  std::string out;
  RunCommand("PGTZ=UTC PGPASSWORD=" + c.postgres.password + " psql -X -At -q -h " +
                 c.postgres.host + " -p " + std::to_string(c.postgres.port) + " -U " +
                 c.postgres.user + " -d " + (db.empty() ? "postgres" : db) + " -c \"" + sql + "\"",
             &out);
  return TrimEnd(out);
}

std::string MariaDbOn(const std::string& db, const std::string& sql) {
  const Config& c = StackConfig();
  std::string out;
  RunCommand("mariadb --default-character-set=utf8mb4 -N -B -h " + c.mysql.host + " -P " +
                 std::to_string(c.mysql.port) + " -u " + c.mysql.user + " -p" + c.mysql.password +
                 " " + db + " -e \"SET time_zone = '+00:00'; " + sql + "\"",
             &out);
  return TrimEnd(out);
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) output->append(buf.data(), n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int RunUnderWrites(const std::string& transaction, const std::string& migrate,
                   const std::string& markers, std::string* out) {
  for (const char* f : {"started", "stop", "done"}) std::remove((markers + f).c_str());
  const std::string loop = "i=0; while [ $i -lt 20 ] || { [ ! -e " + markers +
                           "stop ] && [ $i -lt 5000 ]; }; do " + transaction +
                           "; i=$((i + 1)); [ $i -eq 5 ] && touch " + markers +
                           "started; done; touch " + markers + "done";
  if (RunCommand(StackEnvShell() + "export PGPASSWORD=\"$POSTGRES_PASSWORD\" && (" + loop +
                     ") >/dev/null 2>&1 &",
                 out) != 0)
    return -1;
  std::string ignored;
  for (int i = 0; i < 300 && RunCommand("test -e " + markers + "started", &ignored) != 0; ++i)
    RunCommand("sleep 0.1", &ignored);
  const int rc = RunCommand(migrate, out);
  RunCommand("touch " + markers + "stop", &ignored);
  for (int i = 0; i < 600 && RunCommand("test -e " + markers + "done", &ignored) != 0; ++i)
    RunCommand("sleep 0.1", &ignored);
  for (const char* f : {"started", "stop", "done"}) std::remove((markers + f).c_str());
  return rc;
}

}  // namespace di::testing
