// libFuzzer target for the OCI decoders that read registry and layout bytes: manifests,
// indexes, image configs, descriptors, challenge headers and the bootstrap layer (gzip + tar).
// Byte 0 picks the decoder; the rest is the document. Every accepted document must survive an
// encode/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "registry/auth.h"

#include "tessera/oci/image.h"
#include "tessera/oci/reference.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void FuzzManifest(std::span<const uint8_t> in) {
  auto m = tessera::oci::ParseManifest(in);
  if (!m) return;
  std::string encoded = tessera::oci::EncodeManifest(*m);
  auto again = tessera::oci::ParseManifest(Bytes(encoded));
  Check(again.has_value() && tessera::oci::EncodeManifest(*again) == encoded);
}

void FuzzIndex(std::span<const uint8_t> in) {
  auto index = tessera::oci::ParseIndex(in);
  if (!index) return;
  std::string encoded = tessera::oci::EncodeIndex(*index);
  auto again = tessera::oci::ParseIndex(Bytes(encoded));
  Check(again.has_value() && tessera::oci::EncodeIndex(*again) == encoded);
}

void FuzzConfig(std::span<const uint8_t> in) {
  auto config = tessera::oci::ParseImageConfig(in);
  if (!config) return;
  auto rewritten = tessera::oci::RewriteConfig(config->json, config->diff_ids, "fuzz");
  Check(rewritten.has_value());
  auto again = tessera::oci::ParseImageConfig(Bytes(*rewritten));
  Check(again.has_value() && again->diff_ids == config->diff_ids);
}

void FuzzText(std::span<const uint8_t> in) {
  std::string text(in.begin(), in.end());
  (void)tessera::oci::internal::ParseChallenges(text);
  (void)tessera::oci::ParseDescriptor(text);
  auto ref = tessera::oci::Reference::Parse(text);
  if (ref) {
    auto again = tessera::oci::Reference::Parse(ref->ToString());
    Check(again.has_value() && again->ToString() == ref->ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      FuzzManifest(in);
      break;
    case 1:
      FuzzIndex(in);
      break;
    case 2:
      FuzzConfig(in);
      break;
    case 3:
      FuzzText(in);
      break;
    default:
      (void)tessera::oci::UnpackBootstrapLayer(in);
      break;
  }
  return 0;
}
