// Strict decoders for descriptors, manifests, indexes and image configs.
#include "json_util.h"

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

using internal::FieldError;
using internal::Json;

std::string Sub(std::string_view base, std::string_view key) {
  return std::string(base) + "." + std::string(key);
}

std::string Top(std::string_view what, std::string_view key) {
  return std::string(what) + ": " + std::string(key);
}

std::string At(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

Result<Platform> DecodePlatform(const Json& obj, std::string_view field) {
  if (!obj.is_object()) return FieldError(field, "not an object");
  Platform p;
  TRY(p.os, internal::RequiredString(obj, "os", Sub(field, "os")));
  TRY(p.architecture, internal::RequiredString(obj, "architecture", Sub(field, "architecture")));
  TRY(p.variant, internal::OptionalString(obj, "variant", Sub(field, "variant")));
  return p;
}

Result<Descriptor> DecodeDescriptor(const Json& obj, std::string_view field) {
  if (!obj.is_object()) return FieldError(field, "not an object");
  Descriptor d;
  TRY(d.media_type, internal::RequiredString(obj, "mediaType", Sub(field, "mediaType")));
  TRY(d.digest, internal::RequiredString(obj, "digest", Sub(field, "digest")));
  if (auto st = ValidateDigest(d.digest); !st) {
    return FieldError(Sub(field, "digest"), "not a sha256 digest");
  }
  TRY(d.size, internal::RequiredUint(obj, "size", Sub(field, "size")));
  TRY(d.annotations, internal::OptionalStringMap(obj, "annotations", Sub(field, "annotations")));
  TRY(d.urls, internal::OptionalStringArray(obj, "urls", Sub(field, "urls")));
  if (const Json* p = internal::Member(obj, "platform")) {
    TRY(auto platform, DecodePlatform(*p, Sub(field, "platform")));
    d.platform = std::move(platform);
  }
  return d;
}

Result<std::vector<Descriptor>> DecodeDescriptorArray(const Json& obj, std::string_view key,
                                                      std::string_view field) {
  const Json* v = internal::Member(obj, key);
  if (v == nullptr) return FieldError(field, "missing");
  if (!v->is_array()) return FieldError(field, "not an array");
  std::vector<Descriptor> out;
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    TRY(auto d, DecodeDescriptor((*v)[i], At(field, i)));
    out.push_back(std::move(d));
  }
  return out;
}

Status CheckSchemaVersion(const Json& doc, std::string_view what) {
  const Json* v = internal::Member(doc, "schemaVersion");
  if (v == nullptr) return FieldError(Top(what, "schemaVersion"), "missing");
  if (!v->is_number_unsigned() || v->get<uint64_t>() != 2) {
    return FieldError(Top(what, "schemaVersion"), "not 2");
  }
  return Ok();
}

// Settles the document's media type from the transport's and the document's own claim.
Result<std::string> DecideMediaType(const Json& doc, std::string_view given, std::string_view what,
                                    std::string_view fallback, bool (*accept)(std::string_view)) {
  TRY(std::string own, internal::OptionalString(doc, "mediaType", Top(what, "mediaType")));
  if (!own.empty() && !given.empty() && own != given) {
    return FieldError(Top(what, "mediaType"),
                      "'" + own + "' contradicts '" + std::string(given) + "'");
  }
  std::string type = !given.empty() ? std::string(given)
                     : !own.empty() ? own
                                    : std::string(fallback);
  if (!accept(type)) return FieldError(Top(what, "mediaType"), "unexpected type '" + type + "'");
  return type;
}

}  // namespace

bool IsManifestType(std::string_view media_type) {
  return media_type == media::kOciManifest || media_type == media::kDockerManifest;
}

bool IsIndexType(std::string_view media_type) {
  return media_type == media::kOciIndex || media_type == media::kDockerManifestList;
}

Result<Descriptor> ParseDescriptor(std::string_view json) {
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  TRY(Json doc, internal::ParseObject(bytes, "descriptor"));
  return DecodeDescriptor(doc, "descriptor");
}

Result<Manifest> ParseManifest(std::span<const uint8_t> json, std::string_view media_type) {
  constexpr std::string_view kWhat = "manifest";
  TRY(Json doc, internal::ParseObject(json, kWhat));
  RETURN_IF_ERROR(CheckSchemaVersion(doc, kWhat));
  Manifest m;
  TRY(m.media_type, DecideMediaType(doc, media_type, kWhat, media::kOciManifest, IsManifestType));
  const Json* config = internal::Member(doc, "config");
  if (config == nullptr) return FieldError("manifest: config", "missing");
  TRY(m.config, DecodeDescriptor(*config, "manifest: config"));
  TRY(m.layers, DecodeDescriptorArray(doc, "layers", "manifest: layers"));
  TRY(m.annotations, internal::OptionalStringMap(doc, "annotations", "manifest: annotations"));
  if (const Json* subject = internal::Member(doc, "subject")) {
    TRY(auto s, DecodeDescriptor(*subject, "manifest: subject"));
    m.subject = std::move(s);
  }
  return m;
}

Result<Index> ParseIndex(std::span<const uint8_t> json, std::string_view media_type) {
  constexpr std::string_view kWhat = "index";
  TRY(Json doc, internal::ParseObject(json, kWhat));
  RETURN_IF_ERROR(CheckSchemaVersion(doc, kWhat));
  Index index;
  TRY(index.media_type, DecideMediaType(doc, media_type, kWhat, media::kOciIndex, IsIndexType));
  TRY(index.manifests, DecodeDescriptorArray(doc, "manifests", "index: manifests"));
  TRY(index.annotations, internal::OptionalStringMap(doc, "annotations", "index: annotations"));
  return index;
}

Result<ImageConfig> ParseImageConfig(std::span<const uint8_t> json) {
  TRY(Json doc, internal::ParseObject(json, "config"));
  ImageConfig c;
  c.json.assign(json.begin(), json.end());
  TRY(c.platform.os, internal::RequiredString(doc, "os", "config: os"));
  TRY(c.platform.architecture,
      internal::RequiredString(doc, "architecture", "config: architecture"));
  TRY(c.platform.variant, internal::OptionalString(doc, "variant", "config: variant"));
  const Json* rootfs = internal::Member(doc, "rootfs");
  if (rootfs == nullptr) return FieldError("config: rootfs", "missing");
  if (!rootfs->is_object()) return FieldError("config: rootfs", "not an object");
  TRY(std::string type, internal::RequiredString(*rootfs, "type", "config: rootfs.type"));
  if (type != "layers") return FieldError("config: rootfs.type", "not \"layers\"");
  TRY(c.diff_ids, internal::OptionalStringArray(*rootfs, "diff_ids", "config: rootfs.diff_ids"));
  for (size_t i = 0; i < c.diff_ids.size(); ++i) {
    if (!ValidateDigest(c.diff_ids[i])) {
      return FieldError("config: rootfs.diff_ids[" + std::to_string(i) + "]",
                        "not a sha256 digest");
    }
  }
  return c;
}

}  // namespace tessera::oci
