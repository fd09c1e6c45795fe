// containerd's filter language, for List. One filter string is a comma-separated list of
// selectors that must all match; List's filters are alternatives (any may match).
//
//   selectors := selector ("," selector)*
//   selector  := fieldpath [operator value]
//   fieldpath := field ("." field)*
//   field     := quoted | [A-Za-z_][A-Za-z0-9_]*
//   operator  := "==" | "!=" | "~="
//   value     := quoted | [^\s,]+
//   quoted    := a Go-style string in "..." (or /.../, |...| for regular expressions)
//
// A selector without operator tests presence. Snapshot fields: name, parent, kind
// ("active", "committed", "view") and labels.<key> (the rest of the path, joined by ".").
// An empty filter string matches everything.
//
// Thread-safety: parsed filters are immutable values; Match is const.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/common/result.h"
#include "tessera/snapshotter/types.h"

namespace tessera::snapshotter::internal {

enum class FilterOp { kPresent, kEqual, kNotEqual, kMatches };

struct Selector {
  std::vector<std::string> fieldpath;
  FilterOp op = FilterOp::kPresent;
  std::string value;
  std::shared_ptr<const std::regex> regex;  // for kMatches
};

// All selectors must match.
struct Filter {
  std::vector<Selector> selectors;
  bool Match(const SnapshotInfo& info) const;
};

// Parses one filter string; a syntax error is kInvalidArgument naming the offset.
Result<Filter> ParseFilter(std::string_view text);

// Any of several filters; no filters matches everything.
class FilterSet {
 public:
  static Result<FilterSet> Parse(const std::vector<std::string>& texts);
  bool Match(const SnapshotInfo& info) const;

 private:
  std::vector<Filter> filters_;
};

}  // namespace tessera::snapshotter::internal
