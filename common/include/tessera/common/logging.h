// Structured, leveled logging. Quiet by default (warnings and errors only).
//
// A Logger is an object passed to whoever logs (no global logger). Each line is
// "ts=<iso8601> level=<lvl> msg=\"...\" key=value ..." (logfmt), or JSON with SetJson(true),
// written to one fd (stderr by default).
//
// Thread-safety: Log() may be called from any thread; lines are written atomically.
#pragma once

#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tessera {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warn", "error", "off"; returns false on anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);

using LogField = std::pair<std::string_view, std::string>;

class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::kWarn, int fd = 2) : level_(level), fd_(fd) {}

  void SetLevel(LogLevel level) { level_.store(level); }
  LogLevel level() const { return level_.load(); }
  void SetJson(bool json) { json_.store(json); }
  bool Enabled(LogLevel level) const { return level >= level_.load(); }

  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  void Debug(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kDebug, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kInfo, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kWarn, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(LogLevel::kError, msg, f);
  }

  // Formats one line without writing it (used by Log and by tests).
  std::string Format(LogLevel level, std::string_view msg,
                     std::initializer_list<LogField> fields) const;

 private:
  std::atomic<LogLevel> level_;
  std::atomic<bool> json_{false};
  int fd_;
};

}  // namespace tessera
