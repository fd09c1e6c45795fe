#include "registry/registry_config.h"

namespace tessera::nydusd {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Fields of one endpoint: host, scheme, insecure, ca_file, auth.
Status ApplyEndpoint(const json& j, storage::RegistryEndpoint& e, std::string* docker_config,
                     const std::string& what) {
  e.host = j.value("host", e.host);
  std::string scheme = j.value("scheme", std::string(e.plain_http ? "http" : "https"));
  if (scheme != "http" && scheme != "https") {
    return MakeError(ErrorCode::kInvalidArgument, what + ": scheme must be http or https");
  }
  e.plain_http = scheme == "http";
  e.insecure_tls = j.value("insecure", e.insecure_tls);
  e.ca_file = j.value("ca_file", e.ca_file);
  if (j.contains("auth")) {
    const json& a = j["auth"];
    if (!a.is_object()) return MakeError(ErrorCode::kInvalidArgument, what + ": auth");
    e.credentials.username = a.value("username", e.credentials.username);
    e.credentials.password = a.value("password", e.credentials.password);
    if (docker_config != nullptr) *docker_config = a.value("docker_config", *docker_config);
  }
  return Ok();
}

Status ApplyTimeouts(const json& j, storage::RegistryBackendOptions& o) {
  auto ms = [&j](const char* key, milliseconds current) {
    return milliseconds(j.value(key, static_cast<int64_t>(current.count())));
  };
  o.timeout = ms("timeout_ms", o.timeout);
  o.connect_timeout = ms("connect_timeout_ms", o.connect_timeout);
  o.hedge_delay = ms("hedge_delay_ms", o.hedge_delay);
  o.cooldown = ms("cooldown_ms", o.cooldown);
  o.retry_limit = j.value("retry_limit", o.retry_limit);
  o.failure_threshold = j.value("failure_threshold", o.failure_threshold);
  if (o.timeout.count() <= 0 || o.connect_timeout.count() <= 0 || o.retry_limit < 0 ||
      o.hedge_delay.count() < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "timeouts must be positive, limits not negative");
  }
  return Ok();
}

}  // namespace

Status ApplyRegistrySettings(const json& j, MountConfig& m, const std::string& what) {
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, what + ": not an object");
  try {
    m.image = j.value("image", m.image);
    m.registry.repo = j.value("repo", m.registry.repo);
    RETURN_IF_ERROR(ApplyEndpoint(j, m.registry.primary, &m.docker_config, what));
    Status t = ApplyTimeouts(j, m.registry);
    if (!t) return t.error().Wrap(what);
    if (j.contains("mirrors")) {
      const json& list = j["mirrors"];
      if (!list.is_array()) return MakeError(ErrorCode::kInvalidArgument, what + ": mirrors");
      m.registry.mirrors.clear();
      for (size_t i = 0; i < list.size(); ++i) {
        storage::RegistryEndpoint e;
        std::string at = what + ": mirrors[" + std::to_string(i) + "]";
        if (!list[i].is_object()) return MakeError(ErrorCode::kInvalidArgument, at);
        RETURN_IF_ERROR(ApplyEndpoint(list[i], e, nullptr, at));
        if (e.host.empty()) return MakeError(ErrorCode::kInvalidArgument, at + ": no host");
        m.registry.mirrors.push_back(std::move(e));
      }
    }
  } catch (const json::exception& e) {
    // nlohmann's message names the type problem, never a value.
    return MakeError(ErrorCode::kInvalidArgument, what + ": " + e.what());
  }
  return Ok();
}

Status ApplyRegistrySettingsText(const std::string& text, MountConfig& m, const std::string& what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return MakeError(ErrorCode::kInvalidArgument, what + ": invalid JSON");
  return ApplyRegistrySettings(j, m, what);
}

}  // namespace tessera::nydusd
