#include "aws/http.h"

#include "core/strings.h"

namespace di::aws {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return ToLower(a) == ToLower(b);
}

const std::string* Find(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (SameName(h.name, name)) return &h.value;
  return nullptr;
}

}  // namespace

void HttpRequest::SetHeader(std::string name, std::string value) {
  for (auto& h : headers)
    if (SameName(h.name, name)) {
      h.value = std::move(value);
      return;
    }
  headers.push_back({std::move(name), std::move(value)});
}

const std::string* HttpRequest::FindHeader(std::string_view name) const {
  return Find(headers, name);
}

const std::string* HttpResponse::FindHeader(std::string_view name) const {
  return Find(headers, name);
}

std::string HttpRequest::Url() const {
  std::string url = scheme + "://" + host + UriEncode(path, true);
  for (size_t i = 0; i < query.size(); ++i)
    url += (i ? "&" : "?") + UriEncode(query[i].first, false) + "=" +
           UriEncode(query[i].second, false);
  return url;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UriDecode(std::string_view s) {
  auto val = HexDigitValue;
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && val(s[i + 1]) >= 0 && val(s[i + 2]) >= 0) {
      out += static_cast<char>(val(s[i + 1]) * 16 + val(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace di::aws
