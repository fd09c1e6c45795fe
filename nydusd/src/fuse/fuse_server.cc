#define FUSE_USE_VERSION 34
#include "fuse/fuse_server.h"

#include <fuse_lowlevel.h>
#include <sys/mount.h>

#include <cerrno>
#include <vector>

#include "fuse/fuse_state.h"

namespace tessera::nydusd {

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

  std::string opts = "ro,default_permissions,fsname=" + options.fsname + ",subtype=tessera";
  if (options.allow_other) opts += ",allow_other";
  std::vector<std::string> args_s = {"tesserad", "-o", opts};
  std::vector<char*> argv;
  for (auto& a : args_s) argv.push_back(a.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  st.session = fuse_session_new(&args, FuseOps(), sizeof(struct fuse_lowlevel_ops), &st);
  fuse_opt_free_args(&args);  // libfuse may have copied the arguments into its own list
  if (st.session == nullptr) {
    return MakeError(ErrorCode::kIo, "fuse: cannot create a session (options " + opts + ")");
  }
  if (fuse_session_mount(st.session, options.mountpoint.c_str()) != 0) {
    fuse_session_destroy(st.session);
    st.session = nullptr;
    return MakeError(ErrorCode::kIo, "fuse: cannot mount on " + options.mountpoint);
  }
  server->mounted_ = true;
  return server;
}

Status FuseServer::Run() {
  struct fuse_loop_config config {};
  config.clone_fd = 1;
  config.max_idle_threads = options_.threads;
  int rc = fuse_session_loop_mt(state_->session, &config);
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

FuseServer::~FuseServer() {
  if (state_ && state_->session != nullptr) {
    // Also after Exit(): it detached the mount, this frees libfuse's copy of the mountpoint.
    mounted_ = false;
    fuse_session_unmount(state_->session);
    fuse_session_destroy(state_->session);
  }
}

}  // namespace tessera::nydusd
