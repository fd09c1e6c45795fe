#include "json_util.h"

namespace tessera::oci::internal {

Error FieldError(std::string_view field, std::string_view what) {
  std::string context(field);
  context += ": ";
  context += what;
  return MakeError(ErrorCode::kCorrupt, std::move(context));
}

Result<Json> ParseObject(std::span<const uint8_t> bytes, std::string_view what) {
  if (bytes.size() > kMaxJsonBytes) {
    return MakeError(ErrorCode::kTooLarge, std::string(what) + ": document of " +
                                               std::to_string(bytes.size()) + " bytes");
  }
  Json doc = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return FieldError(what, "not valid JSON");
  if (!doc.is_object()) return FieldError(what, "not a JSON object");
  return doc;
}

const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> RequiredString(const Json& obj, std::string_view key, std::string_view field) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return FieldError(field, "missing");
  if (!v->is_string()) return FieldError(field, "not a string");
  return v->get<std::string>();
}

Result<std::string> OptionalString(const Json& obj, std::string_view key, std::string_view field) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return FieldError(field, "not a string");
  return v->get<std::string>();
}

Result<uint64_t> RequiredUint(const Json& obj, std::string_view key, std::string_view field) {
  const Json* v = Member(obj, key);
  if (v == nullptr) return FieldError(field, "missing");
  if (!v->is_number_unsigned()) return FieldError(field, "not a non-negative integer");
  return v->get<uint64_t>();
}

Result<std::map<std::string, std::string>> OptionalStringMap(const Json& obj, std::string_view key,
                                                             std::string_view field) {
  std::map<std::string, std::string> out;
  const Json* v = Member(obj, key);
  if (v == nullptr) return out;
  if (!v->is_object()) return FieldError(field, "not an object");
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) return FieldError(std::string(field) + "." + k, "not a string");
    out[k] = value.get<std::string>();
  }
  return out;
}

Result<std::vector<std::string>> OptionalStringArray(const Json& obj, std::string_view key,
                                                     std::string_view field) {
  std::vector<std::string> out;
  const Json* v = Member(obj, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return FieldError(field, "not an array");
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    if (!item.is_string()) {
      return FieldError(std::string(field) + "[" + std::to_string(i) + "]", "not a string");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Dump(const OrderedJson& value) {
  return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace tessera::oci::internal
