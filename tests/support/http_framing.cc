#include "support/http_framing.h"

#include <cctype>

#include "common/text.h"

namespace kmps::testing {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// Parses the head (start line + headers) if the blank line has arrived. Returns false with
// `out.state` set when the head is incomplete or malformed.
bool ParseHead(std::string_view buf, bool is_request, Framing& out) {
  std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > 1 << 20) {
      out.state = FrameState::kError;
      out.error = "HTTP head longer than 1 MiB";
    }
    return false;
  }
  out.head_len = end + 4;
  std::string_view head = buf.substr(0, end);
  std::size_t line_end = head.find(kCrlf);
  std::string_view start = head.substr(0, line_end);
  out.head.start_line = std::string(start);
  std::size_t sp1 = start.find(' ');
  if (sp1 == std::string_view::npos) {
    out.state = FrameState::kError;
    out.error = "malformed start line: " + std::string(start);
    return false;
  }
  if (is_request) {
    std::size_t sp2 = start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || start.substr(sp2 + 1).rfind("HTTP/", 0) != 0) {
      out.state = FrameState::kError;
      out.error = "malformed request line: " + std::string(start);
      return false;
    }
    out.head.method = std::string(start.substr(0, sp1));
    out.head.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
  } else {
    std::string_view code = start.substr(sp1 + 1, 3);
    std::optional<int> status = code.size() == 3 ? ParseInteger<int>(code) : std::nullopt;
    if (start.rfind("HTTP/", 0) != 0 || !status) {
      out.state = FrameState::kError;
      out.error = "malformed status line: " + std::string(start);
      return false;
    }
    out.head.status = *status;
  }
  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t next = head.find(kCrlf, pos);
    if (next == std::string_view::npos) next = head.size();
    std::string_view line = head.substr(pos, next - pos);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      out.state = FrameState::kError;
      out.error = "malformed header line: " + std::string(line);
      return false;
    }
    out.head.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                  std::string(Trim(line.substr(colon + 1))));
    pos = next + 2;
  }
  return true;
}

// Length of a complete chunked body starting at `buf`, or nullopt if more bytes are needed.
// Sets `error` on malformed input.
std::optional<std::size_t> ChunkedLength(std::string_view buf, std::string& error) {
  std::size_t pos = 0;
  while (true) {
    std::size_t eol = buf.find(kCrlf, pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view size_line = buf.substr(pos, eol - pos);
    size_line = Trim(size_line.substr(0, size_line.find(';')));
    std::optional<std::size_t> parsed = ParseInteger<std::size_t>(size_line, 16);
    if (!parsed) {
      error = "malformed chunk size line: " + std::string(size_line);
      return std::nullopt;
    }
    std::size_t size = *parsed;
    pos = eol + 2;
    if (size == 0) {
      // Trailers, then an empty line.
      while (true) {
        std::size_t t = buf.find(kCrlf, pos);
        if (t == std::string_view::npos) return std::nullopt;
        bool empty = t == pos;
        pos = t + 2;
        if (empty) return pos;
      }
    }
    if (buf.size() < pos + size + 2) return std::nullopt;
    if (buf.substr(pos + size, 2) != kCrlf) {
      error = "chunk not followed by CRLF";
      return std::nullopt;
    }
    pos += size + 2;
  }
}

// Frames the body after a parsed head: chunked or Content-Length.
void FrameBody(std::string_view buf, Framing& out) {
  if (out.head.HasToken("Transfer-Encoding", "chunked")) {
    out.chunked = true;
    std::string error;
    auto len = ChunkedLength(buf.substr(out.head_len), error);
    if (!error.empty()) {
      out.state = FrameState::kError;
      out.error = error;
    } else if (len) {
      out.state = FrameState::kComplete;
      out.total_len = out.head_len + *len;
    }
    return;
  }
  auto cl = out.head.Get("Content-Length");
  std::size_t length = 0;
  if (cl) {
    std::optional<std::size_t> parsed = ParseInteger<std::size_t>(*cl);
    if (parsed) length = *parsed;
    if (!parsed) {
      out.state = FrameState::kError;
      out.error = "malformed Content-Length: " + std::string(*cl);
      return;
    }
  }
  if (buf.size() >= out.head_len + length) {
    out.state = FrameState::kComplete;
    out.total_len = out.head_len + length;
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::optional<std::string_view> HttpHead::Get(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

bool HttpHead::HasToken(std::string_view name, std::string_view token) const {
  for (const auto& [k, v] : headers) {
    if (!EqualsIgnoreCase(k, name)) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      if (EqualsIgnoreCase(Trim(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

Framing FrameRequest(std::string_view buf) {
  Framing out;
  if (!ParseHead(buf, /*is_request=*/true, out)) return out;
  FrameBody(buf, out);
  return out;
}

Framing FrameResponse(std::string_view buf, std::string_view request_method, bool eof) {
  Framing out;
  if (!ParseHead(buf, /*is_request=*/false, out)) {
    if (eof && out.state == FrameState::kNeedMore) {
      out.state = FrameState::kError;
      out.error = buf.empty() ? "connection closed before a response" : "connection closed inside the response head";
    }
    return out;
  }
  int s = out.head.status;
  if ((s >= 100 && s < 200 && s != 101) || s == 204 || s == 304 || request_method == "HEAD") {
    out.state = FrameState::kComplete;
    out.total_len = out.head_len;
    return out;
  }
  if (s == 101 || (!out.head.Get("Content-Length") && !out.head.HasToken("Transfer-Encoding", "chunked"))) {
    out.close_delimited = true;
    if (eof) {
      out.state = FrameState::kComplete;
      out.total_len = buf.size();
    }
    return out;
  }
  FrameBody(buf, out);
  if (eof && out.state == FrameState::kNeedMore) {
    out.state = FrameState::kError;
    out.error = "connection closed inside the response body";
  }
  return out;
}

bool ResponseClosesConnection(const Framing& response) {
  return response.close_delimited || response.head.HasToken("Connection", "close");
}

std::optional<std::string> DecodedBody(std::string_view message, const Framing& framing) {
  if (framing.state != FrameState::kComplete) return std::nullopt;
  std::string_view body = message.substr(framing.head_len, framing.total_len - framing.head_len);
  if (!framing.chunked) return std::string(body);
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t eol = body.find(kCrlf, pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view size_line = body.substr(pos, eol - pos);
    size_line = Trim(size_line.substr(0, size_line.find(';')));
    std::optional<std::size_t> size = ParseInteger<std::size_t>(size_line, 16);
    if (!size) return std::nullopt;
    if (*size == 0) return out;
    out.append(body.substr(eol + 2, *size));
    pos = eol + 2 + *size + 2;
  }
}

}  // namespace kmps::testing
