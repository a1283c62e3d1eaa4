// The daemon's log: one line per event to stderr (journald adds the time and the unit), JSON
// when asked for. Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace edd::service {

class Log {
 public:
  explicit Log(const config::LogConfig& c);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  void set_level(config::LogLevel level);
  void debug(const std::string& m);
  void info(const std::string& m);
  void warn(const std::string& m);
  void error(const std::string& m);

 private:
  std::string text(const std::string& m) const;

  bool json_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace edd::service
