#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <variant>

#include "apikeys.h"
#include "jwt.h"

namespace Outpost::Auth {

// Access tokens for API keys: OAuth 2.0's client credentials grant (RFC 6749 §4.4), where the client
// id is the key's id and the client secret is the key. The token is a JWT ({type: "client", id,
// scope}) that lives at most Sessions::kAccessTtlSeconds and never past the key's expiry, with the
// key's scopes or a narrower set the client asked for.
//
// A token is only as good as its key: every use checks the key again (ApiKeys::authenticateId:
// revoked, expired, address), so revoking a key ends its tokens on the next request, and a scope
// the key has lost since is no longer granted.
//
// Thread-safe; verify() runs on network threads and touches no database.
class ClientTokens
{
public:
    ClientTokens(const Jwt &jwt, ApiKeys &keys, const Clock &clock);

    struct Issued
    {
        QByteArray token;
        qint64 expiresIn = 0; // seconds
        QStringList scopes;
    };
    // `requestedScopes` empty: all of the key's. InvalidArgument (RFC 6749 invalid_scope) for a
    // scope the key does not hold.
    Result<Issued> issue(const ApiKey &key, const QStringList &requestedScopes) const;

    static bool isClientToken(const QJsonObject &unverifiedClaims);

    // The key with the token's scopes, or why the key (or the token: Malformed) is refused.
    std::variant<ApiKey, ApiKeys::Refusal> verify(QByteArrayView token, const QHostAddress &client) const;

private:
    const Jwt &m_jwt;
    ApiKeys &m_keys;
    const Clock &m_clock;
};

} // namespace Outpost::Auth
