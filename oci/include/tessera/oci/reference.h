// Image references: where an image lives.
//
//   registry reference  host[:port]/repo/path[:tag][@sha256:...]   ("docker.io" rules apply to
//                       names without a host: "debian" -> docker.io/library/debian:latest)
//   OCI layout          oci:DIR[:tag]                               (tag defaults to "latest")
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "tessera/common/result.h"

namespace tessera::oci {

struct Reference {
  std::string registry;    // "127.0.0.1:5000", "docker.io"
  std::string repository;  // "library/debian"
  std::string tag;         // empty if only a digest was given
  std::string digest;      // "sha256:..." or empty

  // Tag or digest as used in a /v2/<repo>/manifests/<it> URL (digest wins).
  std::string ManifestRef() const;
  // Canonical text form, e.g. "127.0.0.1:5000/tessera/debian:v1".
  std::string ToString() const;
  // True if the registry host is a loopback address or "localhost" (where plain HTTP is allowed
  // without asking).
  bool IsLoopback() const;

  // kInvalidArgument naming what is wrong (empty, bad characters, bad digest, ...).
  static Result<Reference> Parse(std::string_view text);
};

struct ImageLocation {
  enum class Kind { kRegistry, kLayout };
  Kind kind = Kind::kRegistry;
  Reference reference;     // kRegistry
  std::string layout_dir;  // kLayout
  std::string layout_tag;  // kLayout; "latest" when not given

  std::string ToString() const;
  // "oci:DIR[:tag]" is a layout, anything else a registry reference.
  static Result<ImageLocation> Parse(std::string_view text);
};

}  // namespace tessera::oci
