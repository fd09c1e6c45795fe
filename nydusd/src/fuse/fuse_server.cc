#define FUSE_USE_VERSION 34
#include "fuse/fuse_server.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuse/fuse_conn.h"
#include "fuse/fuse_state.h"

namespace tessera::nydusd {
namespace {

struct fuse_session* NewSession(FuseServer::State& st, const FuseOptions& options) {
  std::string opts = "ro,default_permissions,fsname=" + options.fsname + ",subtype=tessera";
  if (options.allow_other) opts += ",allow_other";
  std::vector<std::string> args_s = {"tesserad", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : args_s) argv.push_back(a.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  struct fuse_session* se =
      fuse_session_new(&args, FuseOps(), sizeof(struct fuse_lowlevel_ops), &st);
  fuse_opt_free_args(&args);  // libfuse may have copied the arguments into its own list
  return se;
}

}  // namespace

Result<std::unique_ptr<FuseServer>> FuseServer::Mount(const ImageFs& fs, const FuseOptions& options,
                                                      FuseObserver* observer, Logger* logger) {
  std::unique_ptr<FuseServer> server(new FuseServer());
  server->options_ = options;
  server->state_ = std::make_unique<State>();
  State& st = *server->state_;
  st.fs = &fs;
  st.observer = observer;
  st.logger = logger;
  st.timeout = options.timeout_seconds;
  if (options.push.window_bytes > 0) {
    st.push = std::make_unique<PushPlanner>(options.push, [&fs](uint64_t nid) {
      auto inode = fs.GetAttr(nid);
      return inode && S_ISREG(inode->mode) ? std::optional<uint64_t>(inode->size) : std::nullopt;
    });
    st.pusher = std::make_unique<PushWorker>([&st](uint64_t nid) { PushFollowing(st, nid); });
  }
  st.session = NewSession(st, options);
  if (st.session == nullptr) return MakeError(ErrorCode::kIo, "fuse: cannot create a session");
  std::string target = options.mountpoint;
  if (server->taken_over()) {
    // libfuse serves a descriptor given as /dev/fd/N without mounting; it owns the duplicate.
    int dup = ::fcntl(options.takeover_fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) return ErrnoError(errno, "fuse: duplicate the taken-over descriptor");
    target = "/dev/fd/" + std::to_string(dup);
  }
  if (fuse_session_mount(st.session, target.c_str()) != 0) {
    fuse_session_destroy(st.session);
    st.session = nullptr;
    return MakeError(ErrorCode::kIo, "fuse: cannot mount on " + options.mountpoint);
  }
  server->mounted_ = true;
  if (options.io_uring && !server->taken_over() && FuseUring::KernelEnabled()) {
    auto uring = FuseUring::Install(st.session, logger, observer);
    if (uring) {
      server->uring_ = std::move(*uring);
      st.uring = server->uring_.get();
    } else {
      logger->Warn("fuse: io_uring not used", {{"error", uring.error().ToString()}});
    }
  }
  Status init = server->taken_over() ? server->ReplayInit() : server->AnswerInit();
  if (!init) return init.error();  // the destructor unmounts
  server->StartUring();
  server->connection_ = FuseConnectionOf(options.mountpoint);
  return server;
}

Status FuseServer::AnswerInit() {
  struct fuse_buf buf {};
  int n = fuse_session_receive_buf(state_->session, &buf);
  if (n <= 0) {
    std::free(buf.mem);
    return MakeError(ErrorCode::kIo, "fuse: no INIT request on " + options_.mountpoint + ": " +
                                         std::strerror(n < 0 ? -n : EIO));
  }
  init_request_.assign(static_cast<const char*>(buf.mem), static_cast<size_t>(n));
  buf.size = static_cast<size_t>(n);
  if (uring_ && init_request_.size() >= sizeof(struct fuse_in_header)) {
    struct fuse_in_header h {};
    std::memcpy(&h, init_request_.data(), sizeof h);
    uring_->ExpectInit(h.unique);
  }
  fuse_session_process_buf(state_->session, &buf);
  std::free(buf.mem);
  return Ok();
}

Status FuseServer::ReplayInit() {
  init_request_ = options_.takeover_init;
  if (init_request_.size() < sizeof(struct fuse_in_header) + 8) {
    return MakeError(ErrorCode::kCorrupt, "fuse: taken-over INIT request is too short");
  }
  struct fuse_in_header h {};
  std::memcpy(&h, init_request_.data(), sizeof h);
  if (h.opcode != FUSE_INIT || h.len != init_request_.size()) {
    return MakeError(ErrorCode::kCorrupt, "fuse: taken-over INIT request is not FUSE_INIT");
  }
  // libfuse negotiates exactly as it did with the kernel; its answer goes to a request the
  // kernel finished long ago and is dropped there (ENOENT, which libfuse ignores).
  std::vector<char> copy(init_request_.begin(), init_request_.end());
  struct fuse_buf buf {};
  buf.mem = copy.data();
  buf.size = copy.size();
  fuse_session_process_buf(state_->session, &buf);
  Status resend = RequestResend(fuse_session_fd(state_->session));
  if (!resend) {
    state_->logger->Warn(
        "fuse: requests of the previous daemon are not resent",
        {{"mountpoint", options_.mountpoint}, {"error", resend.error().ToString()}});
  }
  state_->logger->Info("fuse: took over the connection", {{"mountpoint", options_.mountpoint}});
  return Ok();
}

void FuseServer::StartUring() {
  if (!uring_) return;
  Status st = uring_->negotiated() ? uring_->Start(options_.uring_entries)
                                   : MakeError(ErrorCode::kUnsupported, "not negotiated");
  if (!st) {
    state_->logger->Warn("fuse: io_uring not used; serving through /dev/fuse",
                         {{"mountpoint", options_.mountpoint}, {"error", st.error().ToString()}});
    return;
  }
  state_->logger->Info(
      "fuse: serving over io_uring",
      {{"mountpoint", options_.mountpoint}, {"queues", std::to_string(uring_->queues())}});
}

int FuseServer::fd() const { return fuse_session_fd(state_->session); }

Status FuseServer::Run() {
  struct fuse_loop_config config {};
  config.clone_fd = 1;
  config.max_idle_threads = options_.threads;
  int rc = fuse_session_loop_mt(state_->session, &config);
  if (uring_) uring_->Stop();
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopped_ = true;
  }
  stop_cv_.notify_all();
  if (rc != 0 && rc != -ENODEV && !fuse_session_exited(state_->session)) {
    return MakeError(ErrorCode::kIo, "fuse loop ended with error " + std::to_string(rc));
  }
  return Ok();
}

void FuseServer::Exit() {
  if (!mounted_.exchange(false)) return;
  fuse_session_exit(state_->session);
  // Detaching the mount ends the kernel connection, which wakes the workers blocked in read.
  ::umount2(options_.mountpoint.c_str(), MNT_DETACH);
}

bool FuseServer::WaitStopped(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  return stop_cv_.wait_for(lock, timeout, [this] { return stopped_; });
}

void FuseServer::AbortConnection() {
  if (!connection_) return;
  Status st = AbortFuseConnection(*connection_);
  if (!st) {
    state_->logger->Warn("fuse: cannot abort the connection",
                         {{"mountpoint", options_.mountpoint}, {"error", st.error().ToString()}});
  }
}

FuseServer::~FuseServer() {
  if (uring_) uring_->Stop();
  if (state_) state_->pusher.reset();  // it writes to the session
  if (state_ && state_->session != nullptr) {
    // Also after Exit(): it detached the mount, this frees libfuse's copy of the mountpoint.
    if (mounted_.exchange(false)) ::umount2(options_.mountpoint.c_str(), MNT_DETACH);
    fuse_session_unmount(state_->session);
    fuse_session_destroy(state_->session);
  }
}

}  // namespace tessera::nydusd
