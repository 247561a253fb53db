// TLS to the databases (docs/configuration.md#tls). The stack's PostgreSQL and MariaDB serve
// TLS with a certificate for localhost and 127.0.0.1 signed by the stack's own CA
// (.stack/tls/ca.crt). Through the connection code the program uses (PgConnect, the
// replication connection, MySqlConnect, the warehouse), each mode is held to what it
// promises: the verifying ones connect with the stack's CA and the session really is
// encrypted (pg_stat_ssl, Ssl_cipher), a CA of another authority is refused, the host name
// is checked only where asked (a proxy on 127.0.0.2, a name the certificate does not carry),
// and a server without TLS (a scratch one) is refused wherever TLS is required. Last, the
// binary backs up a table of each engine and restores one over verified TLS.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <mysql.h>
#include <unistd.h>

#include <filesystem>

#include "child_process.h"
#include "core/lazy_lib.h"
#include "sinks/warehouse.h"
#include "sources/mongo_source.h"
#include "sources/pg_replication.h"
#include "sources/postgres_source.h"
#include "stack_env.h"

namespace di::testing {
namespace {

namespace fs = std::filesystem;

class TlsTest : public ::testing::Test {
 protected:
  // A CA of another authority, made with openssl: the stack's certificate does not chain to it.
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / UniqueName("di-tls");
    fs::create_directories(dir_);
    std::string out;
    other_ca_ok_ = RunCommand("cd " + dir_.string() +
                                  " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
                                  "-subj '/CN=another CA' -keyout other.key -out other.crt",
                              &out) == 0;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    ASSERT_TRUE(kPqLibrary.Load().ok());
    ASSERT_TRUE(fs::exists(StackCa()))
        << StackCa() << " is missing: a stack started before it served TLS; restart it with "
        << "scripts/stack down mariadb postgres && scripts/stack up";
    ASSERT_TRUE(other_ca_ok_) << "openssl could not make a CA in " << dir_;
  }

  static std::string StackCa() { return std::string(DI_SOURCE_DIR) + "/.stack/tls/ca.crt"; }
  static std::string OtherCa() { return (dir_ / "other.crt").string(); }

  static SqlSettings Pg(const std::string& mode, const std::string& ca = "") {
    SqlSettings s = StackConfig().postgres;
    s.ssl_mode = mode;
    s.ssl_ca = ca;
    return s;
  }
  static SqlSettings My(const std::string& mode, const std::string& ca = "") {
    SqlSettings s = StackConfig().mysql;
    s.ssl_mode = mode;
    s.ssl_ca = ca;
    return s;
  }

  // pg_stat_ssl's `ssl` ("t" or "f") of a new connection with `s`, or "error: <libpq's>".
  static std::string PgSsl(const SqlSettings& s) {
    PgPtr conn(PgConnect(s, {{"connect_timeout", "10"}}), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
      return "error: " + std::string(PQerrorMessage(conn.get()));
    PGresult* r = PQexec(conn.get(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    std::string v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                        ? PQgetvalue(r, 0, 0)
                        : "query failed: " + std::string(PQresultErrorMessage(r));
    PQclear(r);
    return v;
  }

  // The session's Ssl_cipher ("" for plain text) of a new connection with `s`, or
  // "error: <MySqlConnect's message>".
  static std::string MyCipher(const SqlSettings& s) {
    MySqlPtr db(mysql_init(nullptr), &mysql_close);
    if (Status c = MySqlConnect(db.get(), s); !c.ok()) return "error: " + c.message();
    if (mysql_query(db.get(), "SHOW SESSION STATUS LIKE 'Ssl_cipher'") != 0)
      return "query failed: " + std::string(mysql_error(db.get()));
    std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res(mysql_store_result(db.get()),
                                                                 &mysql_free_result);
    MYSQL_ROW row = res ? mysql_fetch_row(res.get()) : nullptr;
    return row && row[1] ? row[1] : "no Ssl_cipher row";
  }

  // A TCP proxy on 127.0.0.2:<port> to the server on `target`: the same server under an
  // address its certificate does not name. Returns the port.
  int ProxyOn2(int target) {
    const int port = FreeLoopbackPort();
    proxy_ = std::make_unique<ChildProcess>(
        "exec " + VenvPython() + " " + DI_SOURCE_DIR + "/tests/integration/tcp_proxy.py " +
        std::to_string(port) + " " + std::to_string(target) + " 127.0.0.2");
    for (int i = 0; i < 200 && proxy_->Output().find("listening") == std::string::npos; ++i)
      ::usleep(25000);
    EXPECT_NE(proxy_->Output().find("listening"), std::string::npos) << proxy_->Output();
    return port;
  }

  static inline fs::path dir_;
  static inline bool other_ca_ok_ = false;
  std::unique_ptr<ChildProcess> proxy_;
};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(TlsTest, PostgresVerifiedSessionsAreEncrypted) {
  EXPECT_EQ(PgSsl(Pg("verify-full", StackCa())), "t");
  EXPECT_EQ(PgSsl(Pg("verify-ca", StackCa())), "t");
  EXPECT_EQ(PgSsl(Pg("require")), "t");
  EXPECT_EQ(PgSsl(Pg("prefer")), "t");  // the default: TLS when the server offers it
  EXPECT_EQ(PgSsl(Pg("disable")), "f");
  // The libpq connection string (the analytics queries) carries the same settings.
  PgPtr conn(PQconnectdb(PgConninfo(Pg("verify-full", OtherCa())).c_str()), &PQfinish);
  EXPECT_NE(PQstatus(conn.get()), CONNECTION_OK);
  EXPECT_TRUE(Has(PQerrorMessage(conn.get()), "certificate verify failed"))
      << PQerrorMessage(conn.get());
}

// Stream mode's replication connection uses the same settings as the reads.
TEST_F(TlsTest, PostgresReplicationConnectionUsesTheSameTls) {
  auto repl = PgReplication::Connect(Pg("verify-full", StackCa()));
  ASSERT_TRUE(repl.ok()) << repl.status().ToString();
  auto rows = (*repl)->Query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], "t");
  auto refused = PgReplication::Connect(Pg("verify-full", OtherCa()));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Has(refused.status().message(), "certificate verify failed"))
      << refused.status().message();
}

TEST_F(TlsTest, PostgresRefusesAnotherAuthorityAndChecksTheHostOnlyInVerifyFull) {
  for (const char* mode : {"verify-ca", "verify-full", "require"}) {  // require + a root file
    std::string r = PgSsl(Pg(mode, OtherCa()));                       // checks the chain too
    EXPECT_TRUE(Has(r, "error: ") && Has(r, "certificate verify failed")) << mode << ": " << r;
  }
  // The source names the server and keeps libpq's reason.
  auto src = OpenPostgresSource({Pg("verify-full", OtherCa())});
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(Has(src.status().message(), "cannot connect") &&
              Has(src.status().message(), "certificate verify failed"))
      << src.status().message();

  SqlSettings via = Pg("verify-full", StackCa());
  via.host = "127.0.0.2";
  via.port = ProxyOn2(StackConfig().postgres.port);
  std::string r = PgSsl(via);
  EXPECT_TRUE(Has(r, "error: ") && Has(r, "does not match host name \"127.0.0.2\"")) << r;
  via.ssl_mode = "verify-ca";
  EXPECT_EQ(PgSsl(via), "t");
}

TEST_F(TlsTest, MySqlModesDoWhatTheySay) {
  EXPECT_EQ(MyCipher(My("DISABLED")), "");
  EXPECT_NE(MyCipher(My("PREFERRED")), "");  // the default: TLS when the server offers it
  for (const auto& s : {My("PREFERRED"), My("REQUIRED"), My("VERIFY_CA", StackCa()),
                        My("VERIFY_IDENTITY", StackCa())}) {
    std::string cipher = MyCipher(s);
    EXPECT_FALSE(cipher.empty() || Has(cipher, "error: ")) << s.ssl_mode << ": " << cipher;
  }
}

TEST_F(TlsTest, MySqlRefusesAnotherAuthorityAndChecksTheHostOnlyInVerifyIdentity) {
  for (const char* mode : {"VERIFY_CA", "VERIFY_IDENTITY"}) {
    std::string r = MyCipher(My(mode, OtherCa()));
    EXPECT_TRUE(Has(r, "error: TLS/SSL error: self-signed certificate in certificate chain") &&
                Has(r, std::string("(TLS: MYSQL_SSL_MODE=") + mode + ", MYSQL_SSL_CA=" + OtherCa()))
        << mode << ": " << r;
  }
  // REQUIRED checks no certificate (the other CA is not given to it: config refuses that).
  EXPECT_FALSE(Has(MyCipher(My("REQUIRED")), "error"));

  SqlSettings via = My("VERIFY_IDENTITY", StackCa());
  via.host = "127.0.0.2";
  via.port = ProxyOn2(StackConfig().mysql.port);
  std::string r = MyCipher(via);
  EXPECT_TRUE(Has(r, "error: TLS/SSL error: Validation of SSL server certificate failed")) << r;
  via.ssl_mode = "VERIFY_CA";
  r = MyCipher(via);
  EXPECT_FALSE(r.empty() || Has(r, "error")) << r;
}

// Servers started without TLS (scratch ones: the stack's have it): every mode that requires
// TLS is refused, naming what it asked for; prefer / PREFERRED and disable / DISABLED
// connect in plain text.
TEST_F(TlsTest, AServerWithoutTlsIsRefusedWhereTlsIsRequired) {
  const std::string scripts = std::string(DI_SOURCE_DIR) + "/tests/integration/";
  const std::string pg_dir = "/tmp/" + UniqueName("scratchpg-tls");
  const std::string my_dir = "/tmp/" + UniqueName("scratchmy-tls");
  const int pg_port = FreeLoopbackPort();
  std::string out;
  ASSERT_EQ(
      RunCommand(scripts + "scratch_postgres.sh start " + pg_dir + " " + std::to_string(pg_port),
                 &out),
      0)
      << out;
  const int my_port = FreeLoopbackPort();
  const int my_rc = RunCommand(
      scripts + "scratch_mariadb.sh start " + my_dir + " " + std::to_string(my_port), &out);

  SqlSettings pg = Pg("require");
  pg.port = pg_port;
  pg.database = "postgres";
  pg.password = "";
  for (const char* mode : {"require", "verify-ca", "verify-full"}) {
    pg.ssl_mode = mode;
    pg.ssl_ca = std::string(mode) == "require" ? "" : StackCa();
    std::string r = PgSsl(pg);
    EXPECT_TRUE(Has(r, "error: ") && Has(r, "server does not support SSL, but SSL was required"))
        << mode << ": " << r;
  }
  pg.ssl_mode = "prefer";
  EXPECT_EQ(PgSsl(pg), "f");

  if (my_rc == 0) {
    SqlSettings my = My("REQUIRED");
    my.port = my_port;
    my.database = "";
    my.password = "";
    for (const auto& [mode, ca] : {std::pair<std::string, std::string>{"REQUIRED", ""},
                                   {"VERIFY_CA", StackCa()},
                                   {"VERIFY_IDENTITY", StackCa()}}) {
      my.ssl_mode = mode;
      my.ssl_ca = ca;
      std::string r = MyCipher(my);
      EXPECT_TRUE(Has(r, "error: ") &&
                  (Has(r, "the server did not use TLS, but MYSQL_SSL_MODE=" + mode +
                              (ca.empty() ? "" : ", MYSQL_SSL_CA=") + ca + " requires it") ||
                   Has(r,
                       "SSL is required, but the server does not support "
                       "it")))
          << mode << ": " << r;
    }
    my.ssl_mode = "PREFERRED";
    my.ssl_ca = "";
    EXPECT_EQ(MyCipher(my), "");
    my.ssl_mode = "DISABLED";
    EXPECT_EQ(MyCipher(my), "");
  }
  std::string ignored;
  RunCommand(scripts + "scratch_postgres.sh stop " + pg_dir, &ignored);
  RunCommand(scripts + "scratch_mariadb.sh stop " + my_dir, &ignored);
  EXPECT_EQ(my_rc, 0) << out;
}

// MongoDB's TLS is the URI's own options, handed to libmongoc as they are: a scratch FerretDB
// serving TLS with the stack's certificate (its plain port beside) is reached with
// tls=true&tlsCAFile=<the stack's CA>, refused with another CA, and refuses plain text;
// tls=true against a plain server fails.
TEST_F(TlsTest, MongoUriTlsOptionsReachTheDriver) {
  const std::string bin = std::string(DI_SOURCE_DIR) + "/tools/ferretdb/ferretdb-local";
  const std::string tls_dir = std::string(DI_SOURCE_DIR) + "/.stack/tls/";
  const int plain = FreeLoopbackPort(), tls = FreeLoopbackPort();
  ChildProcess server("exec " + bin + " --listen 127.0.0.1:" + std::to_string(plain) +
                      " --listen-tls 127.0.0.1:" + std::to_string(tls) + " --tls-cert " + tls_dir +
                      "server.crt --tls-key " + tls_dir + "server.key --data " +
                      (dir_ / "ferretdb").string());
  auto open = [](int port, const std::string& options) {
    MongoSettings m;
    m.uri = "mongodb://127.0.0.1:" + std::to_string(port) +
            "/tls_test?serverSelectionTimeoutMS=3000&" + options;
    m.database = "tls_test";
    return OpenMongoSource(m);
  };
  bool up = false;
  for (int i = 0; i < 100 && !up && server.Running(); ++i) {
    up = open(plain, "tls=false").ok();
    if (!up) ::usleep(100000);
  }
  ASSERT_TRUE(up) << server.Output();
  auto verified = open(tls, "tls=true&tlsCAFile=" + StackCa());
  EXPECT_TRUE(verified.ok()) << verified.status().ToString();
  auto other = open(tls, "tls=true&tlsCAFile=" + OtherCa());
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(Has(other.status().message(), "cannot connect")) << other.status().message();
  EXPECT_FALSE(open(tls, "tls=false").ok());  // the TLS port speaks nothing else
  EXPECT_FALSE(open(plain, "tls=true&tlsCAFile=" + StackCa()).ok());  // no TLS there
  server.Stop();
}

// The warehouse takes libpq's TLS options from its URL as they are.
TEST_F(TlsTest, WarehouseUrlTlsOptionsReachLibpq) {
  const SqlSettings& c = StackConfig().postgres;
  const std::string base = "postgresql://" + c.user + ":" + c.password + "@" + c.host + ":" +
                           std::to_string(c.port) + "/" + c.database + "?sslmode=verify-full";
  auto ok = OpenWarehouse(base + "&sslrootcert=" + StackCa());
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto refused = OpenWarehouse(base + "&sslrootcert=" + OtherCa());
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Has(refused.status().message(), "ANALYTICS_DATABASE_URL") &&
              Has(refused.status().message(), "certificate verify failed") &&
              !Has(refused.status().message(), c.password + "@"))
      << refused.status().message();
}

// The binary end to end: a table of each SQL engine backed up over verified TLS, one restored
// through a --target-url with TLS options; with the other CA it stops naming the reason; a
// bad mode is refused at start.
TEST_F(TlsTest, BackupAndRestoreOverVerifiedTls) {
  const Config& c = StackConfig();
  const fs::path store = dir_ / "store";
  const std::string env = StackEnvShell() + "export S3_BUCKET_NAME=file://" + store.string() +
                          " POSTGRES_SSLMODE=verify-full POSTGRES_SSLROOTCERT=" + StackCa() +
                          " MYSQL_SSL_MODE=VERIFY_IDENTITY MYSQL_SSL_CA=" + StackCa() + " && ";
  std::string out;
  ASSERT_EQ(RunCommand(env + DI_BINARY + " --mode backup --table mysql.rooms --table users", &out),
            0)
      << out;
  EXPECT_TRUE(fs::exists(store / "backups/mysql/rooms"));
  EXPECT_TRUE(fs::exists(store / "backups/postgresql/users"));

  const std::string db = "tls_" + std::to_string(::getpid());
  PsqlOn("postgres", "DROP DATABASE IF EXISTS " + db);
  PsqlOn("postgres", "CREATE DATABASE " + db);
  const std::string target = "postgresql://" + c.postgres.user + ":" + c.postgres.password + "@" +
                             c.postgres.host + ":" + std::to_string(c.postgres.port) + "/" + db +
                             "?sslmode=verify-full&sslrootcert=";
  const std::string restore = StackEnvShell() + "S3_BUCKET_NAME=file://" + store.string() + " " +
                              DI_BINARY +
                              " --mode restore --source-db postgresql --table users --latest "
                              "--target-url '" +
                              target;
  EXPECT_EQ(RunCommand(restore + OtherCa() + "'", &out), 1) << out;
  EXPECT_TRUE(Has(out, "certificate verify failed")) << out;
  EXPECT_EQ(RunCommand(restore + StackCa() + "'", &out), 0) << out;
  EXPECT_EQ(PsqlOn(db, "SELECT count(*) FROM users"),
            PsqlOn(c.postgres.database, "SELECT count(*) FROM users"));
  EXPECT_EQ(RunCommand(restore + StackCa() + "&sslmode=on'", &out), 1) << out;
  EXPECT_TRUE(Has(out, "--target-url: option sslmode: 'on' is not accepted")) << out;
  PsqlOn("postgres", "DROP DATABASE IF EXISTS " + db);

  EXPECT_EQ(RunCommand(StackEnvShell() + "S3_BUCKET_NAME=file://" + store.string() +
                           " POSTGRES_SSLMODE=verify-full POSTGRES_SSLROOTCERT=" + OtherCa() + " " +
                           DI_BINARY + " --mode backup --table users",
                       &out),
            2)  // the table is in no reachable database: named with the reason
      << out;
  EXPECT_TRUE(Has(out, "cinema_reservations: cannot connect") &&
              Has(out, "certificate verify failed"))
      << out;
  EXPECT_EQ(
      RunCommand(StackEnvShell() + "MYSQL_SSL_MODE=VERIFY " + DI_BINARY + " --print-config", &out),
      2)
      << out;
  EXPECT_TRUE(Has(out,
                  "MYSQL_SSL_MODE: 'VERIFY' is not accepted; expected DISABLED, PREFERRED, "
                  "REQUIRED, VERIFY_CA or VERIFY_IDENTITY"))
      << out;
}

}  // namespace
}  // namespace di::testing
