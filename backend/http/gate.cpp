#include "gate.h"

#include "../auth/apikeys.h"
#include "../auth/appusers.h"
#include "../auth/clienttokens.h"
#include "../auth/keyformat.h"
#include "../auth/superusers.h"
#include "../data/collections.h"

namespace Outpost::Http {

namespace {

// The key a request presents, if any: X-API-Key, or an Authorization value that has a key's form.
QByteArray presentedKey(const Request &request)
{
    if (QByteArray key = request.header("x-api-key").trimmed(); !key.isEmpty())
        return key;
    QByteArray authorization = request.header("authorization").trimmed();
    if (authorization.size() > 7 && authorization.first(7).compare("bearer ", Qt::CaseInsensitive) == 0)
        authorization = authorization.sliced(7).trimmed();
    return authorization.startsWith("opk_") ? authorization : QByteArray();
}

// No sign of a proxy: no forwarding header, and no client other than the peer (Request::client).
bool isDirect(const Request &request)
{
    for (const auto &[name, value] : request.headers)
        if (name.compare("x-forwarded-for", Qt::CaseInsensitive) == 0
            || name.compare("forwarded", Qt::CaseInsensitive) == 0
            || name.compare("x-real-ip", Qt::CaseInsensitive) == 0)
            return false;
    return request.client.isNull() || request.client == Auth::unmappedAddress(request.peer);
}

Response unauthorized(const QString &detail)
{
    // RFC 6750 §3: a bearer credential that was refused.
    return Response::problem(401, detail).withHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
}

Response keyRefused(Auth::ApiKeys::Refusal refusal)
{
    switch (refusal) {
    case Auth::ApiKeys::Refusal::Malformed:
        return unauthorized(
            QStringLiteral("The API key is malformed: its checksum does not match (mistyped or cut short?)."));
    case Auth::ApiKeys::Refusal::Unknown:
        return unauthorized(QStringLiteral("The API key is not valid."));
    case Auth::ApiKeys::Refusal::Expired:
        return unauthorized(QStringLiteral("The API key has expired."));
    case Auth::ApiKeys::Refusal::Revoked:
        return unauthorized(QStringLiteral("The API key has been revoked."));
    case Auth::ApiKeys::Refusal::AddressNotAllowed:
        break;
    }
    return Response::problem(403, QStringLiteral("The API key may not be used from this address."));
}

Response roleRefused(Auth::Role role, Auth::Permission permission)
{
    return Response::problem(
        403,
        QStringLiteral("The %1 role does not allow %2.").arg(Auth::roleName(role), Auth::permissionName(permission)));
}

} // namespace

Gate::Gate(const Auth::Superusers &superusers, Auth::ApiKeys &keys, const Auth::AppUsers &users,
           const Auth::ClientTokens &clientTokens, const Data::Collections &collections)
    : m_superusers(superusers)
    , m_keys(keys)
    , m_users(users)
    , m_clientTokens(clientTokens)
    , m_collections(collections)
{
}

void Gate::install(Router &router) const
{
    router.setGate([this](Request &request, const Policy &policy) { return admit(request, policy); });
}

std::optional<Response> Gate::identify(Request &request) const
{
    Caller &caller = request.caller;
    caller = Caller();
    if (const QByteArray key = presentedKey(request); !key.isEmpty()) {
        auto outcome = m_keys.authenticate(key, request.peer);
        if (const auto *refusal = std::get_if<Auth::ApiKeys::Refusal>(&outcome))
            return keyRefused(*refusal);
        const auto &apiKey = std::get<Auth::ApiKey>(outcome);
        caller.kind = Caller::Kind::ApiKey;
        caller.id = apiKey.id;
        caller.scopes = apiKey.scopes;
        caller.sentToken = true;
        return std::nullopt;
    }
    const QByteArray authorization = request.header("authorization");
    caller.sentToken = !authorization.trimmed().isEmpty();
    if (!caller.sentToken)
        return std::nullopt;
    const QByteArrayView token = Auth::bearerToken(authorization);
    if (Auth::ClientTokens::isClientToken(Auth::Jwt::peekClaims(token))) {
        auto outcome = m_clientTokens.verify(token, request.peer);
        if (const auto *refusal = std::get_if<Auth::ApiKeys::Refusal>(&outcome))
            return *refusal == Auth::ApiKeys::Refusal::Malformed
                ? unauthorized(QStringLiteral("The access token is invalid or has expired."))
                : keyRefused(*refusal);
        const auto &apiKey = std::get<Auth::ApiKey>(outcome);
        caller.kind = Caller::Kind::ApiKey;
        caller.id = apiKey.id;
        caller.scopes = apiKey.scopes;
        return std::nullopt;
    }
    if (request.reader)
        identifyToken(request, token);
    return std::nullopt;
}

void Gate::identifyToken(Request &request, QByteArrayView token) const
{
    Caller &caller = request.caller;
    const QString collectionId = Auth::Jwt::peekClaims(token).value(u"collectionId").toString();
    if (collectionId == QLatin1String(Auth::Superusers::kCollectionId)) {
        if (auto user = m_superusers.fromToken(*request.reader, token)) {
            caller.kind = Caller::Kind::Superuser;
            caller.id = user->id;
            caller.record = user->toRecord();
            caller.role = user->role;
            caller.sessionId = user->sessionId;
        }
        return;
    }
    auto set = m_collections.snapshot();
    if (!set)
        return;
    if (auto user = m_users.fromToken(*request.reader, **set, token)) {
        caller.kind = Caller::Kind::User;
        caller.id = user->id;
        caller.collection = user->collectionName;
        caller.record = user->record;
        caller.sessionId = user->sessionId;
    }
}

std::optional<Response> Gate::admit(Request &request, const Policy &policy) const
{
    if (auto refused = identify(request))
        return refused;
    const Caller &caller = request.caller;
    switch (policy.kind) {
    case Policy::Kind::Open:
        return std::nullopt;
    case Policy::Kind::Rules:
        if (caller.kind == Caller::Kind::ApiKey && !caller.scopes.grantsAny(policy.permission))
            return Response::problem(
                403,
                QStringLiteral("The API key's scopes do not include %1.").arg(Auth::permissionName(policy.permission)));
        if (caller.kind == Caller::Kind::Superuser && !Auth::roleGrants(caller.role, policy.permission))
            return roleRefused(caller.role, policy.permission);
        return std::nullopt;
    case Policy::Kind::Permission:
        // The peer, not the client: a request a proxy on this machine forwards is not local, whichever
        // header it names the client in.
        if (policy.openOnLoopback && request.peer.isLoopback() && isDirect(request))
            return std::nullopt;
        break;
    }
    switch (caller.kind) {
    case Caller::Kind::Superuser:
        if (Auth::roleGrants(caller.role, policy.permission))
            return std::nullopt;
        return roleRefused(caller.role, policy.permission);
    case Caller::Kind::ApiKey:
        if (caller.scopes.grants(policy.permission))
            return std::nullopt;
        return Response::problem(
            403,
            QStringLiteral("The API key's scopes do not include %1.").arg(Auth::permissionName(policy.permission)));
    case Caller::Kind::User:
        return Response::problem(403, QStringLiteral("Only superusers and API keys can perform this action."));
    case Caller::Kind::Guest:
        break;
    }
    return Response::fromError(makeError(ErrorCode::Unauthenticated,
                                         QStringLiteral("The request requires valid superuser authorization token.")));
}

} // namespace Outpost::Http
