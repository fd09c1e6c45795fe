#define FUSE_USE_VERSION 34
#include "fuse/fuse_uring.h"

#include <fuse_lowlevel.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <sched.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "fuse/fuse_state.h"
#include "fuse/fuse_uring_abi.h"

namespace tessera::nydusd {

struct FuseUring::Entry {
  alignas(64) uring_abi::ReqHeader header{};
  std::unique_ptr<char[]> payload;
  struct iovec iov[2]{};
  Queue* queue = nullptr;
  bool answered = false;
};

struct FuseUring::Queue {
  uint16_t qid = 0;
  struct io_uring ring {};
  bool ring_ready = false;
  std::vector<std::unique_ptr<Entry>> entries;
  std::vector<char> request;  // the request in /dev/fuse layout, reused
  std::mutex submit_mu;       // the ring's submission side
};

namespace {

// Size of the opcode's fixed argument struct (in_args[0], carried in op_in), for the opcodes the
// daemon serves; the rest are answered ENOSYS without libfuse.
std::optional<size_t> FixedArgSize(uint32_t opcode) {
  switch (opcode) {
    case FUSE_LOOKUP:
    case FUSE_READLINK:
    case FUSE_STATFS:
    case FUSE_DESTROY:
      return 0;
    case FUSE_GETATTR:
      return sizeof(struct fuse_getattr_in);
    case FUSE_OPEN:
    case FUSE_OPENDIR:
      return sizeof(struct fuse_open_in);
    case FUSE_READ:
    case FUSE_READDIR:
    case FUSE_READDIRPLUS:
      return sizeof(struct fuse_read_in);
    case FUSE_RELEASE:
    case FUSE_RELEASEDIR:
      return sizeof(struct fuse_release_in);
    case FUSE_FLUSH:
      return sizeof(struct fuse_flush_in);
    case FUSE_GETXATTR:
    case FUSE_LISTXATTR:
      return sizeof(struct fuse_getxattr_in);
    case FUSE_ACCESS:
      return sizeof(struct fuse_access_in);
    default:
      return std::nullopt;
  }
}

void PrepCmd(struct io_uring_sqe* sqe, int fd, uint32_t cmd, FuseUring::Entry& e, uint16_t qid,
             uint64_t commit_id) {
  std::memset(static_cast<void*>(sqe), 0, 2 * sizeof(struct io_uring_sqe));  // 128-byte SQE
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = fd;
  sqe->cmd_op = cmd;
  sqe->addr = reinterpret_cast<uint64_t>(e.iov);
  sqe->len = 2;
  uring_abi::CmdReq req{};
  req.commit_id = commit_id;
  req.qid = qid;
  std::memcpy(sqe->cmd, &req, sizeof req);
  io_uring_sqe_set_data(sqe, &e);
}

// The kernel keeps one queue per possible CPU and uses io_uring only once each has an entry.
int PossibleCpus() {
  std::ifstream in("/sys/devices/system/cpu/possible");  // "0-3", "0", "0-3,8-11"
  std::string text;
  if (!std::getline(in, text) || text.empty()) return get_nprocs_conf();
  size_t last = text.find_last_of("-,");
  try {
    return std::stoi(last == std::string::npos ? text : text.substr(last + 1)) + 1;
  } catch (const std::exception&) {
    return get_nprocs_conf();
  }
}

}  // namespace

bool FuseUring::KernelEnabled() {
  std::ifstream in("/sys/module/fuse/parameters/enable_uring");
  char c = 0;
  return in.get(c) && c == 'Y';
}

Result<std::unique_ptr<FuseUring>> FuseUring::Install(struct fuse_session* session, Logger* logger,
                                                      FuseObserver* observer) {
  std::unique_ptr<FuseUring> u(new FuseUring());
  u->session_ = session;
  u->fd_ = fuse_session_fd(session);
  u->logger_ = logger;
  u->observer_ = observer;
  struct fuse_custom_io io {};
  io.writev = &FuseUring::Writev;
  io.read = &FuseUring::Read;
  if (fuse_session_custom_io(session, &io, u->fd_) != 0) {
    return MakeError(ErrorCode::kUnsupported, "fuse: cannot install custom session I/O");
  }
  // libfuse hands the callbacks the session's user data: FuseServer::State, whose `uring` the
  // caller points here.
  return u;
}

FuseUring::~FuseUring() { Stop(); }

ssize_t FuseUring::Read(int fd, void* buf, size_t len, void*) { return ::read(fd, buf, len); }

void FuseUring::PatchInit(struct iovec& body) {
  constexpr size_t kNeeded = offsetof(struct fuse_init_out, flags2) + sizeof(uint32_t);
  if (body.iov_len < kNeeded) return;
  auto* out = static_cast<struct fuse_init_out*>(body.iov_base);
  out->flags |= uring_abi::kInitExt;
  out->flags2 |= static_cast<uint32_t>(uring_abi::kOverIoUring >> 32);
  size_t pages = std::max<size_t>(out->max_pages, 1) * 4096;
  payload_size_ = std::max({size_t{8192}, size_t{out->max_write}, pages});
  negotiated_ = true;
}

FuseUring::Entry* FuseUring::TakeInFlight(uint64_t unique) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = in_flight_.find(unique);
  if (it == in_flight_.end()) return nullptr;
  Entry* e = it->second;
  in_flight_.erase(it);
  return e;
}

ssize_t FuseUring::Writev(int fd, struct iovec* iov, int count, void* userdata) {
  FuseUring* u = static_cast<FuseServer::State*>(userdata)->uring;
  if (u == nullptr || count < 1 || iov[0].iov_len < sizeof(struct fuse_out_header)) {
    return ::writev(fd, iov, count);
  }
  const auto* oh = static_cast<const struct fuse_out_header*>(iov[0].iov_base);
  if (oh->unique != 0 && oh->unique == u->init_unique_ && count >= 2) u->PatchInit(iov[1]);
  Entry* e = oh->unique != 0 ? u->TakeInFlight(oh->unique) : nullptr;
  if (e == nullptr) return ::writev(fd, iov, count);
  size_t data = 0;
  for (int i = 1; i < count; ++i) data += iov[i].iov_len;
  if (data > u->payload_size_) {
    u->CommitError(*e, oh->unique, -EIO);
    errno = EINVAL;
    return -1;
  }
  u->Commit(*e, oh, iov + 1, count - 1);
  return static_cast<ssize_t>(sizeof(struct fuse_out_header) + data);
}

void FuseUring::Commit(Entry& e, const void* out_header, const struct iovec* data, int count) {
  struct fuse_out_header oh;
  std::memcpy(&oh, out_header, sizeof oh);
  size_t n = 0;
  for (int i = 0; i < count; ++i) {
    std::memcpy(e.payload.get() + n, data[i].iov_base, data[i].iov_len);
    n += data[i].iov_len;
  }
  oh.len = static_cast<uint32_t>(sizeof oh + n);
  std::memcpy(e.header.in_out, &oh, sizeof oh);
  uint64_t commit_id = e.header.ring_ent_in_out.commit_id;
  e.header.ring_ent_in_out.payload_sz = static_cast<uint32_t>(n);
  e.answered = true;
  Queue& q = *e.queue;
  std::lock_guard<std::mutex> lock(q.submit_mu);
  struct io_uring_sqe* sqe = io_uring_get_sqe(&q.ring);
  if (sqe == nullptr) return;  // cannot happen: one SQE per entry, the ring holds them all
  PrepCmd(sqe, fd_, uring_abi::kCmdCommitAndFetch, e, q.qid, commit_id);
  io_uring_submit(&q.ring);
}

void FuseUring::CommitError(Entry& e, uint64_t unique, int error) {
  struct fuse_out_header oh {};
  oh.error = error;
  oh.unique = unique;
  Commit(e, &oh, nullptr, 0);
}

Status FuseUring::Start(unsigned entries_per_queue) {
  if (!negotiated_) return MakeError(ErrorCode::kUnsupported, "fuse: io_uring not negotiated");
  int cpus = PossibleCpus();
  for (int c = 0; c < cpus; ++c) {
    auto q = std::make_unique<Queue>();
    q->qid = static_cast<uint16_t>(c);
    for (unsigned i = 0; i < std::max(1u, entries_per_queue); ++i) {
      auto e = std::make_unique<Entry>();
      e->payload.reset(new char[payload_size_]);
      e->iov[0] = {&e->header, sizeof e->header};
      e->iov[1] = {e->payload.get(), payload_size_};
      e->queue = q.get();
      q->entries.push_back(std::move(e));
    }
    struct io_uring_params params {};
    params.flags = IORING_SETUP_SQE128;
    int rc =
        io_uring_queue_init_params(static_cast<unsigned>(q->entries.size()) * 2, &q->ring, &params);
    if (rc < 0) return ErrnoError(-rc, "fuse: io_uring setup for queue " + std::to_string(c));
    q->ring_ready = true;
    queues_.push_back(std::move(q));
  }
  for (auto& q : queues_) threads_.emplace_back([this, qp = q.get()] { Serve(*qp); });
  return Ok();
}

void FuseUring::Serve(Queue& q) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(q.qid, &set);
  (void)sched_setaffinity(0, sizeof set, &set);  // an offline CPU: its queue is never used
  {
    std::lock_guard<std::mutex> lock(q.submit_mu);
    for (auto& e : q.entries) {
      struct io_uring_sqe* sqe = io_uring_get_sqe(&q.ring);
      if (sqe != nullptr) PrepCmd(sqe, fd_, uring_abi::kCmdRegister, *e, q.qid, 0);
    }
    io_uring_submit(&q.ring);
  }
  while (!stop_) {
    struct __kernel_timespec wait {};
    wait.tv_nsec = 100 * 1000 * 1000;
    struct io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe_timeout(&q.ring, &cqe, &wait);
    if (rc == -ETIME || rc == -EINTR) continue;
    if (rc < 0) break;
    auto* e = static_cast<Entry*>(io_uring_cqe_get_data(cqe));
    int res = cqe->res;
    io_uring_cqe_seen(&q.ring, cqe);
    if (res < 0) {
      // ENOTCONN/ECANCELED: the connection or the ring ended; anything else: registration
      // refused (then the kernel never switches to io_uring and /dev/fuse serves everything).
      if (res != -ENOTCONN && res != -ECANCELED && logger_ != nullptr) {
        logger_->Warn("fuse: io_uring entry refused by the kernel",
                      {{"queue", std::to_string(q.qid)}, {"error", std::strerror(-res)}});
      }
      break;
    }
    Handle(q, *e);
  }
}

void FuseUring::Handle(Queue& q, Entry& e) {
  struct fuse_in_header in;
  std::memcpy(&in, e.header.in_out, sizeof in);
  uint32_t payload = e.header.ring_ent_in_out.payload_sz;
  std::optional<size_t> fixed = FixedArgSize(in.opcode);
  if (!fixed || payload > payload_size_) return CommitError(e, in.unique, -ENOSYS);
  size_t total = sizeof in + *fixed + payload;
  if (q.request.size() < total) q.request.resize(total);
  in.len = static_cast<uint32_t>(total);
  std::memcpy(q.request.data(), &in, sizeof in);
  std::memcpy(q.request.data() + sizeof in, e.header.op_in, *fixed);
  std::memcpy(q.request.data() + sizeof in + *fixed, e.payload.get(), payload);
  e.answered = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_[in.unique] = &e;
  }
  struct fuse_buf buf {};
  buf.mem = q.request.data();
  buf.size = total;
  fuse_session_process_buf(session_, &buf);
  if (observer_ != nullptr) observer_->UringRequest();
  if (!e.answered && TakeInFlight(in.unique) != nullptr) CommitError(e, in.unique, -EIO);
}

void FuseUring::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  for (auto& q : queues_) {
    if (q->ring_ready) io_uring_queue_exit(&q->ring);
    q->ring_ready = false;
  }
}

}  // namespace tessera::nydusd
