#include "api/api_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "registry/registry_config.h"

#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd {
namespace {

namespace api = tessera::nydusd::client;

api::MountInfo ToApi(const Daemon::MountInfo& m, const std::string& default_cache) {
  api::MountInfo out;
  out.mountpoint = m.config.mountpoint;
  out.bootstrap = m.config.bootstrap;
  out.blob_dir = m.config.blob_dir;
  out.cache_dir = m.config.cache_dir.empty() ? default_cache : m.config.cache_dir;
  out.mounted_at = m.mounted_at;
  out.chunks_ready = m.usage.extents_ready;
  out.chunks_total = m.usage.extents_total;
  out.fully_cached = m.usage.extents_ready == m.usage.extents_total;
  out.backend = m.config.image.empty() ? "localfs" : "registry";
  out.image = m.config.image;
  if (m.registry) {
    for (const auto& e : m.registry->endpoints) {
      out.registry_endpoints.push_back({e.host, e.healthy, e.requests, e.failures});
    }
  }
  return out;
}

}  // namespace

ApiServer::ApiServer(Daemon& daemon, Logger& logger)
    : daemon_(daemon),
      logger_(logger),
      server_([&logger] {
        HttpServerOptions o;
        o.logger = &logger;
        return o;
      }()),
      started_at_(static_cast<int64_t>(std::time(nullptr))) {
  auto bind = [this](HttpResponse (ApiServer::*fn)(const HttpRequest&)) {
    return [this, fn](const HttpRequest& r) { return (this->*fn)(r); };
  };
  server_.Route("GET", "/api/v1/daemon", bind(&ApiServer::GetDaemon));
  server_.Route("GET", "/api/v1/metrics", bind(&ApiServer::GetMetrics));
  server_.Route("GET", "/api/v1/mounts", bind(&ApiServer::GetMounts));
  server_.Route("POST", "/api/v1/mounts", bind(&ApiServer::PostMount));
  server_.Route("DELETE", "/api/v1/mounts", bind(&ApiServer::DeleteMount));
  server_.Route("PUT", "/api/v1/daemon/exit", bind(&ApiServer::PutExit));
  server_.Route("PUT", std::string(api::kConfigPath), bind(&ApiServer::PutConfig));
}

Status ApiServer::Start(const std::string& socket_path) {
  socket_path_ = socket_path;
  return server_.Start(socket_path);
}

HttpResponse ApiServer::GetDaemon(const HttpRequest&) {
  const DaemonConfig& c = daemon_.config();
  api::DaemonInfo info;
  info.version = "0.1.0";
  info.state = std::string(daemon_.stopping() ? api::kStateStopping : api::kStateRunning);
  info.pid = ::getpid();
  info.apisock = socket_path_;
  info.started_at = started_at_;
  info.uptime_seconds = static_cast<uint64_t>(std::time(nullptr) - started_at_);
  for (const auto& m : daemon_.Mounts()) info.mounts.push_back(ToApi(m, c.cache_dir));
  info.config.backend = "localfs";
  for (const auto& m : info.mounts) {
    if (m.backend == "registry") info.config.backend = "registry";
  }
  info.config.cache_dir = c.cache_dir;
  info.config.threads = c.threads;
  info.config.cache_limit_bytes = c.cache_limit;
  info.config.prefetch = c.prefetch;
  info.config.validate_digests = true;
  return HttpResponse::Json(200, api::EncodeDaemonInfo(info));
}

HttpResponse ApiServer::GetMetrics(const HttpRequest&) {
  DaemonMetrics::Snapshot snap;
  for (const auto& m : daemon_.Mounts()) {
    snap.chunks_ready += m.usage.extents_ready;
    snap.chunks_total += m.usage.extents_total;
    snap.prefetch_bytes += m.prefetch_bytes;
    snap.prefetch_files_done += m.prefetch_files_done;
    snap.prefetch_files_total += m.prefetch_files_total;
  }
  daemon_.metrics().SetSnapshot(snap);
  HttpResponse r = HttpResponse::Text(200, daemon_.metrics().Render());
  r.content_type = std::string(kPrometheusContentType);
  return r;
}

HttpResponse ApiServer::GetMounts(const HttpRequest&) {
  std::vector<api::MountInfo> mounts;
  for (const auto& m : daemon_.Mounts()) mounts.push_back(ToApi(m, daemon_.config().cache_dir));
  return HttpResponse::Json(200, api::EncodeMountList(mounts));
}

// The MountConfig a request asks for; registry settings are the config file's keys.
Result<MountConfig> ApiServer::MountFromRequest(const std::string& body) {
  TRY(api::MountRequest request, api::DecodeMountRequest(body));
  std::vector<const std::string*> paths = {&request.mountpoint};
  if (request.image.empty()) paths = {&request.bootstrap, &request.blob_dir, &request.mountpoint};
  struct stat st {};
  for (const std::string* p : paths) {
    if (::stat(p->c_str(), &st) != 0) return ErrnoError(errno, *p);
  }
  MountConfig mc;
  mc.mountpoint = request.mountpoint;
  mc.bootstrap = request.bootstrap;
  mc.blob_dir = request.blob_dir;
  mc.cache_dir = request.cache_dir;
  mc.prefetch_files = request.prefetch_files;
  mc.prefetch_all = request.prefetch_all;
  mc.image = request.image;
  if (!request.registry.empty()) {
    RETURN_IF_ERROR(ApplyRegistrySettingsText(request.registry, mc, "field 'registry'"));
  }
  return mc;
}

HttpResponse ApiServer::PostMount(const HttpRequest& req) {
  auto mc = MountFromRequest(req.body);
  if (!mc) return ErrorResponse(mc.error());
  Status added = daemon_.AddMount(*mc);
  if (!added) return ErrorResponse(added.error());
  for (const auto& m : daemon_.Mounts()) {
    if (m.config.mountpoint == mc->mountpoint) {
      return HttpResponse::Json(201, api::EncodeMountInfo(ToApi(m, daemon_.config().cache_dir)));
    }
  }
  return ErrorResponse(MakeError(ErrorCode::kInternal, "mount vanished"));
}

HttpResponse ApiServer::PutConfig(const HttpRequest& req) {
  auto update = api::DecodeRegistryAuthUpdate(req.body);
  if (!update) return ErrorResponse(update.error());
  oci::Credentials creds;
  creds.username = update->username;
  creds.password = update->password;
  auto n = daemon_.UpdateRegistryCredentials(update->mountpoint, update->host, creds);
  if (!n) return ErrorResponse(n.error());
  return HttpResponse::Json(200, "{\"updated\":" + std::to_string(*n) + "}");
}
HttpResponse ApiServer::DeleteMount(const HttpRequest& req) {
  auto mp = req.Query("mountpoint");
  if (!mp || mp->empty()) {
    return ErrorResponse(MakeError(ErrorCode::kInvalidArgument, "missing ?mountpoint="));
  }
  auto gc = req.Query("gc");
  Status st = daemon_.RemoveMount(std::string(*mp), gc && *gc == "true");
  if (!st) return ErrorResponse(st.error());
  return HttpResponse::Empty(204);
}

HttpResponse ApiServer::PutExit(const HttpRequest&) {
  logger_.Info("exit requested through the API");
  daemon_.Shutdown();
  return HttpResponse::Empty(202);
}

}  // namespace tessera::nydusd
