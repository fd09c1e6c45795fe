#include "http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace tessera::oci::internal {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* easy = nullptr;
  HttpResponse response;
  uint64_t sent = 0;
  bool too_large = false;
  std::optional<Error> read_error;
  // Stall detection: LOW_SPEED_* averages over seconds, this notices the first silent period.
  std::chrono::milliseconds stall_timeout{0};
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change;
  bool stalled = false;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue or a redirect)
    t->response.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response.headers.emplace_back(Lower(Trim(line.substr(0, colon))),
                                     std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response.status == 0)
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(data), len);
  bool ok2xx = t->response.status >= 200 && t->response.status < 300;
  if (t->request->sink && ok2xx) {
    bool more = t->request->sink(t->response, bytes);
    t->last_change = std::chrono::steady_clock::now();  // time the sink waited is no stall
    if (!more) {
      t->response.sink_stopped = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  size_t cap = ok2xx ? t->request->max_body : kMaxErrorBody;
  if (t->response.body.size() + len > cap) {
    if (!ok2xx) return len;  // keep the head of an error body; drop the rest
    t->too_large = true;
    return CURL_WRITEFUNC_ERROR;
  }
  t->response.body.insert(t->response.body.end(), bytes.begin(), bytes.end());
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  uint64_t total = r.body_source ? r.body_size : r.body_bytes.size();
  size_t len = static_cast<size_t>(std::min<uint64_t>(size * n, total - t->sent));
  if (len == 0) return 0;
  std::span<uint8_t> out(reinterpret_cast<uint8_t*>(buffer), len);
  if (r.body_source) {
    auto st = r.body_source->ReadAt(r.body_offset + t->sent, out);
    if (!st) {
      t->read_error = st.error();
      return CURL_READFUNC_ABORT;
    }
  } else {
    std::memcpy(out.data(), r.body_bytes.data() + t->sent, len);
  }
  t->sent += len;
  if (r.on_upload) r.on_upload(t->sent);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  // The caller's cancel wins over a stall noticed in the same (possibly late) callback: curl calls
  // this about once a second when no data flows, so both can be due at once.
  if (r.abort && r.abort->load()) return 1;
  if (r.control.cancel && r.control.cancel->load()) return 1;
  auto now = std::chrono::steady_clock::now();
  if (dlnow + ulnow != t->last_bytes) {
    t->last_bytes = dlnow + ulnow;
    t->last_change = now;
  } else if (t->stall_timeout.count() > 0 && now - t->last_change >= t->stall_timeout) {
    t->stalled = true;
    return 1;
  }
  if (r.control.deadline && now >= *r.control.deadline) return 1;
  return 0;
}

void SetBody(CURL* easy, const HttpRequest& r, curl_slist** headers) {
  uint64_t size = r.body_source ? r.body_size : r.body_bytes.size();
  if (r.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (r.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
    if (size == 0) curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
  } else if (r.method == "PUT" || r.method == "PATCH") {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    if (r.method == "PATCH") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PATCH");
  } else if (r.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  *headers = curl_slist_append(*headers, "Expect:");
}

long TimeoutMs(const HttpRequest& r) {
  long ms = static_cast<long>(r.timeout.count());
  if (r.control.deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    *r.control.deadline - std::chrono::steady_clock::now())
                    .count();
    left = std::max<long>(left, 1);
    ms = ms == 0 ? left : std::min<long>(ms, left);
  }
  return ms;
}

void Configure(CURL* easy, const TransportOptions& o, const HttpRequest& r, Transfer* t,
               curl_slist** headers, char* errbuf) {
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, TimeoutMs(r));
  long stall_s = std::max<long>(1, static_cast<long>((o.stall_timeout.count() + 999) / 1000));
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, stall_s);
  if (!o.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, o.ca_file.c_str());
  if (o.insecure_tls) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(easy, CURLOPT_READDATA, t);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, t);
  SetBody(easy, r, headers);
  for (const auto& h : r.headers) *headers = curl_slist_append(*headers, h.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, *headers);
}

Error TransportError(CURLcode rc, const HttpRequest& r, const Transfer& t, const char* errbuf) {
  std::string what = r.method + " " + UrlOrigin(r.url) + ": ";
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
      if (t.stalled) return MakeError(ErrorCode::kTimeout, what + "no data for the stall timeout");
      if (r.control.deadline && std::chrono::steady_clock::now() >= *r.control.deadline) {
        return MakeError(ErrorCode::kTimeout, what + "deadline passed");
      }
      return MakeError(ErrorCode::kCancelled, what + "cancelled");
    case CURLE_OPERATION_TIMEDOUT:
      return MakeError(ErrorCode::kTimeout, what + detail);
    case CURLE_READ_ERROR:
      if (t.read_error) return t.read_error->Wrap(what + "reading the upload body");
      return MakeError(ErrorCode::kIo, what + detail);
    case CURLE_WRITE_ERROR:
      if (t.too_large) return MakeError(ErrorCode::kTooLarge, what + "response body too large");
      return MakeError(ErrorCode::kIo, what + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return MakeError(ErrorCode::kPermission, what + "TLS verification failed: " + detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return MakeError(ErrorCode::kInvalidArgument, what + detail);
    default:
      return MakeError(ErrorCode::kUnavailable, what + detail);
  }
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string out;
  for (const auto& [k, v] : headers) {
    if (k == name) out = v;
  }
  return out;
}

std::vector<std::string> HttpResponse::HeaderValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) out.push_back(v);
  }
  return out;
}

CurlPool::~CurlPool() {
  for (void* e : idle_) curl_easy_cleanup(static_cast<CURL*>(e));
}

void* CurlPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* e = idle_.back();
      idle_.pop_back();
      curl_easy_reset(static_cast<CURL*>(e));  // keeps live connections and caches
      return e;
    }
  }
  return curl_easy_init();
}

void CurlPool::Release(void* easy) {
  std::lock_guard lock(mu_);
  idle_.push_back(easy);
}

Result<HttpResponse> Perform(CurlPool& pool, const TransportOptions& options,
                             const HttpRequest& request) {
  CURL* easy = static_cast<CURL*>(pool.Acquire());
  if (easy == nullptr) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  Transfer t;
  t.request = &request;
  t.easy = easy;
  t.stall_timeout = options.stall_timeout;
  t.last_change = std::chrono::steady_clock::now();
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {0};
  Configure(easy, options, request, &t, &headers, errbuf);
  CURLcode rc = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t.response.status);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  pool.Release(easy);
  t.response.bytes_sent = t.sent;
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.response.sink_stopped)) {
    return std::move(t.response);
  }
  return TransportError(rc, request, t, errbuf);
}

bool IsRetryable(const Error& error) {
  return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kTimeout;
}

std::string UrlOrigin(const std::string& url) {
  CURLU* u = curl_url();
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (scheme && host) out = Lower(scheme) + "://" + Lower(host) + ":" + (port ? port : "");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

std::string ResolveUrl(const std::string& base, const std::string& location) {
  CURLU* u = curl_url();
  std::string out = location;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char* full = nullptr;
    if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) out = full;
    curl_free(full);
  }
  curl_url_cleanup(u);
  return out;
}

std::string UrlEscape(std::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace tessera::oci::internal
