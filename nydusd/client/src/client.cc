// ApiClient: the tesserad API calls over HttpClient, and decoding of error responses.
#include "tessera/nydusd_client/client.h"

#include <thread>

#include <nlohmann/json.hpp>

namespace tessera::nydusd::client {
namespace {

constexpr size_t kMaxQuotedBody = 200;

// The ErrorCode a bare HTTP status stands for (a body without our error shape).
ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 400:
    case 405:
    case 411:
      return ErrorCode::kInvalidArgument;
    case 403:
      return ErrorCode::kPermission;
    case 404:
      return ErrorCode::kNotFound;
    case 408:
    case 504:
      return ErrorCode::kTimeout;
    case 409:
      return ErrorCode::kAlreadyExists;
    case 413:
    case 431:
      return ErrorCode::kTooLarge;
    case 422:
      return ErrorCode::kCorrupt;
    case 501:
      return ErrorCode::kUnsupported;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalidArgument;
  }
}

}  // namespace

Error DecodeErrorResponse(const HttpResponse& response, std::string_view what) {
  std::string prefix = std::string(what) + ": ";
  try {
    auto j = nlohmann::json::parse(response.body);
    const auto& e = j.at("error");
    const auto& code = e.at("code");
    const auto& message = e.at("message");
    if (code.is_string() && message.is_string()) {
      auto parsed = ErrorCodeFromApiCode(code.get<std::string>());
      return MakeError(parsed.value_or(CodeForStatus(response.status)),
                       prefix + message.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    // Not our error shape: fall back to the status and the start of the body below.
  }
  std::string body = response.body.substr(0, kMaxQuotedBody);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return MakeError(CodeForStatus(response.status),
                   prefix + "HTTP " + std::to_string(response.status) + " " +
                       std::string(HttpReasonPhrase(response.status)) +
                       (body.empty() ? "" : ": " + body));
}

ApiClient::ApiClient(ApiClientOptions options)
    : http_(std::move(options.socket_path),
            HttpClientOptions{.timeout = options.timeout, .service_name = "tesserad"}) {}

Result<HttpResponse> ApiClient::Call(std::string_view method, const std::string& target,
                                     std::string_view body) {
  TRY(HttpResponse response,
      http_.Send(method, target, body, body.empty() ? "" : "application/json"));
  if (response.status < 200 || response.status > 299) {
    return DecodeErrorResponse(response, "tesserad: " + std::string(method) + " " + target);
  }
  return response;
}

Result<DaemonInfo> ApiClient::GetDaemon() {
  TRY(HttpResponse r, Call("GET", std::string(kDaemonPath)));
  auto info = DecodeDaemonInfo(r.body);
  if (!info) return info.error().Wrap("tesserad at " + socket_path());
  return info;
}

Result<std::string> ApiClient::GetMetrics() {
  TRY(HttpResponse r, Call("GET", std::string(kMetricsPath)));
  return std::move(r.body);
}

Result<std::vector<MountInfo>> ApiClient::ListMounts() {
  TRY(HttpResponse r, Call("GET", std::string(kMountsPath)));
  auto mounts = DecodeMountList(r.body);
  if (!mounts) return mounts.error().Wrap("tesserad at " + socket_path());
  return mounts;
}

Result<MountInfo> ApiClient::Mount(const MountRequest& request) {
  TRY(HttpResponse r, Call("POST", std::string(kMountsPath), EncodeMountRequest(request)));
  auto mount = DecodeMountInfo(r.body);
  if (!mount) return mount.error().Wrap("tesserad at " + socket_path());
  return mount;
}

Status ApiClient::Unmount(std::string_view mountpoint, bool collect_cache) {
  std::string target = std::string(kMountsPath) + "?mountpoint=" + PercentEncode(mountpoint);
  if (collect_cache) target += "&gc=true";
  RETURN_IF_ERROR(Call("DELETE", target));
  return Ok();
}

Result<uint64_t> ApiClient::UpdateRegistryAuth(const RegistryAuthUpdate& update) {
  TRY(HttpResponse r, Call("PUT", std::string(kConfigPath), EncodeRegistryAuthUpdate(update)));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("updated") || !j["updated"].is_number_unsigned()) {
    return MakeError(ErrorCode::kCorrupt, "tesserad at " + socket_path() + ": no 'updated' count");
  }
  return j["updated"].get<uint64_t>();
}

Status ApiClient::Exit() {
  RETURN_IF_ERROR(Call("PUT", std::string(kDaemonExitPath)));
  return Ok();
}

Status ApiClient::WaitUntilRunning(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto info = GetDaemon();
    if (info && info->state == kStateRunning) return Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      if (!info) return info.error();
      return MakeError(ErrorCode::kTimeout, "tesserad at " + socket_path() + " still '" +
                                                info->state + "' after waiting");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace tessera::nydusd::client
