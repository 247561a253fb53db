#include "core/log.h"

#include <cstdio>
#include <mutex>

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include "core/json_encode.h"

namespace di {
namespace {

std::mutex g_mu;
std::vector<std::string> g_secrets;
std::vector<spdlog::sink_ptr> g_sinks;
spdlog::level::level_enum g_level = spdlog::level::info;

const char* LevelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARNING";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRITICAL";
    default:
      return "OFF";
  }
}

// %* : the level in capitals as LOG_LEVEL spells it.
class UpperLevel : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view n = LevelName(msg.level);
    dest.append(n.data(), n.data() + n.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<UpperLevel>();
  }
};

// %& : the message as a JSON string literal.
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()), out);
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  f->add_flag<UpperLevel>('*');
  f->add_flag<JsonMessage>('&');
  if (format == LogFormat::kJson)
    f->set_pattern(
        R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%eZ","logger":"%n","level":"%*","message":%&})");
  else
    f->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %n %* %v");
  return f;
}

// Redacts each message, then hands it to the real sinks.
class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(std::vector<spdlog::sink_ptr> sinks) : sinks_(std::move(sinks)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text = Redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, text);
    for (auto& s : sinks_)
      if (s->should_log(msg.level)) s->log(copy);
  }
  void flush_() override {
    for (auto& s : sinks_) s->flush();
  }
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}

 private:
  std::vector<spdlog::sink_ptr> sinks_;
};

// Where the stderr lines go while routed (RouteStderr); the lock orders them.
std::mutex g_route_mu;
std::function<void(std::string_view)> g_route;

// Formats each message and writes it to stderr, or to the route while one is set.
class StderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::lock_guard<std::mutex> lock(g_route_mu);
    if (g_route) return g_route(std::string_view(line.data(), line.size()));
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

spdlog::level::level_enum ParseLevel(const std::string& s) {
  if (s == "TRACE") return spdlog::level::trace;
  if (s == "DEBUG") return spdlog::level::debug;
  if (s == "WARNING") return spdlog::level::warn;
  if (s == "ERROR") return spdlog::level::err;
  if (s == "CRITICAL") return spdlog::level::critical;
  return spdlog::level::info;
}

void AddSecret(std::vector<std::string>& out, const std::string& s) {
  if (s.size() >= 4) out.push_back(s);
}

// The password inside scheme://user:password@host/...
std::string UrlPassword(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t at = url.find('@', scheme + 3);
  if (at == std::string::npos) return "";
  std::string userinfo = url.substr(scheme + 3, at - scheme - 3);
  size_t colon = userinfo.find(':');
  return colon == std::string::npos ? "" : userinfo.substr(colon + 1);
}

}  // namespace

std::vector<std::string> SecretsOf(const Config& c) {
  std::vector<std::string> out;
  AddSecret(out, c.aws.secret_access_key);
  AddSecret(out, c.aws.session_token);
  AddSecret(out, c.mysql.password);
  AddSecret(out, c.postgres.password);
  AddSecret(out, c.api_token);
  AddSecret(out, UrlPassword(c.mongo.uri));
  AddSecret(out, UrlPassword(c.analytics_database_url));
  AddSecret(out, UrlPassword(c.schedule.redis_url));
  // Longest first, so a secret containing another is masked whole.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

std::string Redact(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lock(g_mu);
  for (const auto& s : g_secrets)
    for (size_t at = out.find(s); at != std::string::npos; at = out.find(s, at + 4))
      out.replace(at, s.size(), "****");
  return out;
}

Status InitLogging(const Config& config, bool to_stderr) {
  std::vector<spdlog::sink_ptr> real;
  if (to_stderr) {
    auto err = std::make_shared<StderrSink>();
    err->set_formatter(MakeFormatter(config.log.format));
    real.push_back(err);
  }
  if (!config.log.file.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.log.file, static_cast<size_t>(config.log.max_bytes),
          static_cast<size_t>(config.log.backups));
      file->set_formatter(MakeFormatter(config.log.format));
      real.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      return InvalidArgument("LOG_FILE: cannot open '" + config.log.file + "': " + e.what() +
                             "; point it to a writable path or set it empty for stderr only");
    }
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_secrets = SecretsOf(config);
  g_sinks = {std::make_shared<RedactingSink>(real)};
  g_level = ParseLevel(config.log.level);
  spdlog::drop_all();
  return Status::Ok();
}

void RouteStderr(std::function<void(std::string_view)> to) {
  std::lock_guard<std::mutex> lock(g_route_mu);
  g_route = std::move(to);
}

std::shared_ptr<spdlog::logger> GetLogger(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (auto l = spdlog::get(name)) return l;
  std::vector<spdlog::sink_ptr> sinks = g_sinks;
  if (sinks.empty()) {
    auto err = std::make_shared<StderrSink>();
    err->set_formatter(MakeFormatter(LogFormat::kText));
    sinks.push_back(err);
  }
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace di
