#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>

#include "router.h"

class QThreadPool;

namespace Outpost::Auth {
class Accounts;
class AppUsers;
class LoginThrottle;
class Superusers;
} // namespace Outpost::Auth

namespace Outpost::Data {
class Collections;
}

namespace Outpost::Http {

// PocketBase-compatible authentication, for `_superusers` and every auth collection ({c}):
//   POST /api/collections/{c}/auth-with-password  {identity, password} -> {token, record, refreshToken}
//   POST /api/collections/{c}/auth-refresh        (Authorization: [Bearer] token) -> {token, record}
//   POST /api/collections/{c}/auth-logout         (Authorization) -> 204, the token's session ends
// Access tokens live 15 minutes (Auth::Sessions); `refreshToken` (an addition to PocketBase's
// answer, which its SDK ignores) renews them through POST /api/oauth2/token. auth-refresh issues a
// new access token in the same session while the old one is still valid.
// Password checks run on `blockingPool`, never on the network thread. Before one is queued,
// `throttle` may refuse it (429 with Retry-After, no hashing); the client address it and the audit
// entry use is clientAddress() with `trustedProxies`. Every reference must outlive the controller
// and the pool's jobs.
class AuthController
{
public:
    AuthController(Auth::Accounts &accounts, const Auth::Superusers &superusers, const Auth::AppUsers &users,
                   const Data::Collections &collections, Auth::LoginThrottle &throttle,
                   QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *blockingPool);
    void registerRoutes(Router &router) const;

private:
    void authWithPassword(const Request &request, const Responder &responder) const;
    void authRefresh(const Request &request, const Responder &responder) const;
    void authLogout(const Request &request, const Responder &responder) const;

    Auth::Accounts &m_accounts;
    const Auth::Superusers &m_superusers;
    const Auth::AppUsers &m_users;
    const Data::Collections &m_collections;
    Auth::LoginThrottle &m_throttle;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
