// RangeSource over oci::RegistryClient, and MakeRegistryBackend wiring endpoints to clients.
#include "tessera/storage/registry_backend.h"

namespace tessera::storage {
namespace {

class ClientSource final : public RangeSource {
 public:
  ClientSource(std::unique_ptr<oci::RegistryClient> client, std::string repo)
      : client_(std::move(client)), repo_(std::move(repo)) {}
  std::string host() const override { return client_->host(); }
  Status ReadRange(const std::string& digest, uint64_t offset, std::span<uint8_t> out,
                   const oci::RequestControl& control) override {
    return client_->ReadBlobRange(repo_, digest, offset, out, control);
  }
  void SetCredentials(const oci::Credentials& credentials) override {
    client_->SetCredentials(credentials);
  }

 private:
  std::unique_ptr<oci::RegistryClient> client_;
  std::string repo_;
};

Result<std::shared_ptr<RangeSource>> OpenSource(const RegistryEndpoint& e,
                                                const RegistryBackendOptions& options) {
  if (e.host.empty()) return MakeError(ErrorCode::kInvalidArgument, "registry backend: no host");
  oci::RegistryOptions ro;
  ro.plain_http = e.plain_http;
  ro.insecure_tls = e.insecure_tls;
  ro.ca_file = e.ca_file;
  ro.connect_timeout = options.connect_timeout;
  ro.request_timeout = options.timeout;
  ro.stall_timeout = options.timeout;
  // Retries, failover and hedging are this backend's job: one client request is one try.
  ro.max_retries = 0;
  auto client = oci::RegistryClient::Create(e.host, ro, e.credentials);
  if (!client) return client.error().Wrap("registry backend: endpoint " + e.host);
  return std::shared_ptr<RangeSource>(
      std::make_shared<ClientSource>(std::move(*client), options.repo));
}

}  // namespace

Result<std::unique_ptr<RegistryBackend>> MakeRegistryBackend(
    const RegistryBackendOptions& options) {
  if (options.repo.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "registry backend: no repository");
  }
  std::vector<std::shared_ptr<RangeSource>> sources;
  TRY(auto primary, OpenSource(options.primary, options));
  sources.push_back(std::move(primary));
  for (const auto& m : options.mirrors) {
    TRY(auto mirror, OpenSource(m, options));
    sources.push_back(std::move(mirror));
  }
  return MakeRegistryBackendFromSources(std::move(sources), options);
}

}  // namespace tessera::storage
