#include "registry_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "tessera/common/io.h"
#include "tessera/common/process.h"

namespace tessera::test {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(20);

Result<int> FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError(errno, "socket");
  UniqueFd sock(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return ErrnoError(errno, "bind 127.0.0.1:0");
  }
  return static_cast<int>(ntohs(addr.sin_port));
}

Status WriteText(const std::string& path, const std::string& text) {
  return WriteFile(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::string ReadText(const std::string& path) {
  auto bytes = ReadFile(path);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

// Runs a tool with its stderr (openssl's key-generation dots) appended to `log`.
Status Run(const std::vector<std::string>& argv, const std::string& log = "/dev/null") {
  std::vector<std::string> sh = {"sh", "-c", "exec \"$@\" 2>>\"$LOG_FILE\"", "sh"};
  sh.insert(sh.end(), argv.begin(), argv.end());
  sh[2] = "LOG_FILE=\"" + log + "\"; " + sh[2];
  TRY(RunOutput out, RunCommand(sh));
  if (out.exit_code != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     argv[0] + " " + argv[1] + " failed: exit " + std::to_string(out.exit_code));
  }
  return Ok();
}

// A CA, and a server certificate for 127.0.0.1 signed by it.
Status MakeTlsFiles(const std::string& dir) {
  RETURN_IF_ERROR(Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                       "-subj", "/CN=tessera test CA", "-keyout", dir + "/ca.key", "-out",
                       dir + "/certs/ca.crt", "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign"}));
  RETURN_IF_ERROR(Run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                       "-keyout", dir + "/server.key", "-out", dir + "/server.csr"}));
  RETURN_IF_ERROR(WriteText(dir + "/server.ext",
                            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                            "extendedKeyUsage=serverAuth\n"));
  return Run({"openssl", "x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/certs/ca.crt",
              "-CAkey", dir + "/ca.key", "-CAcreateserial", "-days", "2", "-out",
              dir + "/server.crt", "-extfile", dir + "/server.ext"});
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// Not __FILE__: ccache (CCACHE_BASEDIR in scripts/build.sh) makes it relative to the build dir.
std::string SupportDir() { return std::string(TESSERA_SOURCE_DIR) + "/tests/support"; }

// Children run under `setpriv --pdeathsig KILL` (same PID after exec), so a test process that is
// killed outright (timeout, SIGKILL) does not leave a registry or token server behind.

// Exited (without reaping it: ChildProcess does that)?
bool Exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

void Stop(std::optional<ChildProcess>& child) {
  if (!child || child->pid() <= 0) return;
  (void)child->Signal(SIGTERM);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (!Exited(child->pid()) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child.reset();  // SIGKILL if still running, then reap
}

}  // namespace

struct RegistryServer::Impl {
  RegistryServerOptions options;
  std::optional<TempDir> dir;
  int port = 0;
  int token_port = 0;
  std::optional<ChildProcess> registry;
  std::optional<ChildProcess> token_server;

  ~Impl() {
    Stop(registry);
    Stop(token_server);
  }
  std::string Path(const std::string& name) const { return dir->path() + "/" + name; }
  std::string Scheme() const { return options.tls ? "https" : "http"; }
  std::string Config() const;
  Status StartTokenServer();
  Status WaitReady(ChildProcess& child, const std::string& url, const std::string& log);
};

std::string RegistryServer::Impl::Config() const {
  std::ostringstream c;
  c << "version: 0.1\n"
    << "log:\n  level: warn\n  accesslog:\n    disabled: false\n"
    << "storage:\n  filesystem:\n    rootdirectory: " << Path("storage") << "\n"
    << "  delete:\n    enabled: true\n"
    << "http:\n  addr: 127.0.0.1:" << port << "\n  secret: tessera-test-secret\n";
  if (options.tls) {
    c << "  tls:\n    certificate: " << Path("server.crt") << "\n    key: " << Path("server.key")
      << "\n";
  }
  if (options.auth == RegistryServerOptions::Auth::kBasic) {
    c << "auth:\n  htpasswd:\n    realm: tessera-test\n    path: " << Path("htpasswd") << "\n";
  } else if (options.auth == RegistryServerOptions::Auth::kToken) {
    c << "auth:\n  token:\n    realm: http://127.0.0.1:" << token_port << "/token\n"
      << "    service: tessera-test-registry\n    issuer: tessera-test-issuer\n"
      << "    rootcertbundle: " << Path("token.crt") << "\n";
  }
  return c.str();
}

Status RegistryServer::Impl::StartTokenServer() {
  RETURN_IF_ERROR(
      Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
           "/CN=tessera token signer", "-keyout", Path("token.key"), "-out", Path("token.crt")}));
  TRY(token_port, FreePort());
  ChildProcess::Options o;
  o.argv = {"setpriv",
            "--pdeathsig",
            "KILL",
            "python3",
            SupportDir() + "/token_server.py",
            "--port",
            std::to_string(token_port),
            "--key",
            Path("token.key"),
            "--cert",
            Path("token.crt"),
            "--issuer",
            "tessera-test-issuer",
            "--service",
            "tessera-test-registry",
            "--user",
            options.username,
            "--ttl",
            std::to_string(options.token_ttl_seconds)};
  o.env_extra = {"TOKEN_SERVER_PASSWORD=" + options.password};  // not in argv (ps shows it)
  o.stdout_path = Path("token.log");
  o.stderr_path = Path("token.err");
  TRY(token_server, ChildProcess::Spawn(o));
  return WaitReady(*token_server,
                   "http://127.0.0.1:" + std::to_string(token_port) + "/token?service=x",
                   Path("token.err"));
}

Status RegistryServer::Impl::WaitReady(ChildProcess& child, const std::string& url,
                                       const std::string& log) {
  auto until = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < until) {
    if (Exited(child.pid())) break;
    std::vector<std::string> argv = {"curl", "-s",           "-o",         "/dev/null",
                                     "-w",   "%{http_code}", "--max-time", "2"};
    if (options.tls) argv.insert(argv.end(), {"--cacert", Path("certs/ca.crt")});
    argv.push_back(url);
    auto out = RunCommand(argv);
    if (out && (out->out == "200" || out->out == "401")) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return MakeError(ErrorCode::kUnavailable, url + " did not answer; log:\n" + ReadText(log));
}

RegistryServer::RegistryServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryServer::~RegistryServer() = default;

Result<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    const RegistryServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  TRY(TempDir dir, TempDir::Create("tessera-registry"));
  impl->dir.emplace(std::move(dir));
  RETURN_IF_ERROR(Run({"mkdir", "-p", impl->Path("storage"), impl->Path("certs")}));
  if (options.tls) RETURN_IF_ERROR(MakeTlsFiles(impl->dir->path()));
  if (options.auth == RegistryServerOptions::Auth::kBasic) {
    TRY(RunOutput h, RunCommand({"htpasswd", "-Bbn", options.username, options.password}));
    if (h.exit_code != 0) return MakeError(ErrorCode::kUnavailable, "htpasswd failed");
    RETURN_IF_ERROR(WriteText(impl->Path("htpasswd"), h.out));
  } else if (options.auth == RegistryServerOptions::Auth::kToken) {
    RETURN_IF_ERROR(impl->StartTokenServer());
  }
  TRY(impl->port, FreePort());
  RETURN_IF_ERROR(WriteText(impl->Path("config.yml"), impl->Config()));
  ChildProcess::Options o;
  o.argv = {"setpriv", "--pdeathsig", "KILL", "docker-registry", "serve", impl->Path("config.yml")};
  o.stdout_path = impl->Path("access.log");
  o.stderr_path = impl->Path("registry.log");
  TRY(impl->registry, ChildProcess::Spawn(o));
  std::string url = impl->Scheme() + "://127.0.0.1:" + std::to_string(impl->port) + "/v2/";
  RETURN_IF_ERROR(impl->WaitReady(*impl->registry, url, impl->Path("registry.log")));
  return std::unique_ptr<RegistryServer>(new RegistryServer(std::move(impl)));
}

std::string RegistryServer::host() const { return "127.0.0.1:" + std::to_string(impl_->port); }
std::string RegistryServer::ca_file() const {
  return impl_->options.tls ? impl_->Path("certs/ca.crt") : std::string();
}
std::string RegistryServer::storage_dir() const { return impl_->Path("storage"); }

namespace {

struct AccessLine {
  std::string request;  // "GET /v2/... HTTP/1.1"
  int status = 0;
  uint64_t bytes = 0;
};

// Apache combined format: host ident user [time] "request" status bytes "referer" "agent".
std::optional<AccessLine> ParseAccessLine(const std::string& line) {
  size_t open = line.find('"');
  size_t close = open == std::string::npos ? open : line.find('"', open + 1);
  if (close == std::string::npos) return std::nullopt;
  AccessLine out;
  out.request = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 1));
  std::string status, bytes;
  rest >> status >> bytes;
  if (status.empty()) return std::nullopt;
  out.status = std::atoi(status.c_str());
  if (!bytes.empty() && bytes != "-") out.bytes = std::strtoull(bytes.c_str(), nullptr, 10);
  return out;
}

// The registry logs a request after its response has gone out, so a reader that just got its
// bytes can be ahead of the log: wait until the log has stopped growing for 150 ms (at most 3 s).
void WaitForQuietLog(const std::string& path) {
  auto size_of = [&] {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
  };
  int64_t last = size_of();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    int64_t now = size_of();
    if (now == last) return;
    last = now;
  }
}

std::vector<AccessLine> ReadAccessLog(const std::string& path) {
  WaitForQuietLog(path);
  std::vector<AccessLine> out;
  std::istringstream in(ReadText(path));
  std::string line;
  while (std::getline(in, line)) {
    if (auto parsed = ParseAccessLine(line)) out.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace

uint64_t RegistryServer::BlobBytesServed() const {
  uint64_t total = 0;
  for (const auto& l : ReadAccessLog(impl_->Path("access.log"))) {
    if (l.request.starts_with("GET ") && l.request.find("/blobs/sha256:") != std::string::npos &&
        l.status / 100 == 2) {
      total += l.bytes;
    }
  }
  return total;
}

uint64_t RegistryServer::CountRequests(const std::string& needle) const {
  uint64_t n = 0;
  for (const auto& l : ReadAccessLog(impl_->Path("access.log"))) {
    if (l.request.find(needle) != std::string::npos) ++n;
  }
  return n;
}

Status RegistryServer::PushLayout(const std::string& layout_dir, const std::string& layout_tag,
                                  const std::string& repo_and_tag) const {
  RETURN_IF_ERROR(
      WriteText(impl_->Path("policy.json"), R"({"default":[{"type":"insecureAcceptAnything"}]})"));
  std::vector<std::string> argv = {"skopeo", "--policy", impl_->Path("policy.json"), "copy",
                                   "--quiet"};
  if (impl_->options.tls) {
    argv.push_back("--dest-cert-dir=" + impl_->Path("certs"));
  } else {
    argv.push_back("--dest-tls-verify=false");
  }
  if (impl_->options.auth != RegistryServerOptions::Auth::kNone) {
    // Credentials go through an auth file, not argv (which `ps` shows).
    std::string auth = Base64(impl_->options.username + ":" + impl_->options.password);
    RETURN_IF_ERROR(WriteText(impl_->Path("auth.json"),
                              R"({"auths":{")" + host() + R"(":{"auth":")" + auth + R"("}}})"));
    argv.push_back("--dest-authfile=" + impl_->Path("auth.json"));
  }
  argv.push_back("oci:" + layout_dir + ":" + layout_tag);
  argv.push_back("docker://" + host() + "/" + repo_and_tag);
  TRY(RunOutput out, RunCommand(argv));
  if (out.exit_code != 0) {
    return MakeError(ErrorCode::kUnavailable, "skopeo copy to " + host() + "/" + repo_and_tag +
                                                  " failed: exit " + std::to_string(out.exit_code));
  }
  return Ok();
}

}  // namespace tessera::test
