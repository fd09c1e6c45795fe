// Containerd: the few calls of containerd's gRPC API that a pull of a Tessera image needs
// (leases, content, images, snapshots), over containerd's unix socket. Every call carries the
// namespace, and the lease once one is set.
//
// Thread-safety: one caller at a time (the lease is plain state).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tessera/common/result.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace tessera::ctrclient::internal {

using Labels = std::map<std::string, std::string>;

struct ContentDescriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
};

class Containerd {
 public:
  // Connects lazily to unix:`address`; calls in namespace `ns`.
  Containerd(const std::string& address, std::string ns);
  ~Containerd();

  // A lease keeps what the pull writes from containerd's garbage collector until deleted.
  Status CreateLease(const std::string& id);
  Status DeleteLease();

  // Stores bytes under their digest with labels; content already present gets the labels.
  Status WriteContent(const ContentDescriptor& desc, const std::vector<uint8_t>& bytes,
                      const Labels& labels);
  // Creates (or updates the target of) image `name`.
  Status PutImage(const std::string& name, const ContentDescriptor& target);

  // Snapshots service of `snapshotter`: kNotFound if `key` does not exist.
  Status StatSnapshot(const std::string& snapshotter, const std::string& key);
  // kAlreadyExists when the snapshotter took the layer as remote (the wanted outcome).
  Status PrepareSnapshot(const std::string& snapshotter, const std::string& key,
                         const std::string& parent, const Labels& labels);
  Status RemoveSnapshot(const std::string& snapshotter, const std::string& key);

 private:
  std::unique_ptr<grpc::ClientContext> Context() const;

  std::string address_;
  std::string ns_;
  std::string lease_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace tessera::ctrclient::internal
