#include "authcontroller.h"

#include <QJsonDocument>
#include <QThreadPool>

#include "../auth/accounts.h"
#include "../auth/appusers.h"
#include "../auth/loginthrottle.h"
#include "../auth/superusers.h"
#include "../data/collections.h"
#include "../store/auditlog.h"
#include "clientaddress.h"

namespace Outpost::Http {

namespace {

bool isSuperuserCollection(const QString &idOrName)
{
    return idOrName == QLatin1String(Auth::Superusers::kCollectionName)
        || idOrName == QLatin1String(Auth::Superusers::kCollectionId);
}

Response missingCollection()
{
    return Response::problem(404, QStringLiteral("Missing or invalid auth collection context."));
}

QJsonObject fieldError(const char *code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), QString::fromLatin1(code)}, {QStringLiteral("message"), message}};
}

// Whether the route's {collection} is `_superusers` or an auth collection.
bool isAuthCollection(const Data::Collections &collections, const QString &idOrName)
{
    if (isSuperuserCollection(idOrName))
        return true;
    auto set = collections.snapshot();
    const Data::Collection *c = set ? (*set)->find(idOrName) : nullptr;
    return c && c->type == u"auth";
}

// Whether the caller's token belongs to the route's collection.
bool callerOf(const Caller &caller, const QString &collection, const Data::Collections &collections)
{
    if (caller.kind == Caller::Kind::Superuser)
        return isSuperuserCollection(collection);
    if (caller.kind != Caller::Kind::User)
        return false;
    auto set = collections.snapshot();
    const Data::Collection *c = set ? (*set)->find(collection) : nullptr;
    return c && c->name == caller.collection;
}

Response noToken()
{
    return Response::fromError(makeError(ErrorCode::Unauthenticated,
                                         QStringLiteral("The request requires a valid record authorization token.")));
}

} // namespace

AuthController::AuthController(Auth::Accounts &accounts, const Auth::Superusers &superusers,
                               const Auth::AppUsers &users, const Data::Collections &collections,
                               Auth::LoginThrottle &throttle, QList<QPair<QHostAddress, int>> trustedProxies,
                               QThreadPool *blockingPool)
    : m_accounts(accounts)
    , m_superusers(superusers)
    , m_users(users)
    , m_collections(collections)
    , m_throttle(throttle)
    , m_trustedProxies(std::move(trustedProxies))
    , m_pool(blockingPool)
{
}

void AuthController::registerRoutes(Router &router) const
{
    router.add(Method::Post, "/api/collections/{collection}/auth-with-password", Policy::open(),
               [this](const Request &q, const Responder &r) { authWithPassword(q, r); });
    router.add(Method::Post, "/api/collections/{collection}/auth-refresh", Policy::open(),
               [this](const Request &q, const Responder &r) { authRefresh(q, r); });
    router.add(Method::Post, "/api/collections/{collection}/auth-logout", Policy::open(),
               [this](const Request &q, const Responder &r) { authLogout(q, r); });
}

void AuthController::authWithPassword(const Request &request, const Responder &responder) const
{
    const QString collection = request.params.value(0);
    if (!isAuthCollection(m_collections, collection))
        return responder.send(missingCollection());
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return responder.send(Response::problem(
            400, QStringLiteral("The request body must be a JSON object: %1.").arg(parseError.errorString())));
    const QJsonObject body = doc.object();
    QJsonObject fields;
    const QJsonValue identity = body.value(QStringLiteral("identity"));
    const QJsonValue password = body.value(QStringLiteral("password"));
    if (!identity.isString() || identity.toString().trimmed().isEmpty())
        fields.insert(QStringLiteral("identity"),
                      fieldError("validation_required", QStringLiteral("Cannot be blank.")));
    if (!password.isString() || password.toString().isEmpty())
        fields.insert(QStringLiteral("password"),
                      fieldError("validation_required", QStringLiteral("Cannot be blank.")));
    if (!fields.isEmpty())
        return responder.send(Response::problem(400, QStringLiteral("Failed to authenticate."), fields));

    // Checked before the password is hashed: a refused attempt costs nothing. Unknown accounts are
    // throttled like real ones, so a 429 says nothing about whether the account exists. App users
    // are counted per collection: the same email may be an account in two of them.
    const QString account
        = isSuperuserCollection(collection) ? identity.toString() : collection.toLower() + u':' + identity.toString();
    const QHostAddress client = clientAddress(request, m_trustedProxies);
    const auto verdict = m_throttle.begin(account, client);
    if (!verdict.allowed) {
        const qint64 seconds = verdict.retryAfterSeconds();
        return responder.send(
            Response::problem(429,
                              QStringLiteral("Too many failed login attempts. Try again in %1 seconds.").arg(seconds))
                .withHeader("Retry-After", QByteArray::number(seconds)));
    }
    responder.runBlocking(
        m_pool,
        [this, collection, account, identity = identity.toString(), password = password.toString().toUtf8(), client] {
            auto grant = m_accounts.passwordLogin(collection, identity, password, client.toString());
            if (!grant)
                return Response::fromError(grant.error());
            m_throttle.succeeded(account, client);
            return Response::json(
                       QJsonObject {{QStringLiteral("token"), QString::fromLatin1(grant->accessToken)},
                                    {QStringLiteral("record"), grant->record},
                                    {QStringLiteral("refreshToken"), QString::fromLatin1(grant->refreshToken)}})
                .withHeader("Cache-Control", "no-store");
        });
}

void AuthController::authRefresh(const Request &request, const Responder &responder) const
{
    const QString collection = request.params.value(0);
    if (!isAuthCollection(m_collections, collection))
        return responder.send(missingCollection());
    const QByteArray authorization = request.header("authorization");
    QJsonObject answer;
    if (isSuperuserCollection(collection)) {
        auto user = m_superusers.fromToken(*request.reader, authorization);
        if (!user)
            return responder.send(Response::fromError(user.error()));
        answer = {{QStringLiteral("token"), QString::fromLatin1(m_superusers.issueToken(*user))},
                  {QStringLiteral("record"), user->toRecord()}};
    } else {
        auto set = m_collections.snapshot();
        if (!set)
            return responder.send(Response::fromError(set.error()));
        auto user = m_users.fromToken(*request.reader, **set, authorization);
        const Data::Collection *c = (*set)->find(collection);
        if (!user || !c || user->collectionId != c->id)
            return responder.send(noToken());
        answer = {{QStringLiteral("token"), QString::fromLatin1(m_users.issueToken(*user))},
                  {QStringLiteral("record"), user->record}};
    }
    responder.send(Response::json(answer).withHeader("Cache-Control", "no-store"));
}

void AuthController::authLogout(const Request &request, const Responder &responder) const
{
    const QString collection = request.params.value(0);
    if (!isAuthCollection(m_collections, collection))
        return responder.send(missingCollection());
    const Caller &caller = request.caller;
    if (!callerOf(caller, collection, m_collections) || caller.sessionId.isEmpty())
        return responder.send(noToken());
    responder.runBlocking(m_pool, [this, session = caller.sessionId, actor = auditActor(request, m_trustedProxies)] {
        auto s = m_accounts.logout(session, QStringLiteral("logout"), actor);
        return s ? Response::empty(204) : Response::fromError(s.error());
    });
}

} // namespace Outpost::Http
