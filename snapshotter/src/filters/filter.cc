#include "filters/filter.h"

#include <utility>

namespace tessera::snapshotter::internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Filter> Run() {
    Filter filter;
    SkipSpace();
    if (AtEnd()) return filter;  // the empty filter matches everything
    while (true) {
      TRY(Selector sel, ParseSelector());
      filter.selectors.push_back(std::move(sel));
      SkipSpace();
      if (AtEnd()) return filter;
      if (s_[pos_] != ',') return Fail("expected ',' or end of filter");
      ++pos_;
    }
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(s_[pos_])) ++pos_;
  }
  Error Fail(const std::string& what) const {
    return MakeError(ErrorCode::kInvalidArgument, "filter \"" + std::string(s_) + "\" at offset " +
                                                      std::to_string(pos_) + ": " + what);
  }

  Result<Selector> ParseSelector() {
    Selector sel;
    SkipSpace();
    while (true) {
      TRY(std::string field, ParseField());
      sel.fieldpath.push_back(std::move(field));
      if (AtEnd() || s_[pos_] != '.') break;
      ++pos_;
    }
    SkipSpace();
    if (AtEnd() || s_[pos_] == ',') return sel;
    if (pos_ + 1 >= s_.size() || s_[pos_ + 1] != '=') return Fail("expected ==, != or ~=");
    switch (s_[pos_]) {
      case '=':
        sel.op = FilterOp::kEqual;
        break;
      case '!':
        sel.op = FilterOp::kNotEqual;
        break;
      case '~':
        sel.op = FilterOp::kMatches;
        break;
      default:
        return Fail("expected ==, != or ~=");
    }
    pos_ += 2;
    SkipSpace();
    TRY(sel.value, ParseValue(sel.op == FilterOp::kMatches));
    if (sel.op == FilterOp::kMatches) {
      try {
        sel.regex = std::make_shared<const std::regex>(sel.value, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Fail("bad regular expression \"" + sel.value + "\": " + e.what());
      }
    }
    return sel;
  }

  Result<std::string> ParseField() {
    if (AtEnd()) return Fail("expected a field");
    if (s_[pos_] == '"') return ParseQuoted('"');
    if (!IsAlpha(s_[pos_])) return Fail("expected a field name or a quoted field");
    size_t start = pos_;
    while (!AtEnd() && (IsAlpha(s_[pos_]) || IsDigit(s_[pos_]))) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  Result<std::string> ParseValue(bool regex) {
    if (AtEnd()) return Fail("expected a value");
    char c = s_[pos_];
    if (c == '"' || (regex && (c == '/' || c == '|'))) return ParseQuoted(c);
    size_t start = pos_;
    while (!AtEnd() && !IsSpace(s_[pos_]) && s_[pos_] != ',') ++pos_;
    if (pos_ == start) return Fail("expected a value");
    return std::string(s_.substr(start, pos_ - start));
  }

  // A Go-style quoted string; for the regex delimiters / and | unknown escapes stay verbatim so
  // that "\." reaches the regex engine.
  Result<std::string> ParseQuoted(char quote) {
    ++pos_;
    std::string out;
    while (true) {
      if (AtEnd()) return Fail("unterminated quoted string");
      char c = s_[pos_++];
      if (c == quote) return out;
      if (c == '\n') return Fail("newline in quoted string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      RETURN_IF_ERROR(ParseEscape(quote, &out));
    }
  }

  Status ParseEscape(char quote, std::string* out) {
    if (AtEnd()) return Fail("unterminated escape");
    char e = s_[pos_++];
    switch (e) {
      case 'a':
        out->push_back('\a');
        return Ok();
      case 'b':
        out->push_back('\b');
        return Ok();
      case 'f':
        out->push_back('\f');
        return Ok();
      case 'n':
        out->push_back('\n');
        return Ok();
      case 'r':
        out->push_back('\r');
        return Ok();
      case 't':
        out->push_back('\t');
        return Ok();
      case 'v':
        out->push_back('\v');
        return Ok();
      case '\\':
        out->push_back('\\');
        return Ok();
      case 'x':
        return ParseHex(2, false, out);
      case 'u':
        return ParseHex(4, true, out);
      case 'U':
        return ParseHex(8, true, out);
      default:
        break;
    }
    if (e == quote) {
      out->push_back(e);
      return Ok();
    }
    if (e >= '0' && e <= '7') return ParseOctal(e, out);
    if (quote != '"') {
      out->push_back('\\');
      out->push_back(e);
      return Ok();
    }
    --pos_;
    return Fail(std::string("unknown escape \\") + e);
  }

  Status ParseHex(int digits, bool unicode, std::string* out) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      int h = AtEnd() ? -1 : HexValue(s_[pos_]);
      if (h < 0) return Fail("bad hex escape");
      v = v * 16 + static_cast<uint32_t>(h);
      ++pos_;
    }
    if (!unicode) {
      out->push_back(static_cast<char>(v));
    } else if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
      return Fail("escape is not a valid code point");
    } else {
      AppendUtf8(v, out);
    }
    return Ok();
  }

  Status ParseOctal(char first, std::string* out) {
    uint32_t v = static_cast<uint32_t>(first - '0');
    for (int i = 0; i < 2; ++i) {
      if (AtEnd() || s_[pos_] < '0' || s_[pos_] > '7') return Fail("bad octal escape");
      v = v * 8 + static_cast<uint32_t>(s_[pos_++] - '0');
    }
    if (v > 255) return Fail("octal escape above \\377");
    out->push_back(static_cast<char>(v));
    return Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// The value of a field path on a snapshot, and whether it is present.
std::pair<std::string, bool> FieldValue(const SnapshotInfo& info,
                                        const std::vector<std::string>& path) {
  const std::string& head = path.front();
  // Always present, as in containerd's adaptor: `parent==""` matches base snapshots.
  if (head == "name" && path.size() == 1) return {info.name, true};
  if (head == "parent" && path.size() == 1) return {info.parent, true};
  if (head == "kind" && path.size() == 1) return {std::string(KindName(info.kind)), true};
  if (head == "labels" && path.size() > 1) {
    std::string key = path[1];
    for (size_t i = 2; i < path.size(); ++i) key += "." + path[i];
    auto it = info.labels.find(key);
    if (it == info.labels.end()) return {"", false};
    return {it->second, true};
  }
  return {"", false};
}

bool MatchSelector(const Selector& sel, const SnapshotInfo& info) {
  auto [value, present] = FieldValue(info, sel.fieldpath);
  switch (sel.op) {
    case FilterOp::kPresent:
      return present;
    case FilterOp::kEqual:
      return present && value == sel.value;
    case FilterOp::kNotEqual:
      return value != sel.value;
    case FilterOp::kMatches:
      return present && std::regex_search(value, *sel.regex);
  }
  return false;
}

}  // namespace

bool Filter::Match(const SnapshotInfo& info) const {
  for (const Selector& sel : selectors) {
    if (!MatchSelector(sel, info)) return false;
  }
  return true;
}

Result<Filter> ParseFilter(std::string_view text) { return Parser(text).Run(); }

Result<FilterSet> FilterSet::Parse(const std::vector<std::string>& texts) {
  FilterSet set;
  for (const std::string& text : texts) {
    TRY(Filter f, ParseFilter(text));
    set.filters_.push_back(std::move(f));
  }
  return set;
}

bool FilterSet::Match(const SnapshotInfo& info) const {
  if (filters_.empty()) return true;
  for (const Filter& f : filters_) {
    if (f.Match(info)) return true;
  }
  return false;
}

}  // namespace tessera::snapshotter::internal
