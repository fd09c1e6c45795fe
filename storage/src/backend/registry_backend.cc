// Registry backend policy: endpoint order and health, failover, retries, hedged requests.
#include "tessera/storage/registry_backend.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace tessera::storage {
namespace {

using Clock = std::chrono::steady_clock;

// Failures worth another try, and that count against the endpoint's health. kCorrupt here is a
// short or malformed answer (the bytes themselves are checked by the cache).
bool Transient(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kIo:
    case ErrorCode::kTimeout:
    case ErrorCode::kCorrupt:
      return true;
    default:
      return false;
  }
}

struct Endpoint {
  std::shared_ptr<RangeSource> source;
  std::string host;
  uint64_t requests = 0;  // the counters are guarded by the backend's mutex
  uint64_t failures = 0;
  uint32_t consecutive = 0;
  Clock::time_point bad_until{};
};

// One range request of a Read; a hedge writes into its own buffer.
struct Request {
  size_t endpoint = 0;
  bool hedge = false;
  std::vector<uint8_t> own;
  std::span<uint8_t> out;
  std::atomic<bool> cancel{false};
  std::thread thread;
};

// The requests of one attempt and who answered first.
struct Race {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int winner = -1;
  std::optional<Error> last_error;
  std::deque<Request> requests;
};

class RegistryBackendImpl final : public RegistryBackend {
 public:
  RegistryBackendImpl(std::vector<std::shared_ptr<RangeSource>> sources,
                      const RegistryBackendOptions& options)
      : options_(options) {
    for (auto& s : sources) {
      Endpoint e;
      e.host = s->host();
      e.source = std::move(s);
      endpoints_.push_back(std::move(e));
    }
  }

  std::string Name() const override {
    return "registry:" + (endpoints_.empty() ? std::string() : endpoints_[0].host);
  }
  Status Read(const BlobInfo& blob, uint64_t offset, std::span<uint8_t> out) override;
  size_t UpdateCredentials(const oci::Credentials& credentials, const std::string& host) override;
  RegistryBackendStats Stats() const override;

 private:
  std::vector<size_t> Order();
  Status One(size_t endpoint, const std::string& digest, uint64_t offset, std::span<uint8_t> out,
             const oci::RequestControl& control);
  void Record(size_t endpoint, const Status& st);
  Status Attempt(const std::string& digest, uint64_t offset, std::span<uint8_t> out,
                 Clock::time_point deadline);
  Status Sequential(const std::vector<size_t>& order, const std::string& digest, uint64_t offset,
                    std::span<uint8_t> out, Clock::time_point deadline);
  Status Hedged(const std::vector<size_t>& order, const std::string& digest, uint64_t offset,
                std::span<uint8_t> out, Clock::time_point deadline);
  void Launch(Race& race, size_t endpoint, bool hedge, const std::string& digest, uint64_t offset,
              std::span<uint8_t> out, Clock::time_point deadline);
  void Count(uint64_t RegistryBackendStats::*field, RegistryEvent event) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++(stats_.*field);
    }
    if (options_.observer != nullptr) options_.observer->OnRegistryEvent(event);
  }

  RegistryBackendOptions options_;
  mutable std::mutex mu_;  // guards endpoints_' counters and health, stats_
  std::vector<Endpoint> endpoints_;
  RegistryBackendStats stats_;
};

// Healthy endpoints in configured order, then the ones cooling down (a last resort).
std::vector<size_t> RegistryBackendImpl::Order() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = Clock::now();
  std::vector<size_t> good, bad;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    (endpoints_[i].bad_until > now ? bad : good).push_back(i);
  }
  good.insert(good.end(), bad.begin(), bad.end());
  return good;
}

void RegistryBackendImpl::Record(size_t i, const Status& st) {
  std::lock_guard<std::mutex> lock(mu_);
  Endpoint& e = endpoints_[i];
  if (st) {
    e.consecutive = 0;
    e.bad_until = {};
    return;
  }
  if (st.error().code == ErrorCode::kCancelled) return;
  ++e.failures;
  if (!Transient(st.error())) return;
  if (++e.consecutive >= static_cast<uint32_t>(std::max(1, options_.failure_threshold))) {
    e.bad_until = Clock::now() + options_.cooldown;
  }
}

Status RegistryBackendImpl::One(size_t i, const std::string& digest, uint64_t offset,
                                std::span<uint8_t> out, const oci::RequestControl& control) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++endpoints_[i].requests;
    ++stats_.requests;
  }
  if (options_.observer != nullptr) options_.observer->OnRegistryEvent(RegistryEvent::kRequest);
  Status st;
  if (control.deadline && Clock::now() >= *control.deadline) {
    st = MakeError(ErrorCode::kTimeout, "no time left");
  } else {
    st = endpoints_[i].source->ReadRange(digest, offset, out, control);
  }
  Record(i, st);
  if (!st) return st.error().Wrap(endpoints_[i].host);
  return st;
}

// Without hedging: each endpoint in order until one answers.
Status RegistryBackendImpl::Sequential(const std::vector<size_t>& order, const std::string& digest,
                                       uint64_t offset, std::span<uint8_t> out,
                                       Clock::time_point deadline) {
  Status last = MakeError(ErrorCode::kUnavailable, "no registry endpoint");
  for (size_t n = 0; n < order.size(); ++n) {
    if (n > 0 && Clock::now() >= deadline) break;
    if (order[n] != 0) Count(&RegistryBackendStats::failovers, RegistryEvent::kFailover);
    last = One(order[n], digest, offset, out, oci::RequestControl{nullptr, deadline});
    if (last) return last;
  }
  return last;
}

void RegistryBackendImpl::Launch(Race& race, size_t endpoint, bool hedge, const std::string& digest,
                                 uint64_t offset, std::span<uint8_t> out,
                                 Clock::time_point deadline) {
  Request& r = race.requests.emplace_back();
  r.endpoint = endpoint;
  r.hedge = hedge;
  if (hedge) r.own.resize(out.size());
  r.out = hedge ? std::span<uint8_t>(r.own) : out;
  int index = static_cast<int>(race.requests.size()) - 1;
  ++race.running;
  r.thread = std::thread([this, &race, &r, index, digest, offset, deadline] {
    Status st = One(r.endpoint, digest, offset, r.out, oci::RequestControl{&r.cancel, deadline});
    std::lock_guard<std::mutex> lock(race.mu);
    --race.running;
    if (st && race.winner < 0) race.winner = index;
    if (!st && st.error().code != ErrorCode::kCancelled) race.last_error = st.error();
    race.cv.notify_all();
  });
}

// With hedging: a twin request after hedge_delay; the first complete answer wins.
Status RegistryBackendImpl::Hedged(const std::vector<size_t>& order, const std::string& digest,
                                   uint64_t offset, std::span<uint8_t> out,
                                   Clock::time_point deadline) {
  Race race;
  size_t next = 0;
  bool hedged = false;
  auto hedge_at = Clock::now() + options_.hedge_delay;
  std::unique_lock<std::mutex> lock(race.mu);
  Launch(race, order[next++], false, digest, offset, out, deadline);
  while (race.winner < 0 && Clock::now() < deadline) {
    if (race.running == 0) {
      if (next >= order.size()) break;
      Count(&RegistryBackendStats::failovers, RegistryEvent::kFailover);
      Launch(race, order[next++], false, digest, offset, out, deadline);
      continue;
    }
    if (!hedged && Clock::now() >= hedge_at) {
      hedged = true;
      Count(&RegistryBackendStats::hedges, RegistryEvent::kHedge);
      // The next endpoint, or a second connection to the one we have.
      Launch(race, next < order.size() ? order[next++] : order[0], true, digest, offset, out,
             deadline);
      continue;
    }
    race.cv.wait_until(lock, hedged ? deadline : std::min(hedge_at, deadline));
  }
  int winner = race.winner;
  for (auto& r : race.requests) r.cancel = true;
  lock.unlock();
  for (auto& r : race.requests) r.thread.join();
  if (winner >= 0) {
    const Request& w = race.requests[static_cast<size_t>(winner)];
    if (w.hedge) {
      std::copy(w.own.begin(), w.own.end(), out.begin());
      Count(&RegistryBackendStats::hedges_won, RegistryEvent::kHedgeWon);
    }
    return Ok();
  }
  if (Clock::now() >= deadline || !race.last_error) {
    return MakeError(ErrorCode::kTimeout,
                     "no answer within " + std::to_string(options_.timeout.count()) + " ms" +
                         (race.last_error ? " (" + race.last_error->ToString() + ")" : ""));
  }
  return *race.last_error;
}

Status RegistryBackendImpl::Attempt(const std::string& digest, uint64_t offset,
                                    std::span<uint8_t> out, Clock::time_point deadline) {
  std::vector<size_t> order = Order();
  if (order.empty()) return MakeError(ErrorCode::kUnavailable, "no registry endpoint");
  if (options_.hedge_delay.count() <= 0) return Sequential(order, digest, offset, out, deadline);
  return Hedged(order, digest, offset, out, deadline);
}

Status RegistryBackendImpl::Read(const BlobInfo& blob, uint64_t offset, std::span<uint8_t> out) {
  std::string where = "registry blob sha256:" + blob.IdHex() + " bytes " + std::to_string(offset) +
                      "+" + std::to_string(out.size());
  if (offset > blob.compressed_size || out.size() > blob.compressed_size - offset) {
    return MakeError(ErrorCode::kOutOfRange, where + ": read past the blob's end");
  }
  if (out.empty()) return Ok();
  std::string digest = "sha256:" + blob.IdHex();
  auto deadline = Clock::now() + options_.timeout;
  auto backoff = options_.retry_backoff;
  Status st = Attempt(digest, offset, out, deadline);
  for (int retry = 0; !st && retry < options_.retry_limit && Transient(st.error()); ++retry) {
    auto now = Clock::now();
    if (now + backoff >= deadline) break;
    std::this_thread::sleep_for(backoff);  // backoff between tries, not synchronization
    backoff *= 2;
    Count(&RegistryBackendStats::retries, RegistryEvent::kRetry);
    st = Attempt(digest, offset, out, deadline);
  }
  if (!st) {
    Count(&RegistryBackendStats::errors, RegistryEvent::kError);
    return st.error().Wrap(where);
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bytes += out.size();
  return Ok();
}

size_t RegistryBackendImpl::UpdateCredentials(const oci::Credentials& credentials,
                                              const std::string& host) {
  size_t n = 0;
  for (auto& e : endpoints_) {
    if (!host.empty() && e.host != host) continue;
    e.source->SetCredentials(credentials);
    ++n;
  }
  return n;
}

RegistryBackendStats RegistryBackendImpl::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  RegistryBackendStats s = stats_;
  auto now = Clock::now();
  for (const auto& e : endpoints_) {
    s.endpoints.push_back(
        EndpointHealth{e.host, e.bad_until <= now, e.requests, e.failures, e.consecutive});
  }
  return s;
}

}  // namespace

std::unique_ptr<RegistryBackend> MakeRegistryBackendFromSources(
    std::vector<std::shared_ptr<RangeSource>> sources, const RegistryBackendOptions& options) {
  return std::make_unique<RegistryBackendImpl>(std::move(sources), options);
}

}  // namespace tessera::storage
