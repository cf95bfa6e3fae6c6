// Registers every route of the HTTP API (docs/api.md) on a router. `api`
// must outlive the router and the server.
#pragma once

#include "api/api_context.hpp"
#include "http/router.hpp"

namespace baton {

void AddSessionRoutes(http::Router& router, const ApiContext* api);
void AddRunRoutes(http::Router& router, const ApiContext* api);
void AddHealthRoutes(http::Router& router, const ApiContext* api);

inline void AddApiRoutes(http::Router& router, const ApiContext* api) {
  AddSessionRoutes(router, api);
  AddRunRoutes(router, api);
  AddHealthRoutes(router, api);
}

}  // namespace baton
