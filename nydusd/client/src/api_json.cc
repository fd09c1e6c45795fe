// JSON encoding of the API types (docs/api.md) with nlohmann-json. Every nlohmann exception
// is caught here: decoders return Results, encoders replace invalid UTF-8.
#include <limits>

#include <nlohmann/json.hpp>

#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client {
namespace {

using nlohmann::json;

std::string Dump(const json& j, int indent) {
  // error_handler_t::replace: a path with invalid UTF-8 becomes U+FFFD instead of throwing.
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

// Type-checked access to the fields of one JSON object; errors name the field's path.
class Fields {
 public:
  Fields(const json& obj, std::string path, ErrorCode code)
      : obj_(obj), path_(std::move(path)), code_(code) {}

  Status String(const char* key, std::string* out, bool required) {
    return Get(key, required, [&](const json& v) {
      if (!v.is_string()) return false;
      *out = v.get<std::string>();
      return true;
    });
  }
  Status Int(const char* key, int64_t* out) {
    return Get(key, false, [&](const json& v) {
      if (!v.is_number_integer()) return false;
      *out = v.get<int64_t>();  // unsigned values above INT64_MAX are refused below
      return !v.is_number_unsigned() || v.get<uint64_t>() <= std::numeric_limits<int64_t>::max();
    });
  }
  Status Uint(const char* key, uint64_t* out, uint64_t max = UINT64_MAX) {
    return Get(key, false, [&](const json& v) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > max) return false;
      *out = v.get<uint64_t>();
      return true;
    });
  }
  Status Bool(const char* key, bool* out) {
    return Get(key, false, [&](const json& v) {
      if (!v.is_boolean()) return false;
      *out = v.get<bool>();
      return true;
    });
  }
  Status StringArray(const char* key, std::vector<std::string>* out) {
    return Get(key, false, [&](const json& v) {
      if (!v.is_array()) return false;
      for (const auto& item : v) {
        if (!item.is_string()) return false;
        out->push_back(item.get<std::string>());
      }
      return true;
    });
  }
  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  Error Fail(std::string_view key, const std::string& why) const {
    return MakeError(code_, "field '" + Path(key) + "': " + why);
  }
  ErrorCode code() const { return code_; }

 private:
  template <typename Fn>
  Status Get(const char* key, bool required, Fn&& take) {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) {
      return required ? Fail(key, "missing") : Ok();
    }
    if (!take(*it)) return Fail(key, std::string("wrong type (") + it->type_name() + ")");
    return Ok();
  }

  const json& obj_;
  std::string path_;
  ErrorCode code_;
};

Result<json> ParseObject(std::string_view text, std::string_view what, ErrorCode code) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return MakeError(code, std::string(what) + ": not a JSON object");
    return j;
  } catch (const json::exception& e) {
    return MakeError(code, std::string(what) + ": invalid JSON: " + e.what());
  }
}

json MountToJson(const MountInfo& m) {
  json j{{"mountpoint", m.mountpoint},     {"bootstrap", m.bootstrap},
         {"blob_dir", m.blob_dir},         {"cache_dir", m.cache_dir},
         {"transport", m.transport},       {"mounted_at", m.mounted_at},
         {"chunks_ready", m.chunks_ready}, {"chunks_total", m.chunks_total},
         {"fully_cached", m.fully_cached}};
  if (!m.backend.empty()) j["backend"] = m.backend;
  if (!m.image.empty()) j["image"] = m.image;
  if (!m.registry_endpoints.empty()) {
    json eps = json::array();
    for (const auto& e : m.registry_endpoints) {
      eps.push_back(json{{"host", e.host},
                         {"healthy", e.healthy},
                         {"requests", e.requests},
                         {"failures", e.failures}});
    }
    j["registry_endpoints"] = std::move(eps);
  }
  return j;
}

Status EndpointsFromJson(const json& j, const std::string& path, MountInfo* m) {
  auto it = j.find("registry_endpoints");
  if (it == j.end() || it->is_null()) return Ok();
  if (!it->is_array()) return MakeError(ErrorCode::kCorrupt, path + ".registry_endpoints");
  for (size_t i = 0; i < it->size(); ++i) {
    std::string at = path + ".registry_endpoints[" + std::to_string(i) + "]";
    if (!(*it)[i].is_object()) return MakeError(ErrorCode::kCorrupt, at + ": not an object");
    Fields f((*it)[i], at, ErrorCode::kCorrupt);
    RegistryEndpointInfo e;
    RETURN_IF_ERROR(f.String("host", &e.host, true));
    RETURN_IF_ERROR(f.Bool("healthy", &e.healthy));
    RETURN_IF_ERROR(f.Uint("requests", &e.requests));
    RETURN_IF_ERROR(f.Uint("failures", &e.failures));
    m->registry_endpoints.push_back(std::move(e));
  }
  return Ok();
}

Result<MountInfo> MountFromJson(const json& j, const std::string& path) {
  if (!j.is_object()) return MakeError(ErrorCode::kCorrupt, "field '" + path + "': not an object");
  Fields f(j, path, ErrorCode::kCorrupt);
  MountInfo m;
  RETURN_IF_ERROR(f.String("mountpoint", &m.mountpoint, true));
  RETURN_IF_ERROR(f.String("bootstrap", &m.bootstrap, true));
  RETURN_IF_ERROR(f.String("blob_dir", &m.blob_dir, false));
  RETURN_IF_ERROR(f.String("cache_dir", &m.cache_dir, false));
  RETURN_IF_ERROR(f.String("transport", &m.transport, false));
  RETURN_IF_ERROR(f.Int("mounted_at", &m.mounted_at));
  RETURN_IF_ERROR(f.Uint("chunks_ready", &m.chunks_ready));
  RETURN_IF_ERROR(f.Uint("chunks_total", &m.chunks_total));
  RETURN_IF_ERROR(f.Bool("fully_cached", &m.fully_cached));
  RETURN_IF_ERROR(f.String("backend", &m.backend, false));
  RETURN_IF_ERROR(f.String("image", &m.image, false));
  RETURN_IF_ERROR(EndpointsFromJson(j, path, &m));
  return m;
}

Result<std::vector<MountInfo>> MountsFromJson(const json& j, const std::string& path) {
  auto it = j.find("mounts");
  if (it == j.end() || !it->is_array()) {
    return MakeError(ErrorCode::kCorrupt, "field '" + path + "': missing or not an array");
  }
  std::vector<MountInfo> out;
  for (size_t i = 0; i < it->size(); ++i) {
    TRY(MountInfo m, MountFromJson((*it)[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(m));
  }
  return out;
}

json ConfigToJson(const DaemonConfigSummary& c) {
  return json{{"backend", c.backend},
              {"cache_dir", c.cache_dir},
              {"cache_limit_bytes", c.cache_limit_bytes},
              {"threads", c.threads},
              {"prefetch", c.prefetch},
              {"validate_digests", c.validate_digests}};
}

Status ConfigFromJson(const json& j, DaemonConfigSummary* c) {
  auto it = j.find("config");
  if (it == j.end() || it->is_null()) return Ok();
  if (!it->is_object()) return MakeError(ErrorCode::kCorrupt, "field 'config': not an object");
  Fields f(*it, "config", ErrorCode::kCorrupt);
  uint64_t threads = 0;
  RETURN_IF_ERROR(f.String("backend", &c->backend, false));
  RETURN_IF_ERROR(f.String("cache_dir", &c->cache_dir, false));
  RETURN_IF_ERROR(f.Uint("cache_limit_bytes", &c->cache_limit_bytes));
  RETURN_IF_ERROR(f.Uint("threads", &threads, UINT32_MAX));
  RETURN_IF_ERROR(f.Bool("prefetch", &c->prefetch));
  RETURN_IF_ERROR(f.Bool("validate_digests", &c->validate_digests));
  c->threads = static_cast<uint32_t>(threads);
  return Ok();
}

Status CheckAbsolute(const Fields& f, std::string_view key, const std::string& value,
                     bool required) {
  if (value.empty() && !required) return Ok();
  if (value.empty()) return f.Fail(key, "must not be empty");
  if (value.front() != '/') return f.Fail(key, "must be an absolute path");
  if (value.find('\0') != std::string::npos) return f.Fail(key, "contains a NUL byte");
  return Ok();
}

}  // namespace

std::string EncodeMountInfo(const MountInfo& mount, int indent) {
  return Dump(MountToJson(mount), indent);
}

std::string EncodeMountList(const std::vector<MountInfo>& mounts, int indent) {
  json list = json::array();
  for (const auto& m : mounts) list.push_back(MountToJson(m));
  return Dump(json{{"mounts", std::move(list)}}, indent);
}

std::string EncodeDaemonInfo(const DaemonInfo& info, int indent) {
  json mounts = json::array();
  for (const auto& m : info.mounts) mounts.push_back(MountToJson(m));
  json j{{"version", info.version},
         {"state", info.state},
         {"pid", info.pid},
         {"apisock", info.apisock},
         {"started_at", info.started_at},
         {"uptime_seconds", info.uptime_seconds},
         {"mounts", std::move(mounts)},
         {"config", ConfigToJson(info.config)}};
  return Dump(j, indent);
}

std::string EncodeMountRequest(const MountRequest& r, int indent) {
  json j{{"mountpoint", r.mountpoint}, {"bootstrap", r.bootstrap}, {"blob_dir", r.blob_dir}};
  if (!r.cache_dir.empty()) j["cache_dir"] = r.cache_dir;
  if (!r.prefetch_files.empty()) j["prefetch_files"] = r.prefetch_files;
  if (r.prefetch_all) j["prefetch_all"] = true;
  if (!r.image.empty()) j["image"] = r.image;
  if (!r.registry.empty()) {
    json reg = json::parse(r.registry, nullptr, false);
    if (reg.is_object()) j["registry"] = std::move(reg);
  }
  return Dump(j, indent);
}

std::string EncodeRegistryAuthUpdate(const RegistryAuthUpdate& u) {
  json j{{"registry_auth", json{{"username", u.username}, {"password", u.password}}}};
  if (!u.mountpoint.empty()) j["mountpoint"] = u.mountpoint;
  if (!u.host.empty()) j["host"] = u.host;
  return Dump(j, -1);
}

Result<RegistryAuthUpdate> DecodeRegistryAuthUpdate(std::string_view text) {
  TRY(json j, ParseObject(text, "config update", ErrorCode::kInvalidArgument));
  Fields f(j, "", ErrorCode::kInvalidArgument);
  RegistryAuthUpdate u;
  RETURN_IF_ERROR(f.String("mountpoint", &u.mountpoint, false));
  RETURN_IF_ERROR(f.String("host", &u.host, false));
  auto it = j.find("registry_auth");
  if (it == j.end() || !it->is_object()) return f.Fail("registry_auth", "missing or not an object");
  Fields auth(*it, "registry_auth", ErrorCode::kInvalidArgument);
  RETURN_IF_ERROR(auth.String("username", &u.username, true));
  RETURN_IF_ERROR(auth.String("password", &u.password, true));
  return u;
}

Result<DaemonInfo> DecodeDaemonInfo(std::string_view text) {
  TRY(json j, ParseObject(text, "daemon info", ErrorCode::kCorrupt));
  Fields f(j, "", ErrorCode::kCorrupt);
  DaemonInfo info;
  RETURN_IF_ERROR(f.String("version", &info.version, true));
  RETURN_IF_ERROR(f.String("state", &info.state, true));
  RETURN_IF_ERROR(f.Int("pid", &info.pid));
  RETURN_IF_ERROR(f.String("apisock", &info.apisock, false));
  RETURN_IF_ERROR(f.Int("started_at", &info.started_at));
  RETURN_IF_ERROR(f.Uint("uptime_seconds", &info.uptime_seconds));
  TRY(info.mounts, MountsFromJson(j, "mounts"));
  RETURN_IF_ERROR(ConfigFromJson(j, &info.config));
  return info;
}

Result<MountInfo> DecodeMountInfo(std::string_view text) {
  TRY(json j, ParseObject(text, "mount", ErrorCode::kCorrupt));
  return MountFromJson(j, "mount");
}

Result<std::vector<MountInfo>> DecodeMountList(std::string_view text) {
  TRY(json j, ParseObject(text, "mount list", ErrorCode::kCorrupt));
  return MountsFromJson(j, "mounts");
}

Result<MountRequest> DecodeMountRequest(std::string_view text) {
  TRY(json j, ParseObject(text, "mount request", ErrorCode::kInvalidArgument));
  Fields f(j, "", ErrorCode::kInvalidArgument);
  MountRequest r;
  RETURN_IF_ERROR(f.String("mountpoint", &r.mountpoint, true));
  RETURN_IF_ERROR(f.String("image", &r.image, false));
  bool local = r.image.empty();
  RETURN_IF_ERROR(f.String("bootstrap", &r.bootstrap, local));
  RETURN_IF_ERROR(f.String("blob_dir", &r.blob_dir, local));
  RETURN_IF_ERROR(f.String("cache_dir", &r.cache_dir, false));
  if (auto reg = j.find("registry"); reg != j.end() && !reg->is_null()) {
    if (!reg->is_object()) return f.Fail("registry", "not an object");
    r.registry = Dump(*reg, -1);
  }
  RETURN_IF_ERROR(f.StringArray("prefetch_files", &r.prefetch_files));
  RETURN_IF_ERROR(f.Bool("prefetch_all", &r.prefetch_all));
  RETURN_IF_ERROR(CheckAbsolute(f, "mountpoint", r.mountpoint, true));
  RETURN_IF_ERROR(CheckAbsolute(f, "bootstrap", r.bootstrap, local));
  RETURN_IF_ERROR(CheckAbsolute(f, "blob_dir", r.blob_dir, local));
  RETURN_IF_ERROR(CheckAbsolute(f, "cache_dir", r.cache_dir, false));
  for (size_t i = 0; i < r.prefetch_files.size(); ++i) {
    std::string key = "prefetch_files[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckAbsolute(f, key, r.prefetch_files[i], true));
  }
  return r;
}

}  // namespace tessera::nydusd::client
