// OpenBlob: a pull-based stream over one blob GET. A worker thread runs the transfer and fills
// a bounded buffer (the transfer waits while the reader is behind); the reader hashes what it
// takes and checks size and digest before reporting the end. A connection that breaks is
// resumed with a Range request from the first byte not yet received.
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>

#include "client_impl.h"

#include "tessera/common/digest.h"

namespace tessera::oci {
namespace {

using internal::Call;
using internal::ClientCore;
using internal::HttpResponse;

constexpr size_t kBufferLimit = 4u << 20;

class BlobStream final : public ByteStream {
 public:
  BlobStream(ClientCore& core, std::string repo, Descriptor blob)
      : core_(core), repo_(std::move(repo)), blob_(std::move(blob)) {
    what_ = "registry " + core_.host() + ": blob " + repo_ + "@" + blob_.digest;
    worker_ = std::thread([this] { Run(); });
  }
  ~BlobStream() override {
    {
      std::lock_guard lock(mu_);  // a Push between its check and its wait must see it
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  Result<size_t> Read(std::span<uint8_t> out) override;

 private:
  void Run();
  Status FetchFrom(uint64_t pos);
  bool Push(std::span<const uint8_t> data);
  void Finish(std::optional<Error> error) {
    std::lock_guard lock(mu_);
    done_ = true;
    error_ = std::move(error);
    cv_.notify_all();
  }
  Status Verify();

  ClientCore& core_;
  const std::string repo_;
  const Descriptor blob_;
  std::string what_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;  // guards the buffer and the end state
  std::condition_variable cv_;
  std::deque<uint8_t> buffer_;
  bool done_ = false;
  std::optional<Error> error_;

  uint64_t received_ = 0;  // worker only
  Sha256 sha_;             // reader only
  uint64_t consumed_ = 0;  // reader only
  std::optional<Status> verdict_;
  std::thread worker_;  // last: started after everything above exists
};

bool BlobStream::Push(std::span<const uint8_t> data) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stop_ || buffer_.size() < kBufferLimit; });
  if (stop_) return false;
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  cv_.notify_all();
  return true;
}

Status BlobStream::FetchFrom(uint64_t pos) {
  bool bad = false;
  uint64_t skip = 0;  // bytes of a 200 body to drop when resuming
  Call call;
  call.url = core_.Url(internal::BlobPath(repo_, blob_.digest));
  if (pos > 0) call.headers.push_back("Range: bytes=" + std::to_string(pos) + "-");
  call.scopes = {internal::PullScope(repo_)};
  call.whole_timeout = false;
  call.max_retries = 0;
  call.abort = &stop_;
  call.reset = [&] { skip = 0; };
  call.sink = [&](const HttpResponse& head, std::span<const uint8_t> data) {
    if (head.status == 206 &&
        !head.Header("content-range").starts_with("bytes " + std::to_string(pos) + "-")) {
      bad = true;
      return false;
    }
    if (head.status == 200 && skip < pos) {
      size_t drop = static_cast<size_t>(std::min<uint64_t>(pos - skip, data.size()));
      skip += drop;
      data = data.subspan(drop);
    }
    if (data.size() > blob_.size - received_) {
      bad = true;  // longer than the descriptor says
      return false;
    }
    received_ += data.size();
    return Push(data);
  };
  TRY(HttpResponse r, core_.Send(call));
  if (bad) return MakeError(ErrorCode::kCorrupt, what_ + ": response does not fit the blob");
  if (r.status != 200 && r.status != 206) return core_.StatusError(r, what_);
  return Ok();
}

void BlobStream::Run() {
  int failures = 0;
  while (!stop_) {
    uint64_t before = received_;
    Status st = FetchFrom(received_);
    if (stop_) break;
    if (st && received_ == blob_.size) return Finish(std::nullopt);
    if (st) {  // a complete response, but not the promised size
      return Finish(MakeError(ErrorCode::kCorrupt,
                              what_ + ": blob has " + std::to_string(received_) +
                                  " bytes, descriptor says " + std::to_string(blob_.size)));
    }
    Error e = st.error();
    if (received_ > before) failures = 0;  // progress: the budget is per stuck position
    if (!internal::IsRetryable(e) || failures >= core_.options().max_retries ||
        !core_.Backoff(failures, {}, &stop_)) {
      return Finish(std::move(e));
    }
    ++failures;
    core_.CountRetry();
  }
  Finish(MakeError(ErrorCode::kCancelled, what_ + ": stream closed"));
}

Status BlobStream::Verify() {
  if (consumed_ != blob_.size) {
    return MakeError(ErrorCode::kCorrupt, what_ + ": got " + std::to_string(consumed_) +
                                              " bytes, expected " + std::to_string(blob_.size));
  }
  std::string actual = "sha256:" + ToHex(sha_.Finish());
  if (actual != blob_.digest) {
    return MakeError(ErrorCode::kCorrupt, what_ + ": content has digest " + actual);
  }
  return Ok();
}

Result<size_t> BlobStream::Read(std::span<uint8_t> out) {
  if (verdict_) {
    if (!*verdict_) return verdict_->error();
    return size_t{0};
  }
  if (out.empty()) return size_t{0};
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !buffer_.empty() || done_; });
  if (!buffer_.empty()) {
    size_t n = std::min(out.size(), buffer_.size());
    std::copy_n(buffer_.begin(), n, out.begin());
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    cv_.notify_all();
    lock.unlock();
    sha_.Update(out.first(n));
    consumed_ += n;
    return n;
  }
  verdict_ = error_ ? Status(*error_) : Verify();
  if (!*verdict_) return verdict_->error();
  return size_t{0};
}

}  // namespace

Result<std::unique_ptr<ByteStream>> RegistryClient::OpenBlob(const std::string& repo,
                                                             const Descriptor& blob) {
  RETURN_IF_ERROR(ValidateDigest(blob.digest));
  if (repo.empty()) return MakeError(ErrorCode::kInvalidArgument, "OpenBlob: empty repository");
  return std::unique_ptr<ByteStream>(std::make_unique<BlobStream>(impl_->core, repo, blob));
}

}  // namespace tessera::oci
