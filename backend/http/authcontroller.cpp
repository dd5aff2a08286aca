#include "authcontroller.h"

#include <QJsonDocument>
#include <QThreadPool>

#include "../auth/loginthrottle.h"
#include "../auth/superusers.h"
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

Response authResponse(const Auth::Superusers &superusers, const Auth::Superuser &user)
{
    return Response::json(QJsonObject {{QStringLiteral("token"), QString::fromLatin1(superusers.issueToken(user))},
                                       {QStringLiteral("record"), user.toRecord()}});
}

} // namespace

AuthController::AuthController(Auth::Superusers &superusers, Auth::LoginThrottle &throttle,
                               QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *blockingPool)
    : m_superusers(superusers)
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
}

void AuthController::authWithPassword(const Request &request, const Responder &responder) const
{
    if (!isSuperuserCollection(request.params.value(0)))
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
    // throttled like real ones, so a 429 says nothing about whether the account exists.
    const QHostAddress client = clientAddress(request, m_trustedProxies);
    const auto verdict = m_throttle.begin(identity.toString(), client);
    if (!verdict.allowed) {
        const qint64 seconds = verdict.retryAfterSeconds();
        return responder.send(
            Response::problem(429,
                              QStringLiteral("Too many failed login attempts. Try again in %1 seconds.").arg(seconds))
                .withHeader("Retry-After", QByteArray::number(seconds)));
    }
    responder.runBlocking(m_pool,
                          [this, identity = identity.toString(), password = password.toString().toUtf8(), client] {
                              auto user = m_superusers.login(identity, password, client.toString());
                              if (!user)
                                  return Response::fromError(user.error());
                              m_throttle.succeeded(identity, client);
                              return authResponse(m_superusers, *user);
                          });
}

void AuthController::authRefresh(const Request &request, const Responder &responder) const
{
    if (!isSuperuserCollection(request.params.value(0)))
        return responder.send(missingCollection());
    auto user = m_superusers.fromToken(*request.reader, request.header("authorization"));
    if (!user)
        return responder.send(Response::fromError(user.error()));
    responder.send(authResponse(m_superusers, *user));
}

} // namespace Outpost::Http
