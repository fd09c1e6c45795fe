// RunDaemon and the JSON config file.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "api/api_server.h"
#include "daemon_impl.h"
#include "registry/registry_config.h"
#include <nlohmann/json.hpp>

namespace tessera::nydusd {
namespace {

Status MakeDirs(const std::string& path) {
  std::string partial;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '/');) {
    if (part.empty()) {
      partial = "/";
      continue;
    }
    partial += (partial.empty() || partial.back() == '/' ? "" : "/") + part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "mkdir " + partial);
    }
  }
  return Ok();
}

// Waits for SIGTERM/SIGINT (blocked in every thread) and asks the daemon to stop.
void WaitForSignal(Daemon& daemon, Logger& logger) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  struct timespec tick = {0, 200 * 1000 * 1000};
  while (!daemon.stopping()) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) {
      logger.Info("signal received, shutting down", {{"signal", std::to_string(sig)}});
      daemon.Shutdown();
    }
  }
}

}  // namespace

Status LoadDaemonConfig(const std::string& path, DaemonConfig& c) {
  std::ifstream in(path);
  if (!in) return ErrnoError(errno, "config " + path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "config " + path + ": not a JSON object");
  }
  try {
    c.cache_dir = j.value("cache_dir", c.cache_dir);
    c.apisock = j.value("apisock", c.apisock);
    c.threads = j.value("threads", c.threads);
    c.supervisor = j.value("supervisor", c.supervisor);
    c.cache_limit = j.value("cache_limit", c.cache_limit);
    if (j.contains("backend")) {
      const auto& b = j["backend"];
      std::string type = b.value("type", "localfs");
      if (type != "localfs" && type != "registry") {
        return MakeError(ErrorCode::kUnsupported, "config " + path + ": backend type '" + type +
                                                      "' (this build knows localfs, registry)");
      }
      if (type == "localfs" && !c.mounts.empty()) {
        c.mounts[0].blob_dir = b.value("dir", c.mounts[0].blob_dir);
      }
      if (type == "registry" && !c.mounts.empty()) {
        RETURN_IF_ERROR(ApplyRegistrySettings(b, c.mounts[0], "config " + path + ": backend"));
      }
    }
    if (j.contains("cache")) {
      c.merge_limit = j["cache"].value("merge_limit", c.merge_limit);
      c.verify_cached = j["cache"].value("verify_cached", c.verify_cached);
      c.verify_ahead_bytes = j["cache"].value("verify_ahead_bytes", c.verify_ahead_bytes);
    }
    if (j.contains("fuse")) {
      c.push_ahead_bytes = j["fuse"].value("push_ahead_bytes", c.push_ahead_bytes);
      c.push_max_file_bytes = j["fuse"].value("push_max_file_bytes", c.push_max_file_bytes);
      c.fuse_io_uring = j["fuse"].value("io_uring", c.fuse_io_uring);
    }
    if (j.contains("prefetch")) {
      const auto& p = j["prefetch"];
      c.prefetch = p.value("enable", c.prefetch);
      c.prefetch_all = p.value("all", c.prefetch_all);
      c.prefetch_rate = p.value("rate", c.prefetch_rate);
      c.prefetch_threads = p.value("threads", c.prefetch_threads);
    }
    std::string level = j.value("log_level", std::string());
    if (!level.empty() && !ParseLogLevel(level, &c.log_level)) {
      return MakeError(ErrorCode::kInvalidArgument, "config " + path + ": bad log_level");
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "config " + path + ": " + e.what());
  }
  return Ok();
}

int RunDaemon(const DaemonConfig& config) {
  Logger logger(config.log_level);
  logger.SetJson(config.log_json);
  // Signals are taken by one thread with sigtimedwait: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Status dirs = MakeDirs(config.cache_dir);
  if (!dirs) {
    logger.Error("cannot create the cache directory", {{"error", dirs.error().ToString()}});
    return 1;
  }
  Daemon daemon(config, logger);
  std::unique_ptr<ApiServer> api;
  if (!config.apisock.empty()) {
    Status dir = MakeDirs(config.apisock.substr(0, config.apisock.rfind('/')));
    api = std::make_unique<ApiServer>(daemon, logger);
    Status started = dir ? api->Start(config.apisock) : dir;
    if (!started) {
      logger.Error("cannot serve the API", {{"error", started.error().ToString()}});
      return 1;
    }
  }
  for (const auto& m : config.mounts) {
    Status st = daemon.AddMount(m);
    if (!st) {
      logger.Error("mount failed",
                   {{"mountpoint", m.mountpoint}, {"error", st.error().ToString()}});
      return 1;
    }
  }
  WaitForSignal(daemon, logger);
  daemon.Wait();
  if (api) api->Stop();
  return 0;
}

}  // namespace tessera::nydusd
