#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>

#include "router.h"

class QThreadPool;

namespace Outpost::Auth {
class Accounts;
class ApiKeys;
class ClientTokens;
} // namespace Outpost::Auth

namespace Outpost::Http {

// OAuth 2.0 endpoints (RFC 6749, RFC 7009), form-encoded (application/x-www-form-urlencoded) as
// the RFCs require; JSON bodies are accepted too:
//   POST /api/oauth2/token   grant_type=client_credentials  (client id = API key id, secret = the
//                            key; HTTP Basic or client_id/client_secret; optional `scope`)
//                            -> {access_token, token_type: "Bearer", expires_in, scope}
//                            grant_type=refresh_token&refresh_token=opr_...
//                            -> {access_token, token_type, expires_in, refresh_token}: rotated;
//                            presenting a spent one revokes its whole session (RFC 9700 §4.14.2)
//   POST /api/oauth2/revoke  token=<refresh token or access token>  -> 200, its session ended;
//                            unknown tokens too (RFC 7009 §2.2)
// Errors are RFC 6749 §5.2 JSON ({error, error_description}), not problem+json: OAuth clients
// parse that shape. Every answer carries Cache-Control: no-store.
class OAuth2Controller
{
public:
    OAuth2Controller(Auth::Accounts &accounts, Auth::ApiKeys &keys, const Auth::ClientTokens &clientTokens,
                     QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *blockingPool);
    void registerRoutes(Router &router) const;

private:
    void token(const Request &request, const Responder &responder) const;
    void revoke(const Request &request, const Responder &responder) const;
    void clientCredentials(const Request &request, const QUrlQuery &form, const Responder &responder) const;

    Auth::Accounts &m_accounts;
    Auth::ApiKeys &m_keys;
    const Auth::ClientTokens &m_clientTokens;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
