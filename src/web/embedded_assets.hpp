// The files of the web UI (web/ in the source tree), compiled into the binary
// by a build step (embed_assets.cmake), so `baton serve` needs nothing on disk
// and fetches nothing at run time.
#pragma once

#include <span>
#include <string_view>

namespace baton::web {

struct EmbeddedAsset {
  std::string_view path;     // relative to web/, '/'-separated: "index.html", "js/app.js"
  std::string_view content;  // the file's bytes; static storage
};

// Every embedded file, sorted by path.
std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace baton::web
