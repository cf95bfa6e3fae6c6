// Serves a StaticSite as the router's fallback, so every API route keeps
// precedence: GET (and HEAD) of a path no route matches answers the file, or
// index.html for a client-side route of the single-page app ("/s/<id>").
//
// Paths under /api/ and /auth/, and /healthz, /readyz, /metrics, never fall
// back to the app: an unknown one stays a JSON 404, as do other methods. A
// missing path whose last segment has an extension ("/app.css.map") is a 404
// too — answering HTML for a missing script only hides the mistake.
//
// Responses carry ETag (If-None-Match answers 304), Cache-Control: no-cache
// (files keep their names across releases, so browsers revalidate), nosniff,
// and a Content-Security-Policy that allows only the site's own scripts,
// styles and API: model output rendered by the UI cannot run a script even if
// a renderer bug let markup through.
#pragma once

#include <string_view>

#include "http/router.hpp"
#include "web/static_site.hpp"

namespace baton::web {

// `site` must outlive the router.
void AddWebRoutes(http::Router& router, const StaticSite* site);

// True for the paths that never fall back to the app (see above).
bool IsApiPath(std::string_view path);

}  // namespace baton::web
