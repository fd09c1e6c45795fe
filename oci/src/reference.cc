// Docker-style image references and image locations.
//
// Grammar (distribution reference): [domain/]component(/component)*[:tag][@digest], where a
// first component is a domain if it contains '.' or ':' or is "localhost"; components are
// lowercase alphanumerics joined by '.', '_', '__' or runs of '-'.
#include "tessera/oci/reference.h"

#include <algorithm>
#include <cctype>

#include "tessera/oci/image.h"

namespace tessera::oci {
namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

Error Invalid(std::string_view text, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, "reference '" + std::string(text) + "': " + why);
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsSeparatorRun(std::string_view s) {
  if (s == "." || s == "_" || s == "__") return true;
  for (char c : s) {
    if (c != '-') return false;
  }
  return !s.empty();
}

// component := alnum+ (separator alnum+)*
bool ValidComponent(std::string_view c) {
  size_t i = 0;
  while (i < c.size()) {
    size_t start = i;
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    if (i == start) return false;
    if (i == c.size()) return true;
    size_t sep = i;
    while (i < c.size() && !IsLowerAlnum(c[i])) ++i;
    if (!IsSeparatorRun(c.substr(sep, i - sep)) || i == c.size()) return false;
  }
  return false;
}

bool ValidHostLabel(std::string_view l) {
  if (l.empty() || l.front() == '-' || l.back() == '-') return false;
  for (char c : l) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool ValidDomain(std::string_view d) {
  std::string_view host = d;
  size_t colon = d.rfind(':');
  if (!d.empty() && d.front() == '[') {  // [ipv6]:port
    size_t close = d.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : d.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
    }
    colon = d.size() > close + 1 ? close + 1 : std::string_view::npos;
    if (colon != std::string_view::npos && d[colon] != ':') return false;
    host = {};
  } else if (colon != std::string_view::npos) {
    host = d.substr(0, colon);
  }
  if (colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  size_t start = 0;
  while (!host.empty()) {
    size_t dot = host.find('.', start);
    if (!ValidHostLabel(host.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool LooksLikeDomain(std::string_view first) {
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
         std::any_of(first.begin(), first.end(), [](char c) { return std::isupper(c); });
}

// Splits "name[:tag]" (the tag is after the last '/'); false if a ':' has nothing after it.
bool SplitTag(std::string_view text, std::string_view* name, std::string_view* tag) {
  size_t slash = text.rfind('/');
  size_t colon = text.rfind(':');
  *name = text;
  *tag = {};
  if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
    return true;
  }
  *name = text.substr(0, colon);
  *tag = text.substr(colon + 1);
  return !tag->empty();
}

Status ParseName(std::string_view text, std::string_view name, Reference* ref) {
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  std::string_view path = name;
  if (slash != std::string_view::npos && LooksLikeDomain(first)) {
    if (!ValidDomain(first)) return Invalid(text, "bad registry host '" + std::string(first) + "'");
    ref->registry = std::string(first);
    path = name.substr(slash + 1);
  } else {
    ref->registry = std::string(kDockerHub);
  }
  if (ref->registry == "index.docker.io" || ref->registry == "registry-1.docker.io") {
    ref->registry = std::string(kDockerHub);
  }
  if (path.empty()) return Invalid(text, "empty repository");
  size_t start = 0;
  while (true) {
    size_t next = path.find('/', start);
    std::string_view comp =
        path.substr(start, next == std::string_view::npos ? next : next - start);
    if (!ValidComponent(comp)) {
      return Invalid(text, "bad repository component '" + std::string(comp) + "'");
    }
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref->repository = std::string(path);
  if (ref->registry == kDockerHub && path.find('/') == std::string_view::npos) {
    ref->repository = "library/" + ref->repository;
  }
  // Checked on the normalized name, so that parsing ToString() again gives the same answer.
  if (ref->registry.size() + 1 + ref->repository.size() > kMaxNameLength) {
    return Invalid(text, "name longer than " + std::to_string(kMaxNameLength) + " characters");
  }
  return Ok();
}

}  // namespace

std::string Reference::ManifestRef() const { return digest.empty() ? tag : digest; }

std::string Reference::ToString() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

bool Reference::IsLoopback() const {
  std::string_view host = registry;
  if (host.starts_with("[")) {
    return host.substr(0, host.find(']') + 1) == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.starts_with("127.");
}

Result<Reference> Reference::Parse(std::string_view text) {
  if (text.empty()) return Invalid(text, "empty");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) {
      return Invalid(text, "contains whitespace or non-ASCII characters");
    }
  }
  Reference ref;
  std::string_view rest = text;
  size_t at = text.find('@');
  if (at != std::string_view::npos) {
    ref.digest = std::string(text.substr(at + 1));
    if (!ValidateDigest(ref.digest)) return Invalid(text, "bad digest (want sha256:<64 hex>)");
    rest = text.substr(0, at);
  }
  std::string_view name, tag;
  if (!SplitTag(rest, &name, &tag)) return Invalid(text, "empty tag");
  if (!tag.empty() && !ValidTag(tag)) return Invalid(text, "bad tag '" + std::string(tag) + "'");
  ref.tag = std::string(tag);
  RETURN_IF_ERROR(ParseName(text, name, &ref));
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string ImageLocation::ToString() const {
  if (kind == Kind::kLayout) return "oci:" + layout_dir + ":" + layout_tag;
  return reference.ToString();
}

Result<ImageLocation> ImageLocation::Parse(std::string_view text) {
  ImageLocation loc;
  if (!text.starts_with("oci:")) {
    TRY(loc.reference, Reference::Parse(text));
    return loc;
  }
  loc.kind = Kind::kLayout;
  std::string_view rest = text.substr(4);
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    loc.layout_dir = std::string(rest.substr(0, colon));
    loc.layout_tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(loc.layout_tag)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "location '" + std::string(text) + "': bad tag '" + loc.layout_tag + "'");
    }
  } else {
    loc.layout_dir = std::string(rest);
    loc.layout_tag = "latest";
  }
  if (loc.layout_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "location '" + std::string(text) + "': empty layout directory");
  }
  return loc;
}

}  // namespace tessera::oci
