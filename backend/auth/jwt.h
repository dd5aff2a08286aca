#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <functional>

#include "../core/clock.h"
#include "../core/result.h"

namespace Outpost::Auth {

// Compact JWS tokens signed with HMAC-SHA256 (RFC 7519, following RFC 8725's best practices):
// the algorithm is fixed to HS256 and never taken from the token, `alg: none` and every other
// algorithm are refused, `kid` names the install's key, `iat`/`exp` are always set and checked,
// signatures are compared in constant time, and `crit` headers are refused.
//
// Thread-safe (immutable after construction).
class Jwt
{
public:
    // `secret` is the install's signing secret (at least 32 bytes), `keyId` its public name.
    Jwt(QByteArray secret, QByteArray keyId, const Clock &clock);

    // Adds iat and exp (now + ttlSeconds) to `claims` and signs. `keySuffix` is mixed into the
    // HMAC key: a per-account value, so that changing it revokes that account's tokens.
    QByteArray sign(QJsonObject claims, qint64 ttlSeconds, const QByteArray &keySuffix) const;

    // Verifies `token`. `keySuffixFor` receives the (not yet trusted) claims and returns the
    // per-account key suffix, or an error when the account is unknown. Errors are Unauthenticated.
    Result<QJsonObject> verify(QByteArrayView token,
                               const std::function<Result<QByteArray>(const QJsonObject &)> &keySuffixFor) const;

    // The claims of `token` WITHOUT checking anything: only to pick which verifier to hand it to.
    static QJsonObject peekClaims(QByteArrayView token);

    const QByteArray &keyId() const { return m_keyId; }

private:
    QByteArray mac(QByteArrayView signingInput, const QByteArray &keySuffix) const;

    QByteArray m_secret;
    QByteArray m_keyId;
    const Clock &m_clock;
};

} // namespace Outpost::Auth
