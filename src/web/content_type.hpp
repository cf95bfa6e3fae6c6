// Content-Type of a static file, from its name's extension.
#pragma once

#include <string_view>

namespace baton::web {

// "text/html; charset=utf-8" for "index.html", "text/javascript; charset=utf-8"
// for "app.js", ...; "application/octet-stream" for unknown extensions (the
// server also sends X-Content-Type-Options: nosniff, so a browser never
// guesses a script or a page out of an unknown file).
std::string_view ContentTypeFor(std::string_view file_name);

}  // namespace baton::web
