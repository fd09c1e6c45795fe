// A small HTTP/1.1 server and client over a unix socket, for the daemons' control APIs.
//
// Why our own: the APIs are a handful of JSON/text endpoints on a local socket, and owning the
// ~1k lines lets us bound every input (head ≤ 16 KiB, body ≤ 1 MiB, 10 s per request), fuzz
// the parser, and keep a slow or hostile local client from stalling the daemon.
//
// Supported subset: request bodies only with Content-Length (Transfer-Encoding gets 411),
// keep-alive and pipelining, Expect: 100-continue; responses always carry Content-Length.
// Routing is exact on method + %-decoded path (the query is split off into a map).
//
// Error bodies: the server's own errors (400, 404, 405, 408, 411, 413, 417, 431, 500, 503,
// 505) use the JSON shape of docs/api.md, {"error": {"code": "...", "message": "..."}};
// ErrorResponse() builds the same shape from a tessera::Error so handlers answer consistently.
//
// Thread-safety: HttpRequest/HttpResponse are values. HttpServer: Route() before Start();
// Start()/Stop() from one controlling thread; handlers run concurrently on the worker threads
// and must be thread-safe; never call Stop() from a handler (it joins the handler's thread).
// HttpClient: any thread; requests on one client are serialized by an internal mutex.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/common/logging.h"
#include "tessera/common/result.h"

namespace tessera {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ... (case-sensitive)
  std::string target;                          // as sent: "/api/v1/mounts?mountpoint=%2Fmnt"
  std::string path;                            // %-decoded, without the query: "/api/v1/mounts"
  std::map<std::string, std::string> query;    // %-decoded; the last of repeated keys wins
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;

  // The header's value, looked up case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
  // The query parameter's value, or nullopt.
  std::optional<std::string_view> Query(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Server: extra headers to send (Content-Type/Length and Connection are set by the server).
  // Client: every header received, lower-case names.
  std::map<std::string, std::string> headers;

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
  // An empty body (204, 202, ...).
  static HttpResponse Empty(int status);
  // {"error": {"code": CODE, "message": MESSAGE}} with the given status.
  static HttpResponse JsonError(int status, std::string_view code, std::string_view message);
};

// "OK", "Not Found", ... ("Unknown" for codes we do not name).
std::string_view HttpReasonPhrase(int status);

// The API error vocabulary (docs/api.md): ErrorCode <-> "invalid_argument", "not_found", ...
// and the HTTP status each maps to. The server-only codes "method_not_allowed" and
// "length_required" have no ErrorCode; ErrorCodeFromApiCode maps unknown codes to nullopt.
std::string_view ApiErrorCode(ErrorCode code);
std::optional<ErrorCode> ErrorCodeFromApiCode(std::string_view api_code);
int HttpStatusForError(ErrorCode code);
// An error response for `error`: status from HttpStatusForError, message = error.ToString().
HttpResponse ErrorResponse(const Error& error);

// %-encodes everything but RFC 3986 unreserved characters and '/'.
std::string PercentEncode(std::string_view text);
// Decodes %XX escapes ('+' stays '+'); a malformed escape is kInvalidArgument.
Result<std::string> PercentDecode(std::string_view text);
// JSON string literal (with quotes) for text; invalid UTF-8 bytes become U+FFFD.
std::string JsonQuote(std::string_view text);

struct HttpServerOptions {
  size_t worker_threads = 4;  // handlers run here; at least 1
  size_t max_connections = 64;
  size_t max_header_bytes = 16 * 1024;  // request line + headers; more gets 431
  size_t max_body_bytes = 1024 * 1024;  // more gets 413
  // A request must arrive completely within this time from its first byte (else 408); a
  // response must be written within it. A new connection must start its request within it.
  std::chrono::milliseconds request_timeout{10000};
  // A kept-alive connection with no request in flight is closed after this time.
  std::chrono::milliseconds idle_timeout{60000};
  mode_t socket_mode = 0600;
  Logger* logger = nullptr;  // not owned; nullptr: no logging
};

// Serves registered routes on a unix socket. One thread polls the listener and every idle or
// partially received connection (reading never blocks a worker, so slow clients cost only a
// slot); complete requests go to a worker pool that runs the handler and writes the reply.
class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact method and path ("/api/v1/daemon"); a second call for the
  // same pair replaces the first. Call before Start(). A handler that throws gets a 500.
  void Route(std::string method, std::string path, Handler handler);

  // Creates the socket at socket_path with options.socket_mode and starts serving.
  // A stale socket file (nobody accepting) is replaced; a live one is kAlreadyExists, and a
  // path that is not a socket is kAlreadyExists too (never removed). Errors name the path.
  Status Start(const std::string& socket_path);

  // Stops accepting, closes every connection (handlers already running finish), joins all
  // threads and removes the socket file if it is still ours. Idempotent.
  void Stop();

  bool running() const;
  const std::string& socket_path() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

struct HttpClientOptions {
  // Bound on one whole request: connect, send, and receive the complete response.
  std::chrono::milliseconds timeout{10000};
  size_t max_response_bytes = 64 * 1024 * 1024;
  // Names the peer in errors: "tesserad is not running at /run/tesserad/api.sock".
  std::string service_name = "server";
};

// Sends requests to one unix socket, keeping the connection alive between requests (a stale
// kept-alive connection is detected and replaced before use).
class HttpClient {
 public:
  explicit HttpClient(std::string socket_path, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends METHOD TARGET (target = path plus optional "?query", already %-encoded) with an
  // optional body and returns the response, whatever its status. Errors:
  //   kUnavailable  nothing listens at the socket ("<service> is not running at SOCK")
  //   kPermission   the socket is not accessible
  //   kTimeout      no complete response within options.timeout
  //   kCorrupt      the peer's response is not valid HTTP/1.x; kTooLarge: over the limit
  //   kIo           other socket errors (connection reset, ...)
  Result<HttpResponse> Send(std::string_view method, std::string_view target,
                            std::string_view body = {}, std::string_view content_type = {});
  Result<HttpResponse> Get(std::string_view target) { return Send("GET", target); }

  // Closes the kept-alive connection (the next request opens a new one).
  void Close();
  const std::string& socket_path() const { return socket_path_; }

 private:
  class Conn;
  // *retryable: the request failed on a reused connection before any reply byte arrived.
  Result<HttpResponse> SendOnce(std::string_view method, std::string_view target,
                                std::string_view body, std::string_view content_type,
                                bool* retryable);
  Result<HttpResponse> ReadResponse(std::string_view method,
                                    std::chrono::steady_clock::time_point deadline,
                                    const std::string& what, bool reused, bool* retryable);
  Result<HttpResponse> ReadBody(std::string_view method, size_t head_size,
                                std::chrono::steady_clock::time_point deadline,
                                const std::string& what);

  std::string socket_path_;
  HttpClientOptions options_;
  std::mutex mu_;               // serializes requests; guards conn_
  std::unique_ptr<Conn> conn_;  // the kept-alive connection, if any
};

}  // namespace tessera
