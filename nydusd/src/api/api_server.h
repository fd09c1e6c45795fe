// The tesserad control API (docs/api.md) on a unix socket: daemon state, metrics, mounts.
#pragma once

#include <string>

#include "daemon_impl.h"

#include "tessera/common/http.h"

namespace tessera::nydusd {

class ApiServer {
 public:
  ApiServer(Daemon& daemon, Logger& logger);
  ~ApiServer() { Stop(); }
  Status Start(const std::string& socket_path);
  void Stop() { server_.Stop(); }

 private:
  HttpResponse GetDaemon(const HttpRequest& req);
  HttpResponse GetMetrics(const HttpRequest& req);
  HttpResponse GetMounts(const HttpRequest& req);
  HttpResponse PostMount(const HttpRequest& req);
  HttpResponse DeleteMount(const HttpRequest& req);
  HttpResponse PutExit(const HttpRequest& req);
  HttpResponse PutConfig(const HttpRequest& req);
  static Result<MountConfig> MountFromRequest(const std::string& body);

  Daemon& daemon_;
  Logger& logger_;
  HttpServer server_;
  std::string socket_path_;
  int64_t started_at_;
};

}  // namespace tessera::nydusd
