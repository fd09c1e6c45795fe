// HttpServer internals: one poll thread owns every connection that is idle or still receiving
// its request; a complete request (or a framing error to answer) becomes a Job for the worker
// pool; after replying, a worker hands a kept-alive connection back to the poll thread.
//
// A connection is owned by exactly one place at a time: the poll thread's list, the job
// queue, a worker, or the returned list. Lock order: mu_ is the only lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/socket_util.h"
#include "http/wire.h"

#include "tessera/common/http.h"

namespace tessera {

struct ServerConnection {
  ServerConnection(UniqueFd socket, const HttpServerOptions& options,
                   std::atomic<size_t>* open_count)
      : fd(std::move(socket)),
        reader(options.max_header_bytes, options.max_body_bytes),
        open_count_(open_count) {
    open_count_->fetch_add(1);
  }
  ~ServerConnection() { open_count_->fetch_sub(1); }
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  UniqueFd fd;
  internal::RequestReader reader;
  internal::Clock::time_point deadline;  // request deadline, or idle deadline if reader idle
  bool receiving = false;                // bytes of a request have arrived

 private:
  std::atomic<size_t>* open_count_;
};

struct ServerJob {
  std::unique_ptr<ServerConnection> conn;
  std::optional<HttpRequest> request;  // empty: answer `error` and close
  HttpResponse error;
  bool keep_alive = false;
};

class HttpServer::Impl {
 public:
  explicit Impl(HttpServerOptions options);

  Status Start(const std::string& socket_path);
  void Stop();

  HttpServerOptions options_;
  // path -> method -> handler; written only before Start(), read-only while running.
  std::map<std::string, std::map<std::string, Handler>> routes_;
  std::string socket_path_;
  bool running_ = false;

 private:
  // server_poll.cc: the poll thread.
  void PollLoop();
  void AcceptAll(std::vector<std::unique_ptr<ServerConnection>>* conns);
  // Reads what is available and frames it; returns the connection if it stays with the
  // poll thread, nullptr if it was handed to a worker or closed.
  std::unique_ptr<ServerConnection> ReadAndFrame(std::unique_ptr<ServerConnection> conn);
  std::unique_ptr<ServerConnection> Frame(std::unique_ptr<ServerConnection> conn, bool eof);
  void TakeReturned(std::vector<std::unique_ptr<ServerConnection>>* conns);
  void ExpireDeadlines(std::vector<std::unique_ptr<ServerConnection>>* conns);

  // server.cc: workers.
  void Enqueue(ServerJob job);
  void WorkerLoop();
  void Reply(ServerJob job);
  HttpResponse Dispatch(const HttpRequest& request) const;
  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const;

  internal::Listener listener_;
  UniqueFd stop_fd_;  // eventfd: readable once Stop() begins; never drained
  UniqueFd wake_fd_;  // eventfd: a worker returned a connection
  std::atomic<size_t> open_count_{0};
  std::thread poller_;
  std::vector<std::thread> workers_;

  std::mutex mu_;  // guards the three members below
  std::condition_variable jobs_cv_;
  std::deque<ServerJob> jobs_;
  std::vector<std::unique_ptr<ServerConnection>> returned_;
  bool stopping_ = false;
};

}  // namespace tessera
