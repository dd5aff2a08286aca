#pragma once

#include "router.h"

class QThreadPool;

namespace Outpost::Auth {
class ApiKeys;
}

namespace Outpost::Http {

// The API key admin API (permission keys:manage: superusers, or keys with that scope):
//   POST   /api/keys               {name, scopes, expiresAt?, allowedCidrs?} -> 201, the key plus
//                                  `key`, its secret, shown this once
//   GET    /api/keys               {items: [...]}, newest first, revoked keys included
//   GET    /api/keys/{id}          one key
//   PATCH  /api/keys/{id}          {name?, scopes?, expiresAt? (null clears), allowedCidrs?}
//   DELETE /api/keys/{id}          revoke (204); effective on the next request on every thread
//   POST   /api/keys/{id}/rotate   {graceSeconds?} -> the key plus its new `key`; the old secret
//                                  keeps working for graceSeconds (default 0, at most 7 days)
// A key that manages keys can only hand out scopes it holds itself. Every change is audited with
// the caller as actor. The work runs on `pool` (it writes and waits for the commit).
class KeysController
{
public:
    KeysController(Auth::ApiKeys &keys, QThreadPool *pool);
    void registerRoutes(Router &router) const;

private:
    void create(const Request &request, const Responder &responder) const;
    void list(const Request &request, const Responder &responder) const;
    void view(const Request &request, const Responder &responder) const;
    void update(const Request &request, const Responder &responder) const;
    void revoke(const Request &request, const Responder &responder) const;
    void rotate(const Request &request, const Responder &responder) const;

    Auth::ApiKeys &m_keys;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
