// A fake tesserad API for the client and tesseractl tests, built from tessera::HttpServer and
// following docs/api.md. It is a mock: the real daemon (nydusd/, issue 4) comes later and will
// get its own integration tests against this same client.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "tessera/common/http.h"
#include "tessera/common/metrics.h"
#include "tessera/common/process.h"
#include "tessera/nydusd_client/api.h"

namespace tessera::nydusd::client::testing {

class FakeDaemon {
 public:
  FakeDaemon() {
    auto dir = TempDir::Create("fake_tesserad");
    EXPECT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    socket_ = dir_->path() + "/api.sock";
    info_.version = "0.1.0";
    info_.state = std::string(kStateRunning);
    info_.pid = 4242;
    info_.apisock = socket_;
    info_.started_at = 1700000000;
    info_.uptime_seconds = 93784;  // 1d 2h 3m 4s
    info_.config = {"localfs", "/var/cache/tessera", 10ull << 30, 4, true, true};
    auto bytes = metrics_.AddCounter("tessera_backend_read_bytes_total", "Bytes.");
    EXPECT_TRUE(bytes);
    if (bytes) (*bytes)->Inc(1234);
  }
  ~FakeDaemon() { server_.Stop(); }

  void Start() {
    Routes();
    for (const auto& [method, path, response] : overrides_) {
      server_.Route(method, path, [response](const HttpRequest&) { return response; });
    }
    auto started = server_.Start(socket_);
    ASSERT_TRUE(started) << started.error().ToString();
  }

  const std::string& socket() const { return socket_; }
  std::string dir() const { return dir_->path(); }
  void SetState(std::string state) {
    std::lock_guard<std::mutex> lock(mu_);
    info_.state = std::move(state);
  }
  void AddMount(MountInfo m) {
    std::lock_guard<std::mutex> lock(mu_);
    info_.mounts.push_back(std::move(m));
  }
  std::vector<MountInfo> mounts() {
    std::lock_guard<std::mutex> lock(mu_);
    return info_.mounts;
  }
  bool exit_requested() const { return exit_requested_.load(); }
  // Before Start(): replaces a route's answer with a canned one (malformed responses).
  void Override(std::string method, std::string path, HttpResponse response) {
    overrides_.emplace_back(std::move(method), std::move(path), std::move(response));
  }

 private:
  void Routes() {
    server_.Route("GET", std::string(kDaemonPath), [this](const HttpRequest&) {
      std::lock_guard<std::mutex> lock(mu_);
      return HttpResponse::Json(200, EncodeDaemonInfo(info_));
    });
    server_.Route("GET", std::string(kMetricsPath), [this](const HttpRequest&) {
      HttpResponse r = HttpResponse::Text(200, metrics_.RenderPrometheus());
      r.content_type = std::string(kPrometheusContentType);
      return r;
    });
    server_.Route("GET", std::string(kMountsPath), [this](const HttpRequest&) {
      std::lock_guard<std::mutex> lock(mu_);
      return HttpResponse::Json(200, EncodeMountList(info_.mounts));
    });
    server_.Route("POST", std::string(kMountsPath),
                  [this](const HttpRequest& req) { return HandleMount(req); });
    server_.Route("DELETE", std::string(kMountsPath),
                  [this](const HttpRequest& req) { return HandleUnmount(req); });
    server_.Route("PUT", std::string(kDaemonExitPath), [this](const HttpRequest&) {
      exit_requested_ = true;
      return HttpResponse::Empty(202);
    });
  }

  HttpResponse HandleMount(const HttpRequest& req) {
    auto request = DecodeMountRequest(req.body);
    if (!request) return ErrorResponse(request.error());
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& m : info_.mounts) {
      if (m.mountpoint == request->mountpoint) {
        return ErrorResponse(MakeError(ErrorCode::kAlreadyExists,
                                       "mountpoint " + m.mountpoint + " is already served"));
      }
    }
    MountInfo m;
    m.mountpoint = request->mountpoint;
    m.bootstrap = request->bootstrap;
    m.blob_dir = request->blob_dir;
    m.cache_dir = request->cache_dir.empty() ? info_.config.cache_dir : request->cache_dir;
    m.mounted_at = 1700000100;
    m.chunks_total = 40;
    info_.mounts.push_back(m);
    return HttpResponse::Json(201, EncodeMountInfo(m));
  }

  HttpResponse HandleUnmount(const HttpRequest& req) {
    auto mountpoint = req.Query("mountpoint");
    if (!mountpoint) {
      return ErrorResponse(MakeError(ErrorCode::kInvalidArgument, "query 'mountpoint' missing"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = info_.mounts.begin(); it != info_.mounts.end(); ++it) {
      if (it->mountpoint == *mountpoint) {
        info_.mounts.erase(it);
        return HttpResponse::Empty(204);
      }
    }
    return ErrorResponse(
        MakeError(ErrorCode::kNotFound, "no mount at " + std::string(*mountpoint)));
  }

  std::unique_ptr<TempDir> dir_;
  std::string socket_;
  HttpServer server_;
  std::mutex mu_;
  DaemonInfo info_;
  MetricsRegistry metrics_;
  std::atomic<bool> exit_requested_{false};
  std::vector<std::tuple<std::string, std::string, HttpResponse>> overrides_;
};

}  // namespace tessera::nydusd::client::testing
