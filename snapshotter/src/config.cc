#include "tessera/snapshotter/config.h"

#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/common/io.h"

namespace tessera::snapshotter {
namespace {

Error Bad(const std::string& key, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, "config key \"" + key + "\": " + what);
}

Result<std::string> GetString(const nlohmann::json& v, const std::string& key) {
  if (!v.is_string()) return Bad(key, "must be a string");
  return v.get<std::string>();
}

Status ApplyKey(const std::string& key, const nlohmann::json& v, Config* c) {
  if (key == "root" || key == "address") {
    TRY(std::string s, GetString(v, key));
    if (s.empty() || s.front() != '/') return Bad(key, "must be an absolute path");
    (key == "root" ? c->root : c->address) = s;
  } else if (key == "log_level") {
    TRY(std::string s, GetString(v, key));
    if (!ParseLogLevel(s, &c->log_level)) return Bad(key, "debug, info, warn, error or off");
  } else if (key == "daemon_mode") {
    TRY(std::string s, GetString(v, key));
    if (s == "shared") {
      c->daemon_mode = DaemonMode::kShared;
    } else if (s == "per-image") {
      c->daemon_mode = DaemonMode::kPerImage;
    } else {
      return Bad(key, "shared or per-image");
    }
  } else if (key == "tesserad_path") {
    TRY(c->tesserad_path, GetString(v, key));
  } else if (key == "docker_config") {
    TRY(c->docker_config, GetString(v, key));
  } else if (key == "plain_http_loopback") {
    if (!v.is_boolean()) return Bad(key, "must be true or false");
    c->plain_http_loopback = v.get<bool>();
  } else if (key == "cache_limit") {
    if (!v.is_number_unsigned()) return Bad(key, "must be a non-negative integer (bytes)");
    c->cache_limit = v.get<uint64_t>();
  } else if (key == "health_interval_ms") {
    if (!v.is_number_unsigned()) return Bad(key, "must be a non-negative integer (ms)");
    c->health_interval_ms = v.get<uint64_t>();
  } else {
    return Bad(key, "unknown key");
  }
  return Ok();
}

}  // namespace

Status SetConfigString(const std::string& key, const std::string& value, Config* config) {
  if (key == "cache_limit" || key == "plain_http_loopback" || key == "health_interval_ms") {
    return Bad(key, "not a string key");
  }
  return ApplyKey(key, nlohmann::json(value), config);
}

Result<Config> ParseConfig(const std::string& json_text, const Config& base) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false,
                                           /*ignore_comments=*/true);
  if (j.is_discarded()) return MakeError(ErrorCode::kInvalidArgument, "config: not valid JSON");
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "config: not a JSON object");
  Config c = base;
  for (const auto& [key, value] : j.items()) RETURN_IF_ERROR(ApplyKey(key, value, &c));
  return c;
}

Result<Config> LoadConfigFile(const std::string& path, const Config& base) {
  TRY(std::vector<uint8_t> bytes, ReadFile(path));
  auto config = ParseConfig(std::string(bytes.begin(), bytes.end()), base);
  if (!config) return config.error().Wrap(path);
  return config;
}

}  // namespace tessera::snapshotter
