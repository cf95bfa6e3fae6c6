#include "web/static_site.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "web/content_type.hpp"
#include "web/embedded_assets.hpp"

namespace baton::web {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

StaticFile MakeFile(std::string_view relative, std::string content) {
  StaticFile file;
  file.content_type = std::string(ContentTypeFor(relative));
  file.etag = ComputeEtag(content);
  file.content = std::move(content);
  return file;
}

}  // namespace

std::string ComputeEtag(std::string_view content) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "\"%016llx-%zx\"", static_cast<unsigned long long>(hash),
                content.size());
  return buffer;
}

Result<std::string> RelativeAssetPath(std::string_view encoded_path) {
  if (encoded_path.empty() || encoded_path.front() != '/')
    return Error::Invalid("a static file path must start with '/'");
  std::string decoded;
  decoded.reserve(encoded_path.size());
  for (std::size_t i = 1; i < encoded_path.size(); ++i) {
    const char c = encoded_path[i];
    if (c != '%') {
      decoded += c;
      continue;
    }
    const int hi = i + 2 < encoded_path.size() ? HexValue(encoded_path[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(encoded_path[i + 2]) : -1;
    if (lo < 0) return Error::Invalid("bad percent-encoding in path");
    decoded += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  // Check every segment after decoding, so "%2e%2e" and "a%2f..%2fb" are caught too.
  std::size_t start = 0;
  while (start <= decoded.size()) {
    const auto end = std::min(decoded.find('/', start), decoded.size());
    const std::string_view segment = std::string_view(decoded).substr(start, end - start);
    if (segment == "." || segment == ".." ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return Error::Invalid("path may not contain '.', '..', backslashes or NUL bytes");
    }
    start = end + 1;
  }
  return decoded;
}

StaticSite StaticSite::Embedded() {
  StaticSite site;
  for (const EmbeddedAsset& asset : EmbeddedAssets())
    site.embedded_.emplace(std::string(asset.path),
                           MakeFile(asset.path, std::string(asset.content)));
  return site;
}

Result<StaticSite> StaticSite::FromDirectory(const std::filesystem::path& root) {
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(root, ec);
  if (ec || !std::filesystem::is_directory(canonical, ec))
    return Error::Invalid("--web-root " + root.string() + " is not a directory");
  if (!std::filesystem::is_regular_file(canonical / "index.html", ec))
    return Error::Invalid("--web-root " + root.string() + " has no index.html");
  StaticSite site;
  site.root_ = canonical;
  return site;
}

Result<StaticFile> StaticSite::Find(std::string_view relative) const {
  if (!root_) {
    auto it = embedded_.find(relative);
    if (it == embedded_.end()) return Error::NotFound("no file " + std::string(relative));
    return it->second;
  }
  std::error_code ec;
  // RelativeAssetPath already refused "..": canonical() catches symbolic
  // links that point outside the root.
  const auto path = std::filesystem::canonical(*root_ / std::string(relative), ec);
  if (ec || !std::filesystem::is_regular_file(path, ec))
    return Error::NotFound("no file " + std::string(relative));
  const auto [mismatch, unused] = std::mismatch(root_->begin(), root_->end(), path.begin());
  if (mismatch != root_->end()) return Error::NotFound("no file " + std::string(relative));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in.good() && !in.eof()) return Error::NotFound("cannot read " + std::string(relative));
  return MakeFile(relative, std::move(content).str());
}

std::string StaticSite::Describe() const {
  return root_ ? root_->string() : std::string("embedded");
}

}  // namespace baton::web
