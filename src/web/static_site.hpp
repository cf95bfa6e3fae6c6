// StaticSite: the files of a single-page web frontend, either the UI embedded
// in the binary or a directory on disk (`baton serve --web-root DIR`).
//
// Paths are relative to the site's root, '/'-separated, without a leading
// '/': "index.html", "js/app.js". RelativeAssetPath turns a request path into
// one and refuses anything that could leave the root.
//
// Thread safety: immutable after construction; Find may be called from any
// thread. A directory site reads the file at every Find, so edits show up on
// the next request (its files are small: a blocking read is cheaper than a
// hop to another pool).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace baton::web {

struct StaticFile {
  std::string content;
  std::string content_type;
  std::string etag;  // strong validator, quoted: "\"9b2f...-1234\""
};

class StaticSite {
 public:
  // The UI compiled into the binary (web/ of the source tree).
  static StaticSite Embedded();
  // A directory holding at least index.html. kInvalidInput otherwise.
  static Result<StaticSite> FromDirectory(const std::filesystem::path& root);

  // The file at `relative` (as from RelativeAssetPath, non-empty); kNotFound
  // if there is none. A directory site also refuses (kNotFound) a path that
  // resolves outside its root through a symbolic link.
  Result<StaticFile> Find(std::string_view relative) const;

  // "embedded" or the directory, for the start-up log.
  std::string Describe() const;

 private:
  StaticSite() = default;

  std::optional<std::filesystem::path> root_;                // directory site
  std::map<std::string, StaticFile, std::less<>> embedded_;  // embedded site
};

// Decodes a request path ("/js/app.js", percent-encoded) into a path relative
// to the site root ("js/app.js"; "" for "/"). kInvalidInput for a path that
// is not absolute, has bad percent-encoding, or has a segment that is ".",
// "..", or contains a backslash or a NUL byte — nothing can name a file
// outside the root.
Result<std::string> RelativeAssetPath(std::string_view encoded_path);

// A strong ETag for `content` (FNV-1a of the bytes and the length), quoted.
std::string ComputeEtag(std::string_view content);

}  // namespace baton::web
