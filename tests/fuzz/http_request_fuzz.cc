// libFuzzer target for the HTTP/1.1 request framing and parsing of tessera::HttpServer
// (common/src/http/wire.h): the bytes a local client can send. The input is fed to a
// RequestReader in slices (as partial reads arrive) and every request it frames is checked
// against the invariants the server relies on. The client's response-head parser and the
// %-decoder run on the same bytes.
//
// Input layout: byte 0 picks the limits (bit 0: tiny limits, to reach 413/431) and the slice
// size (bits 1..7); the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/wire.h"

#include "tessera/common/http.h"

namespace {

using tessera::internal::RequestReader;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckRequest(const tessera::HttpRequest& req) {
  Check(!req.method.empty() && !req.target.empty() && req.target.front() == '/');
  Check(req.path.find('\0') == std::string::npos);
  for (const auto& [k, v] : req.query) {
    Check(!k.empty() && k.find('\0') == std::string::npos && v.find('\0') == std::string::npos);
  }
  for (const auto& [name, value] : req.headers) {
    Check(!name.empty() && value.find('\r') == std::string::npos &&
          value.find('\n') == std::string::npos);
  }
}

void CheckError(int status) {
  Check(status == 400 || status == 411 || status == 413 || status == 417 || status == 431 ||
        status == 505);
}

void FeedReader(std::string_view stream, bool tiny, size_t slice) {
  const size_t max_header = tiny ? 256 : 16 * 1024;
  const size_t max_body = tiny ? 512 : 1024 * 1024;
  RequestReader reader(max_header, max_body);
  size_t requests = 0;
  while (!stream.empty()) {
    size_t n = std::min(slice, stream.size());
    reader.buffer().append(stream.substr(0, n));
    stream.remove_prefix(n);
    for (;;) {
      auto state = reader.Advance();
      if (state == RequestReader::State::kNeedMore) {
        (void)reader.TakeContinue();
        // The server stops reading at max_header + max_body + 1 buffered bytes.
        break;
      }
      if (state == RequestReader::State::kError) {
        CheckError(reader.error_status());
        return;
      }
      tessera::HttpRequest req = reader.TakeRequest();
      CheckRequest(req);
      Check(req.body.size() <= max_body);
      if (++requests > 1000) return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool tiny = (data[0] & 1) != 0;
  const size_t slice = (data[0] >> 1) == 0 ? size : (data[0] >> 1);
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  FeedReader(stream, tiny, slice);

  if (auto end = tessera::internal::FindHeadEnd(stream)) {
    auto head = tessera::internal::ParseResponseHead(stream.substr(0, *end));
    if (head) Check(head->response.status >= 100 && head->response.status <= 999);
  }
  auto decoded = tessera::PercentDecode(stream);
  if (decoded) Check(decoded->size() <= stream.size());
  auto query = tessera::internal::ParseQuery(stream);
  (void)query;
  std::string quoted = tessera::JsonQuote(stream);
  Check(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"');
  return 0;
}
