// Blob uploads: POST to open a session, then one monolithic PUT ?digest= (small blobs) or PATCH
// chunks with Content-Range followed by a closing PUT. A failed session is restarted from the
// beginning (with backoff) up to max_retries times.
#include "client_impl.h"

namespace tessera::oci {
namespace {

using internal::Call;
using internal::ClientCore;
using internal::HttpResponse;

struct Upload {
  ClientCore& core;
  const std::string& repo;
  const Descriptor& blob;
  const ByteSource& data;
  const ProgressFn& progress;
  std::string what;

  Call NewCall(const std::string& method, const std::string& url) const {
    Call call;
    call.method = method;
    call.url = url;
    call.scopes = {internal::PushScope(repo)};
    call.max_retries = 0;  // the whole session is retried instead
    return call;
  }

  Result<std::string> Location(const HttpResponse& r, const std::string& base) const {
    std::string loc = r.Header("location");
    if (loc.empty()) return MakeError(ErrorCode::kCorrupt, what + ": upload without Location");
    return internal::ResolveUrl(base, loc);
  }

  Result<std::string> Start() {
    std::string url = core.Url("/v2/" + repo + "/blobs/uploads/");
    Call call = NewCall("POST", url);
    TRY(HttpResponse r, core.Send(call));
    if (r.status != 202) return core.StatusError(r, what + ": POST upload");
    return Location(r, url);
  }

  void Body(Call& call, uint64_t offset, uint64_t size) const {
    call.body_source = &data;
    call.body_offset = offset;
    call.body_size = size;
    call.whole_timeout = false;  // large bodies: bounded by the stall timeout instead
    call.headers.push_back("Content-Type: application/octet-stream");
    if (progress) {
      uint64_t total = blob.size;
      call.on_upload = [this, offset, total](uint64_t sent) { progress(offset + sent, total); };
    }
  }

  Result<std::string> Patch(const std::string& location, uint64_t offset, uint64_t size) {
    Call call = NewCall("PATCH", location);
    Body(call, offset, size);
    call.headers.push_back("Content-Range: " + std::to_string(offset) + "-" +
                           std::to_string(offset + size - 1));
    TRY(HttpResponse r, core.Send(call));
    if (r.status != 202) return core.StatusError(r, what + ": PATCH at " + std::to_string(offset));
    std::string range = r.Header("range");
    std::string want = "0-" + std::to_string(offset + size - 1);
    if (!range.empty() && range != want && range != "bytes=" + want) {
      return MakeError(ErrorCode::kUnavailable,
                       what + ": registry has range " + range + ", expected " + want);
    }
    return Location(r, location);
  }

  Status Finish(const std::string& location, uint64_t offset, uint64_t size) {
    std::string url = location + (location.find('?') == std::string::npos ? "?" : "&") +
                      "digest=" + internal::UrlEscape(blob.digest);
    Call call = NewCall("PUT", url);
    Body(call, offset, size);
    TRY(HttpResponse r, core.Send(call));
    if (r.status != 201) return core.StatusError(r, what + ": PUT");
    std::string echoed = r.Header("docker-content-digest");
    if (!echoed.empty() && echoed != blob.digest) {
      return MakeError(ErrorCode::kCorrupt, what + ": registry computed digest " + echoed);
    }
    return Ok();
  }

  Status RunOnce() {
    TRY(std::string location, Start());
    uint64_t chunk = std::max<uint64_t>(core.options().upload_chunk_size, 1);
    if (blob.size <= chunk) return Finish(location, 0, blob.size);
    uint64_t offset = 0;
    while (offset < blob.size) {
      uint64_t n = std::min(chunk, blob.size - offset);
      TRY(location, Patch(location, offset, n));
      offset += n;
    }
    return Finish(location, blob.size, 0);
  }
};

}  // namespace

Result<bool> RegistryClient::PushBlob(const std::string& repo, const Descriptor& blob,
                                      const ByteSource& data, const ProgressFn& progress) {
  RETURN_IF_ERROR(ValidateDigest(blob.digest));
  std::string what = "registry " + host() + ": push " + repo + "@" + blob.digest;
  if (data.Size() != blob.size) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + ": source has " + std::to_string(data.Size()) +
                         " bytes, descriptor says " + std::to_string(blob.size));
  }
  TRY(auto existing, HeadBlob(repo, blob.digest));
  if (existing && *existing == blob.size) return false;
  Upload upload{impl_->core, repo, blob, data, progress, what};
  for (int attempt = 0;; ++attempt) {
    Status st = upload.RunOnce();
    if (st) return true;
    if (!internal::IsRetryable(st.error()) || attempt >= impl_->core.options().max_retries ||
        !impl_->core.Backoff(attempt, {}, nullptr)) {
      return st.error();
    }
    impl_->core.CountRetry();
  }
}

}  // namespace tessera::oci
