#include "service/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace edd::service {

namespace {
constexpr const char* kLoggerName = "etcd-defragd";
}  // namespace

Log::Log(const config::LogConfig& c) : json_(c.format == config::LogFormat::kJson) {
  logger_ = spdlog::stderr_logger_mt(kLoggerName);
  logger_->set_pattern(json_ ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%v})"
                             : "%Y-%m-%dT%H:%M:%S.%e %l %v",
                       spdlog::pattern_time_type::utc);
  logger_->flush_on(spdlog::level::trace);
  set_level(c.level);
}

Log::~Log() { spdlog::drop(kLoggerName); }

void Log::set_level(config::LogLevel level) {
  static constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::trace,
                                                          spdlog::level::debug, spdlog::level::info,
                                                          spdlog::level::warn, spdlog::level::err};
  logger_->set_level(kLevels[static_cast<int>(level)]);
}

void Log::debug(const std::string& m) { logger_->debug(text(m)); }
void Log::info(const std::string& m) { logger_->info(text(m)); }
void Log::warn(const std::string& m) { logger_->warn(text(m)); }
void Log::error(const std::string& m) { logger_->error(text(m)); }

std::string Log::text(const std::string& m) const {
  // In JSON the message is a string value: quotes and newlines in it are escaped.
  return json_ ? boost::json::serialize(boost::json::string(m)) : m;
}

}  // namespace edd::service
