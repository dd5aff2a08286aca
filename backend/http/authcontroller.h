#pragma once

#include "router.h"

class QThreadPool;

namespace Outpost::Auth {
class Superusers;
}

namespace Outpost::Http {

// PocketBase-compatible superuser authentication:
//   POST /api/collections/_superusers/auth-with-password  {identity, password} -> {token, record}
//   POST /api/collections/_superusers/auth-refresh        (Authorization: [Bearer] token) -> {token, record}
// Password checks run on `blockingPool`, never on the network thread.
class AuthController
{
public:
    AuthController(Auth::Superusers &superusers, QThreadPool *blockingPool);
    void registerRoutes(Router &router) const;

private:
    void authWithPassword(const Request &request, const Responder &responder) const;
    void authRefresh(const Request &request, const Responder &responder) const;

    Auth::Superusers &m_superusers;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
