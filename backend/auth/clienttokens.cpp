#include "clienttokens.h"

#include "sessions.h"

namespace Outpost::Auth {

namespace {

// Mixed into the HMAC key of client tokens: a user's token can never pass as one (or back).
const QByteArray kKeySuffix = QByteArrayLiteral("client-credentials");

} // namespace

ClientTokens::ClientTokens(const Jwt &jwt, ApiKeys &keys, const Clock &clock)
    : m_jwt(jwt)
    , m_keys(keys)
    , m_clock(clock)
{
}

bool ClientTokens::isClientToken(const QJsonObject &unverifiedClaims)
{
    return unverifiedClaims.value(u"type").toString() == u"client";
}

Result<ClientTokens::Issued> ClientTokens::issue(const ApiKey &key, const QStringList &requestedScopes) const
{
    Scopes scopes = key.scopes;
    if (!requestedScopes.isEmpty()) {
        if (const auto missing = key.scopes.firstNotHeld(requestedScopes))
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("The client does not hold the scope \"%1\".").arg(*missing));
        auto narrowed = Scopes::parse(requestedScopes);
        if (!narrowed)
            return narrowed.error();
        scopes = *narrowed;
    }
    qint64 ttl = Sessions::kAccessTtlSeconds;
    if (key.expiresMs)
        ttl = qMin(ttl, (*key.expiresMs - m_clock.nowMs()) / 1000);
    if (ttl <= 0)
        return makeError(ErrorCode::Unauthenticated, QStringLiteral("The API key has expired."));
    const QJsonObject claims {{QStringLiteral("type"), QStringLiteral("client")},
                              {QStringLiteral("id"), key.id},
                              {QStringLiteral("scope"), scopes.toStrings().join(u' ')}};
    return Issued {m_jwt.sign(claims, ttl, kKeySuffix), ttl, scopes.toStrings()};
}

std::variant<ApiKey, ApiKeys::Refusal> ClientTokens::verify(QByteArrayView token, const QHostAddress &client) const
{
    auto claims = m_jwt.verify(token, [](const QJsonObject &c) -> Result<QByteArray> {
        if (!isClientToken(c))
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("wrong token type"));
        return kKeySuffix;
    });
    if (!claims)
        return ApiKeys::Refusal::Malformed;
    auto outcome = m_keys.authenticateId(claims->value(u"id").toString(), client);
    auto *key = std::get_if<ApiKey>(&outcome);
    if (!key)
        return outcome;
    // Only what the key still holds: a scope removed from the key since is not granted any more.
    QStringList granted;
    for (const QString &scope : claims->value(u"scope").toString().split(u' ', Qt::SkipEmptyParts))
        if (!key->scopes.firstNotHeld({scope}))
            granted.append(scope);
    auto scopes = Scopes::parse(granted);
    key->scopes = scopes ? *scopes : Scopes();
    return outcome;
}

} // namespace Outpost::Auth
