#include "tessera/snapshotter/server.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include "grpc/service.h"

namespace tessera::snapshotter {
namespace {

// Removes a socket left by a previous run; refuses to remove anything that is not a socket.
Status PrepareSocketPath(const std::string& address) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(address).parent_path(), ec);
  if (ec) return MakeError(ErrorCode::kIo, "mkdir for " + address + ": " + ec.message());
  struct stat st {};
  if (::lstat(address.c_str(), &st) != 0) return Ok();
  if (!S_ISSOCK(st.st_mode)) {
    return MakeError(ErrorCode::kAlreadyExists, address + " exists and is not a socket");
  }
  if (::unlink(address.c_str()) != 0) return ErrnoError(errno, "unlink " + address);
  return Ok();
}

Result<sigset_t> BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) return ErrnoError(rc, "block signals");
  ::signal(SIGPIPE, SIG_IGN);
  return set;
}

}  // namespace

Status Serve(const Config& config, Logger* logger) {
  TRY(sigset_t stop_signals, BlockStopSignals());
  SnapshotterOptions options{.root = config.root,
                             .overlay_index_off = std::nullopt,
                             .tesserad_path = config.tesserad_path,
                             .plain_http_loopback = config.plain_http_loopback,
                             .docker_config = config.docker_config,
                             .cache_limit = config.cache_limit,
                             .shared_daemon = config.daemon_mode == DaemonMode::kShared,
                             .health_interval_ms = config.health_interval_ms};
  TRY(std::unique_ptr<Snapshotter> snapshotter, Snapshotter::Open(options, logger));
  RETURN_IF_ERROR(PrepareSocketPath(config.address));

  internal::SnapshotsService service(snapshotter.get(), logger);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("unix:" + config.address, grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound == 0) {
    return MakeError(ErrorCode::kUnavailable, "cannot listen on unix socket " + config.address);
  }
  if (::chmod(config.address.c_str(), 0660) != 0) {
    Error err = ErrnoError(errno, "chmod " + config.address);
    server->Shutdown();
    return err;
  }
  logger->Info("serving", {{"address", config.address}, {"root", config.root}});

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  logger->Info("stopping", {{"signal", std::to_string(sig)}});
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  ::unlink(config.address.c_str());
  return Ok();
}

}  // namespace tessera::snapshotter
