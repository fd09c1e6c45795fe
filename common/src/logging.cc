#include "tessera/common/logging.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace tessera {

namespace {

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "?";
}

// Quotes a value for logfmt/JSON when needed, escaping quotes, backslashes and controls.
void AppendQuoted(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

std::string Timestamp() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
  return buf;
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  for (LogLevel l :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

std::string Logger::Format(LogLevel level, std::string_view msg,
                           std::initializer_list<LogField> fields) const {
  std::string line;
  if (json_.load()) {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"msg\":";
    AppendQuoted(line, msg);
    for (const auto& [key, value] : fields) {
      line += ",";
      AppendQuoted(line, key);
      line += ":";
      AppendQuoted(line, value);
    }
    line += "}\n";
    return line;
  }
  line = "ts=" + Timestamp() + " level=" + std::string(LevelName(level)) + " msg=";
  AppendQuoted(line, msg);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    if (NeedsQuotes(value)) {
      AppendQuoted(line, value);
    } else {
      line += value;
    }
  }
  line += '\n';
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!Enabled(level) || level == LogLevel::kOff) return;
  std::string line = Format(level, msg, fields);
  // One write per line keeps lines from different threads whole.
  ssize_t rc = ::write(fd_, line.data(), line.size());
  (void)rc;
}

}  // namespace tessera
