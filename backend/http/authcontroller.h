#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>

#include "router.h"

class QThreadPool;

namespace Outpost::Auth {
class LoginThrottle;
class Superusers;
} // namespace Outpost::Auth

namespace Outpost::Http {

// PocketBase-compatible superuser authentication:
//   POST /api/collections/_superusers/auth-with-password  {identity, password} -> {token, record}
//   POST /api/collections/_superusers/auth-refresh        (Authorization: [Bearer] token) -> {token, record}
// Password checks run on `blockingPool`, never on the network thread. Before one is queued,
// `throttle` may refuse it (429 with Retry-After, no hashing); the client address it and the audit
// entry use is clientAddress() with `trustedProxies`. Every reference must outlive the controller
// and the pool's jobs.
class AuthController
{
public:
    AuthController(Auth::Superusers &superusers, Auth::LoginThrottle &throttle,
                   QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *blockingPool);
    void registerRoutes(Router &router) const;

private:
    void authWithPassword(const Request &request, const Responder &responder) const;
    void authRefresh(const Request &request, const Responder &responder) const;

    Auth::Superusers &m_superusers;
    Auth::LoginThrottle &m_throttle;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
