// RegistryClient: documents, small blobs, HEAD, range reads, manifests and cross-repo mounts.
#include <cstring>

#include "client_impl.h"

namespace tessera::oci {
namespace {

using internal::Call;
using internal::HttpResponse;

constexpr size_t kMaxManifestBytes = 16u << 20;
constexpr uint64_t kMaxSmallBlob = 64u << 20;

Status CheckRepo(const std::string& repo) {
  if (repo.empty() || repo.find("..") != std::string::npos || repo.front() == '/' ||
      repo.find_first_of("?#% ") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "repository '" + repo + "' is not valid");
  }
  return Ok();
}

std::string AcceptHeader() {
  std::string out = "Accept: ";
  out += std::string(media::kOciManifest) + ", " + std::string(media::kOciIndex) + ", " +
         std::string(media::kDockerManifest) + ", " + std::string(media::kDockerManifestList);
  return out;
}

// "bytes START-END/TOTAL" must name exactly [offset, offset+size).
bool ContentRangeMatches(const std::string& value, uint64_t offset, uint64_t size) {
  std::string want =
      "bytes " + std::to_string(offset) + "-" + std::to_string(offset + size - 1) + "/";
  return value.starts_with(want);
}

// Copies the bytes of [offset, offset+out.size()) of a response body that starts at body_start.
struct RangeSink {
  std::span<uint8_t> out;
  uint64_t offset = 0;
  uint64_t body_pos = 0;  // bytes of this response seen so far
  uint64_t filled = 0;
  bool bad_range = false;
  std::string content_range;  // of a rejected 206

  // True if the server says the blob ends before the requested range does.
  bool PastEnd() const {
    size_t slash = content_range.rfind('/');
    if (slash == std::string::npos) return false;
    std::string total = content_range.substr(slash + 1);
    if (total.empty() || total.size() > 19 ||
        total.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    return std::stoull(total) < offset + out.size();
  }

  bool Take(const HttpResponse& head, std::span<const uint8_t> data) {
    uint64_t body_start = 0;
    if (head.status == 206) {
      if (!ContentRangeMatches(head.Header("content-range"), offset, out.size())) {
        bad_range = true;
        content_range = head.Header("content-range");
        return false;
      }
      body_start = offset;
    } else if (head.status != 200) {
      bad_range = true;
      return false;
    }
    uint64_t pos = body_start + body_pos;  // blob offset of data[0]
    body_pos += data.size();
    uint64_t end = offset + out.size();
    uint64_t from = std::max(pos, offset);
    uint64_t to = std::min(pos + data.size(), end);
    if (from < to) {
      std::memcpy(out.data() + (from - offset), data.data() + (from - pos), to - from);
      filled = std::max(filled, to - offset);
    }
    if (head.status == 206 && pos + data.size() > end) {
      bad_range = true;  // more than asked for
      return false;
    }
    return pos + data.size() < end;  // a 200 body is cut off once the range is complete
  }
};

}  // namespace

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(std::string host,
                                                               RegistryOptions options,
                                                               Credentials credentials) {
  if (host.empty() || host.find_first_of("/?# @") != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "registry host '" + host + "' is not valid");
  }
  std::string api_host = host == "docker.io" ? "registry-1.docker.io" : host;
  std::string base = (options.plain_http ? "http://" : "https://") + api_host;
  auto impl = std::make_unique<Impl>(std::move(host), std::move(base), std::move(options),
                                     std::move(credentials));
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(impl)));
}

const std::string& RegistryClient::host() const { return impl_->core.host(); }
void RegistryClient::SetCredentials(Credentials credentials) {
  impl_->core.SetCredentials(std::move(credentials));
}
RegistryStats RegistryClient::Stats() const { return impl_->core.Stats(); }

Status RegistryClient::Ping() {
  Call call;
  call.url = impl_->core.Url("/v2/");
  call.max_body = 1u << 20;
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status != 200) return impl_->core.StatusError(r, "registry " + host() + ": GET /v2/");
  return Ok();
}

Result<FetchedDocument> RegistryClient::GetManifest(const std::string& repo,
                                                    const std::string& ref) {
  RETURN_IF_ERROR(CheckRepo(repo));
  std::string what = "registry " + host() + ": manifest " + repo + ":" + ref;
  Call call;
  call.url = impl_->core.Url("/v2/" + repo + "/manifests/" + ref);
  call.headers.push_back(AcceptHeader());
  call.scopes = {internal::PullScope(repo)};
  call.max_body = kMaxManifestBytes;
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status != 200) return impl_->core.StatusError(r, what);
  FetchedDocument doc;
  doc.media_type = r.Header("content-type");
  doc.media_type = doc.media_type.substr(0, doc.media_type.find(';'));
  doc.digest = DigestOf(r.body);
  if (ref.starts_with("sha256:") && doc.digest != ref) {
    return MakeError(ErrorCode::kCorrupt, what + ": content has digest " + doc.digest);
  }
  doc.bytes = std::move(r.body);
  return doc;
}

Result<std::vector<uint8_t>> RegistryClient::GetBlob(const std::string& repo,
                                                     const Descriptor& blob) {
  RETURN_IF_ERROR(CheckRepo(repo));
  RETURN_IF_ERROR(ValidateDigest(blob.digest));
  std::string what = "registry " + host() + ": blob " + repo + "@" + blob.digest;
  if (blob.size > kMaxSmallBlob) {
    return MakeError(ErrorCode::kTooLarge, what + ": too large to read whole (use OpenBlob)");
  }
  Call call;
  call.url = impl_->core.Url(internal::BlobPath(repo, blob.digest));
  call.scopes = {internal::PullScope(repo)};
  call.max_body = blob.size + 1;
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status != 200) return impl_->core.StatusError(r, what);
  RETURN_IF_ERROR(VerifyContent(r.body, blob.digest, blob.size, what));
  return std::move(r.body);
}

Result<std::optional<uint64_t>> RegistryClient::HeadBlob(const std::string& repo,
                                                         const std::string& digest) {
  RETURN_IF_ERROR(CheckRepo(repo));
  RETURN_IF_ERROR(ValidateDigest(digest));
  Call call;
  call.method = "HEAD";
  call.url = impl_->core.Url(internal::BlobPath(repo, digest));
  call.scopes = {internal::PullScope(repo)};
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status == 404) return std::optional<uint64_t>();
  std::string what = "registry " + host() + ": HEAD blob " + repo + "@" + digest;
  if (r.status != 200) return impl_->core.StatusError(r, what);
  std::string length = r.Header("content-length");
  uint64_t size = 0;
  if (length.empty() || length.size() > 19 ||
      length.find_first_not_of("0123456789") != std::string::npos) {
    return MakeError(ErrorCode::kCorrupt, what + ": bad Content-Length");
  }
  size = std::stoull(length);
  return std::optional<uint64_t>(size);
}

Status RegistryClient::ReadBlobRange(const std::string& repo, const std::string& digest,
                                     uint64_t offset, std::span<uint8_t> out,
                                     const RequestControl& control) {
  RETURN_IF_ERROR(CheckRepo(repo));
  RETURN_IF_ERROR(ValidateDigest(digest));
  if (out.empty()) return Ok();
  std::string what = "registry " + host() + ": blob " + repo + "@" + digest + " range " +
                     std::to_string(offset) + "+" + std::to_string(out.size());
  RangeSink sink;
  sink.out = out;
  sink.offset = offset;
  Call call;
  call.url = impl_->core.Url(internal::BlobPath(repo, digest));
  call.headers.push_back("Range: bytes=" + std::to_string(offset) + "-" +
                         std::to_string(offset + out.size() - 1));
  call.scopes = {internal::PullScope(repo)};
  call.control = control;
  call.sink = [&sink](const HttpResponse& h, std::span<const uint8_t> d) {
    return sink.Take(h, d);
  };
  call.reset = [&sink] {
    sink.body_pos = sink.filled = 0;
    sink.bad_range = false;
    sink.content_range.clear();
  };
  call.validate = [&sink, &what](const HttpResponse&) -> Status {
    if (sink.bad_range && sink.PastEnd()) {
      return MakeError(ErrorCode::kOutOfRange,
                       what + ": past the blob end (" + sink.content_range + ")");
    }
    if (sink.bad_range) return MakeError(ErrorCode::kCorrupt, what + ": wrong Content-Range");
    if (sink.filled != sink.out.size()) {
      return MakeError(ErrorCode::kUnavailable,
                       what + ": short body (" + std::to_string(sink.filled) + " bytes)");
    }
    return Ok();
  };
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status != 200 && r.status != 206) return impl_->core.StatusError(r, what);
  return call.validate(r);
}

Result<std::string> RegistryClient::PutManifest(const std::string& repo, const std::string& ref,
                                                std::string_view media_type,
                                                std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(CheckRepo(repo));
  std::string digest = DigestOf(bytes);
  std::string what = "registry " + host() + ": PUT manifest " + repo + ":" + ref;
  if (ref.starts_with("sha256:") && ref != digest) {
    return MakeError(ErrorCode::kInvalidArgument, what + ": bytes have digest " + digest);
  }
  Call call;
  call.method = "PUT";
  call.url = impl_->core.Url("/v2/" + repo + "/manifests/" + ref);
  call.headers.push_back("Content-Type: " + std::string(media_type));
  call.scopes = {internal::PushScope(repo)};
  call.body_bytes = bytes;
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status != 201 && r.status != 200) return impl_->core.StatusError(r, what);
  std::string echoed = r.Header("docker-content-digest");
  if (!echoed.empty() && echoed != digest) {
    return MakeError(ErrorCode::kCorrupt, what + ": registry stored digest " + echoed);
  }
  return digest;
}

Result<bool> RegistryClient::MountBlob(const std::string& repo, const std::string& digest,
                                       const std::string& from_repo) {
  RETURN_IF_ERROR(CheckRepo(repo));
  RETURN_IF_ERROR(CheckRepo(from_repo));
  RETURN_IF_ERROR(ValidateDigest(digest));
  Call call;
  call.method = "POST";
  call.url =
      impl_->core.Url("/v2/" + repo + "/blobs/uploads/?mount=" + internal::UrlEscape(digest) +
                      "&from=" + internal::UrlEscape(from_repo));
  call.scopes = {internal::PushScope(repo), internal::PullScope(from_repo)};
  TRY(HttpResponse r, impl_->core.Send(call));
  if (r.status == 201) return true;
  if (r.status == 202) return false;  // the registry opened an upload instead
  return impl_->core.StatusError(
      r, "registry " + host() + ": mount " + digest + " from " + from_repo + " into " + repo);
}

}  // namespace tessera::oci
