// Credentials from a docker config.json. Secrets read here never reach an error message: errors
// name the file and the field only. Only "auths" is read: credential helpers ("credsStore",
// "credHelpers") would mean running external programs and are not consulted.
#include <cerrno>
#include <cstdlib>

#include "auth.h"
#include "json_util.h"

#include "tessera/oci/registry.h"

namespace tessera::oci {
namespace {

// "https://index.docker.io/v1/" -> "index.docker.io"; "host:5000" stays.
std::string NormalizeKey(std::string_view key) {
  if (size_t scheme = key.find("://"); scheme != std::string_view::npos) {
    key = key.substr(scheme + 3);
  }
  key = key.substr(0, key.find('/'));
  std::string out(key);
  if (out == "index.docker.io" || out == "registry-1.docker.io") out = "docker.io";
  return out;
}

std::string DefaultConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/config.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.docker/config.json";
}

Result<Credentials> DecodeEntry(const internal::Json& entry, const std::string& field) {
  if (!entry.is_object()) return internal::FieldError(field, "not an object");
  Credentials c;
  TRY(std::string auth, internal::OptionalString(entry, "auth", field + ".auth"));
  if (!auth.empty()) {
    auto raw = internal::Base64Decode(auth);
    if (!raw) return internal::FieldError(field + ".auth", "not base64");
    std::string pair(raw->begin(), raw->end());
    size_t colon = pair.find(':');
    if (colon == std::string::npos) {
      return internal::FieldError(field + ".auth", "not base64 of user:password");
    }
    c.username = pair.substr(0, colon);
    c.password = pair.substr(colon + 1);
  } else {
    TRY(c.username, internal::OptionalString(entry, "username", field + ".username"));
    TRY(c.password, internal::OptionalString(entry, "password", field + ".password"));
  }
  TRY(c.identity_token, internal::OptionalString(entry, "identitytoken", field + ".identitytoken"));
  return c;
}

}  // namespace

Result<Credentials> LoadDockerCredentials(const std::string& registry, const std::string& path) {
  std::string file = path.empty() ? DefaultConfigPath() : path;
  auto bytes = ReadFile(file);
  if (!bytes) {
    if (bytes.error().sys_errno == ENOENT) return Credentials{};
    return bytes.error();
  }
  TRY(internal::Json doc, internal::ParseObject(*bytes, file));
  const internal::Json* auths = internal::Member(doc, "auths");
  if (auths == nullptr) return Credentials{};
  if (!auths->is_object()) return internal::FieldError(file + ": auths", "not an object");
  std::string want = NormalizeKey(registry);
  for (const auto& [key, entry] : auths->items()) {
    if (NormalizeKey(key) == want) return DecodeEntry(entry, file + ": auths[" + key + "]");
  }
  return Credentials{};
}

}  // namespace tessera::oci
