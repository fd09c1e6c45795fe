// Canonical encoders, config rewriting and the Tessera-on-OCI mapping helpers.
#include "json_util.h"

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

using internal::Json;
using internal::OrderedJson;

OrderedJson PlatformJson(const Platform& p) {
  OrderedJson out;
  out["architecture"] = p.architecture;
  out["os"] = p.os;
  if (!p.variant.empty()) out["variant"] = p.variant;
  return out;
}

OrderedJson StringMapJson(const std::map<std::string, std::string>& m) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

OrderedJson DescriptorJson(const Descriptor& d) {
  OrderedJson out;
  out["mediaType"] = d.media_type;
  out["digest"] = d.digest;
  out["size"] = d.size;
  if (!d.urls.empty()) out["urls"] = d.urls;
  if (!d.annotations.empty()) out["annotations"] = StringMapJson(d.annotations);
  if (d.platform) out["platform"] = PlatformJson(*d.platform);
  return out;
}

bool IsTrue(const std::map<std::string, std::string>& annotations, std::string_view key) {
  auto it = annotations.find(std::string(key));
  return it != annotations.end() && it->second == "true";
}

bool IsEmptyLayerEntry(const Json& entry) {
  const Json* v = internal::Member(entry, "empty_layer");
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

// Keeps empty-layer entries and the first `want` layer entries; appends entries up to `want`.
Json RewriteHistory(const Json* history, size_t want, std::string_view comment) {
  Json out = Json::array();
  size_t layers = 0;
  if (history != nullptr && history->is_array()) {
    for (const Json& entry : *history) {
      if (!entry.is_object()) continue;
      if (IsEmptyLayerEntry(entry)) {
        out.push_back(entry);
      } else if (layers < want) {
        out.push_back(entry);
        ++layers;
      }
    }
  }
  for (; layers < want; ++layers) {
    Json entry = Json::object();
    entry["created_by"] = std::string(comment);
    entry["comment"] = std::string(comment);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

std::string EncodeDescriptor(const Descriptor& descriptor) {
  return internal::Dump(DescriptorJson(descriptor));
}

std::string EncodeManifest(const Manifest& manifest) {
  OrderedJson out;
  out["schemaVersion"] = 2;
  out["mediaType"] =
      manifest.media_type.empty() ? std::string(media::kOciManifest) : manifest.media_type;
  out["config"] = DescriptorJson(manifest.config);
  OrderedJson layers = OrderedJson::array();
  for (const auto& layer : manifest.layers) layers.push_back(DescriptorJson(layer));
  out["layers"] = std::move(layers);
  if (manifest.subject) out["subject"] = DescriptorJson(*manifest.subject);
  if (!manifest.annotations.empty()) out["annotations"] = StringMapJson(manifest.annotations);
  return internal::Dump(out);
}

std::string EncodeIndex(const Index& index) {
  OrderedJson out;
  out["schemaVersion"] = 2;
  out["mediaType"] = index.media_type.empty() ? std::string(media::kOciIndex) : index.media_type;
  OrderedJson manifests = OrderedJson::array();
  for (const auto& m : index.manifests) manifests.push_back(DescriptorJson(m));
  out["manifests"] = std::move(manifests);
  if (!index.annotations.empty()) out["annotations"] = StringMapJson(index.annotations);
  return internal::Dump(out);
}

Result<std::string> RewriteConfig(const std::string& config_json,
                                  const std::vector<std::string>& diff_ids,
                                  std::string_view history_comment) {
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(config_json.data()),
                                 config_json.size());
  TRY(Json doc, internal::ParseObject(bytes, "config"));
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    if (!ValidateDigest(diff_ids[i])) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "RewriteConfig: diff_ids[" + std::to_string(i) + "] is not a digest");
    }
  }
  const Json* rootfs = internal::Member(doc, "rootfs");
  if (rootfs != nullptr && !rootfs->is_object()) {
    return internal::FieldError("config: rootfs", "not an object");
  }
  doc["rootfs"]["type"] = "layers";
  doc["rootfs"]["diff_ids"] = diff_ids;
  doc["history"] =
      RewriteHistory(internal::Member(doc, "history"), diff_ids.size(), history_comment);
  return internal::Dump(doc);
}

bool IsTesseraBlob(const Descriptor& layer) {
  return layer.media_type == tessera_image::kBlobMediaType ||
         IsTrue(layer.annotations, tessera_image::kAnnotationBlob);
}

bool IsTesseraBootstrap(const Descriptor& layer) {
  return IsTrue(layer.annotations, tessera_image::kAnnotationBootstrap);
}

bool IsTesseraManifest(const Manifest& manifest) {
  for (const auto& layer : manifest.layers) {
    if (IsTesseraBootstrap(layer)) return true;
  }
  return false;
}

}  // namespace tessera::oci
