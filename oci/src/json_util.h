// Strict accessors over nlohmann::json for untrusted documents: every lookup checks the type
// and names the field in its error ("manifest: layers[2].digest: not a string"). Nothing here
// throws: parsing uses the non-throwing overload and dumping replaces invalid UTF-8.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tessera/common/result.h"

namespace tessera::oci::internal {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Largest JSON document any decoder accepts.
inline constexpr size_t kMaxJsonBytes = 64u << 20;

Error FieldError(std::string_view field, std::string_view what);

// Parses bytes into an object; kCorrupt naming `what` if it is not valid JSON or not an object.
Result<Json> ParseObject(std::span<const uint8_t> bytes, std::string_view what);

// Member `key` of object `obj` at path `field`; nullptr if absent (or null when allow_null).
const Json* Member(const Json& obj, std::string_view key);

// Typed required/optional members. `field` is the member's full path for messages.
Result<std::string> RequiredString(const Json& obj, std::string_view key, std::string_view field);
Result<std::string> OptionalString(const Json& obj, std::string_view key, std::string_view field);
Result<uint64_t> RequiredUint(const Json& obj, std::string_view key, std::string_view field);
Result<std::map<std::string, std::string>> OptionalStringMap(const Json& obj, std::string_view key,
                                                             std::string_view field);
Result<std::vector<std::string>> OptionalStringArray(const Json& obj, std::string_view key,
                                                     std::string_view field);

// Compact dump that never throws (invalid UTF-8 is replaced).
std::string Dump(const Json& value);
std::string Dump(const OrderedJson& value);

}  // namespace tessera::oci::internal
