// HttpServer: lifecycle, worker pool, routing.
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <system_error>

#include "http/server_impl.h"

namespace tessera {
namespace {

Result<UniqueFd> NewEventFd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, "eventfd");
  return UniqueFd(fd);
}

void Signal(int event_fd) {
  uint64_t one = 1;
  // An eventfd write can only fail if the counter would overflow; it is already readable then.
  (void)!::write(event_fd, &one, sizeof(one));
}

std::string AllowedMethods(const std::map<std::string, HttpServer::Handler>& methods) {
  std::string out;
  for (const auto& [method, handler] : methods) out += (out.empty() ? "" : ", ") + method;
  return out;
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string path, Handler handler) {
  impl_->routes_[std::move(path)][std::move(method)] = std::move(handler);
}

Status HttpServer::Start(const std::string& socket_path) { return impl_->Start(socket_path); }
void HttpServer::Stop() { impl_->Stop(); }
bool HttpServer::running() const { return impl_->running_; }
const std::string& HttpServer::socket_path() const { return impl_->socket_path_; }

HttpServer::Impl::Impl(HttpServerOptions options) : options_(std::move(options)) {
  options_.worker_threads = std::max<size_t>(1, options_.worker_threads);
  options_.max_connections = std::max<size_t>(1, options_.max_connections);
}

Status HttpServer::Impl::Start(const std::string& socket_path) {
  if (running_) {
    return MakeError(ErrorCode::kInvalidArgument, "HTTP server already serving " + socket_path_);
  }
  TRY(stop_fd_, NewEventFd());
  TRY(wake_fd_, NewEventFd());
  TRY(listener_, internal::ListenUnix(socket_path, options_.socket_mode));
  socket_path_ = socket_path;
  stopping_ = false;
  running_ = true;
  try {
    for (size_t i = 0; i < options_.worker_threads; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
    poller_ = std::thread([this] { PollLoop(); });
  } catch (const std::system_error& e) {
    Stop();
    return MakeError(ErrorCode::kInternal, std::string("start HTTP server threads: ") + e.what());
  }
  Log(LogLevel::kInfo, "api server listening", {{"socket", socket_path_}});
  return Ok();
}

void HttpServer::Impl::Stop() {
  if (!running_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  jobs_cv_.notify_all();
  Signal(stop_fd_.get());
  if (poller_.joinable()) poller_.join();
  for (auto& t : workers_) t.join();
  workers_.clear();
  jobs_.clear();  // connections still queued are closed unanswered
  returned_.clear();
  listener_.fd.Reset();
  struct stat st {};
  if (::lstat(socket_path_.c_str(), &st) == 0 && st.st_dev == listener_.dev &&
      st.st_ino == listener_.ino) {
    ::unlink(socket_path_.c_str());
  }
  running_ = false;
  Log(LogLevel::kInfo, "api server stopped", {{"socket", socket_path_}});
}

void HttpServer::Impl::Enqueue(ServerJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // job (and its connection) dropped
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_one();
}

void HttpServer::Impl::WorkerLoop() {
  for (;;) {
    ServerJob job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Reply(std::move(job));
  }
}

void HttpServer::Impl::Reply(ServerJob job) {
  HttpResponse response = job.request ? Dispatch(*job.request) : std::move(job.error);
  std::string wire = internal::SerializeResponse(response, job.keep_alive);
  auto deadline = internal::Clock::now() + options_.request_timeout;
  Status sent = internal::SendAll(job.conn->fd.get(), wire, deadline, stop_fd_.get(),
                                  "write response to " + socket_path_);
  if (!sent) {
    Log(LogLevel::kDebug, "api response not delivered", {{"error", sent.error().ToString()}});
    return;
  }
  if (!job.keep_alive) return;  // closes the connection
  job.conn->receiving = false;
  job.conn->deadline = internal::Clock::now() + options_.idle_timeout;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    returned_.push_back(std::move(job.conn));
  }
  Signal(wake_fd_.get());
}

HttpResponse HttpServer::Impl::Dispatch(const HttpRequest& request) const {
  auto path_it = routes_.find(request.path);
  if (path_it == routes_.end()) {
    return HttpResponse::JsonError(404, "not_found", "no endpoint " + request.path);
  }
  auto method_it = path_it->second.find(request.method);
  if (method_it == path_it->second.end()) {
    HttpResponse r = HttpResponse::JsonError(405, "method_not_allowed",
                                             request.method + " is not allowed on " + request.path);
    r.headers["Allow"] = AllowedMethods(path_it->second);
    return r;
  }
  HttpResponse response;
  try {
    response = method_it->second(request);
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "api handler threw", {{"path", request.path}, {"what", e.what()}});
    return HttpResponse::JsonError(500, "internal", std::string("handler failed: ") + e.what());
  } catch (...) {
    Log(LogLevel::kError, "api handler threw", {{"path", request.path}});
    return HttpResponse::JsonError(500, "internal", "handler failed");
  }
  if (response.status < 200 || response.status > 599) {
    return HttpResponse::JsonError(500, "internal",
                                   "handler returned status " + std::to_string(response.status));
  }
  Log(LogLevel::kDebug, "api request",
      {{"method", request.method},
       {"path", request.path},
       {"status", std::to_string(response.status)}});
  return response;
}

void HttpServer::Impl::Log(LogLevel level, std::string_view msg,
                           std::initializer_list<LogField> fields) const {
  if (options_.logger != nullptr) options_.logger->Log(level, msg, fields);
}

}  // namespace tessera
