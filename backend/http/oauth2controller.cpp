#include "oauth2controller.h"

#include <QJsonDocument>
#include <QThreadPool>

#include "../auth/accounts.h"
#include "../auth/apikeys.h"
#include "../auth/appusers.h"
#include "../auth/clienttokens.h"
#include "../auth/sessions.h"
#include "../store/auditlog.h"
#include "clientaddress.h"

namespace Outpost::Http {

namespace {

Response oauthError(int status, const char *error, const QString &description)
{
    Response r = Response::json(QJsonObject {{QStringLiteral("error"), QString::fromLatin1(error)},
                                             {QStringLiteral("error_description"), description}},
                                status);
    r.withHeader("Cache-Control", "no-store").withHeader("Pragma", "no-cache");
    return r;
}

Response oauthAnswer(const QJsonObject &body)
{
    Response r = Response::json(body);
    r.withHeader("Cache-Control", "no-store").withHeader("Pragma", "no-cache");
    return r;
}

// The body's parameters: a form (RFC 6749 §4.1.3 and Appendix B) or a flat JSON object of strings.
std::optional<QUrlQuery> parameters(const Request &request)
{
    const QByteArray type = request.header("content-type").trimmed().toLower();
    if (type.startsWith("application/json")) {
        const QJsonDocument doc = QJsonDocument::fromJson(request.body);
        if (!doc.isObject())
            return std::nullopt;
        QUrlQuery query;
        const QJsonObject object = doc.object();
        for (auto it = object.begin(); it != object.end(); ++it)
            if (it.value().isString())
                query.addQueryItem(it.key(), QString::fromUtf8(QUrl::toPercentEncoding(it.value().toString())));
        return query;
    }
    if (!type.isEmpty() && !type.startsWith("application/x-www-form-urlencoded"))
        return std::nullopt;
    // '+' is a space in forms; QUrlQuery would keep it.
    return QUrlQuery(QString::fromUtf8(QByteArray(request.body).replace('+', "%20")));
}

QString param(const QUrlQuery &form, const char *name)
{
    return form.queryItemValue(QString::fromLatin1(name), QUrl::FullyDecoded);
}

} // namespace

OAuth2Controller::OAuth2Controller(Auth::Accounts &accounts, Auth::ApiKeys &keys,
                                   const Auth::ClientTokens &clientTokens,
                                   QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *blockingPool)
    : m_accounts(accounts)
    , m_keys(keys)
    , m_clientTokens(clientTokens)
    , m_trustedProxies(std::move(trustedProxies))
    , m_pool(blockingPool)
{
}

void OAuth2Controller::registerRoutes(Router &router) const
{
    router.add(Method::Post, "/api/oauth2/token", Policy::open(),
               [this](const Request &q, const Responder &r) { token(q, r); });
    router.add(Method::Post, "/api/oauth2/revoke", Policy::open(),
               [this](const Request &q, const Responder &r) { revoke(q, r); });
}

void OAuth2Controller::token(const Request &request, const Responder &responder) const
{
    const auto form = parameters(request);
    if (!form)
        return responder.send(oauthError(400, "invalid_request",
                                         QStringLiteral("Send the parameters as application/x-www-form-urlencoded.")));
    const QString grant = param(*form, "grant_type");
    if (grant == u"client_credentials")
        return clientCredentials(request, *form, responder);
    if (grant != u"refresh_token")
        return responder.send(oauthError(400, grant.isEmpty() ? "invalid_request" : "unsupported_grant_type",
                                         grant.isEmpty() ? QStringLiteral("grant_type is missing.")
                                                         : QStringLiteral("Use client_credentials or refresh_token.")));
    const QByteArray refreshToken = param(*form, "refresh_token").toUtf8();
    if (refreshToken.isEmpty())
        return responder.send(oauthError(400, "invalid_request", QStringLiteral("refresh_token is missing.")));
    responder.runBlocking(m_pool, [this, refreshToken, client = clientAddress(request, m_trustedProxies)] {
        auto grant = m_accounts.refresh(refreshToken, client.toString());
        if (!grant) {
            if (grant.error().details.value(u"error").toString() == u"invalid_grant")
                return oauthError(400, "invalid_grant", grant.error().message);
            return Response::fromError(grant.error());
        }
        return oauthAnswer(QJsonObject {{QStringLiteral("access_token"), QString::fromLatin1(grant->accessToken)},
                                        {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                                        {QStringLiteral("expires_in"), Auth::Sessions::kAccessTtlSeconds},
                                        {QStringLiteral("refresh_token"), QString::fromLatin1(grant->refreshToken)},
                                        {QStringLiteral("record"), grant->record}});
    });
}

void OAuth2Controller::clientCredentials(const Request &request, const QUrlQuery &form,
                                         const Responder &responder) const
{
    // RFC 6749 §2.3.1: HTTP Basic with form-encoded id and secret, or both in the body.
    QString clientId = param(form, "client_id");
    QByteArray secret = param(form, "client_secret").toUtf8();
    const QByteArray authorization = request.header("authorization").trimmed();
    const bool basic = authorization.size() > 6 && authorization.first(6).compare("basic ", Qt::CaseInsensitive) == 0;
    if (basic) {
        const QByteArray pair = QByteArray::fromBase64(authorization.sliced(6).trimmed());
        const qsizetype colon = pair.indexOf(':');
        clientId = QUrl::fromPercentEncoding(pair.first(qMax<qsizetype>(colon, 0)).replace('+', ' '));
        secret = QUrl::fromPercentEncoding(pair.sliced(colon + 1).replace('+', ' ')).toUtf8();
    }
    auto invalidClient = [basic](const QString &why) {
        Response r = oauthError(401, "invalid_client", why);
        if (basic)
            r.withHeader("WWW-Authenticate", "Basic realm=\"outpost\"");
        return r;
    };
    if (clientId.isEmpty() || secret.isEmpty())
        return responder.send(invalidClient(QStringLiteral("Client authentication is missing: send the API key's id "
                                                           "and the key (HTTP Basic or client_id/client_secret).")));
    auto outcome = m_keys.authenticate(secret, request.peer);
    const auto *key = std::get_if<Auth::ApiKey>(&outcome);
    if (!key || key->id != clientId)
        return responder.send(invalidClient(QStringLiteral("Client authentication failed.")));
    auto issued = m_clientTokens.issue(*key, param(form, "scope").split(u' ', Qt::SkipEmptyParts));
    if (!issued)
        return responder.send(oauthError(400, "invalid_scope", issued.error().message));
    responder.send(oauthAnswer(QJsonObject {{QStringLiteral("access_token"), QString::fromLatin1(issued->token)},
                                            {QStringLiteral("token_type"), QStringLiteral("Bearer")},
                                            {QStringLiteral("expires_in"), issued->expiresIn},
                                            {QStringLiteral("scope"), issued->scopes.join(u' ')}}));
}

void OAuth2Controller::revoke(const Request &request, const Responder &responder) const
{
    const auto form = parameters(request);
    if (!form)
        return responder.send(oauthError(400, "invalid_request",
                                         QStringLiteral("Send the parameters as application/x-www-form-urlencoded.")));
    const QByteArray token = param(*form, "token").toUtf8();
    if (token.isEmpty())
        return responder.send(oauthError(400, "invalid_request", QStringLiteral("token is missing.")));
    // An access token: the gate has verified it only if it came as the Authorization header; a
    // token in the body is revoked through the session it names only when it verifies.
    const Caller &caller = request.caller;
    const bool ownAccessToken = Auth::bearerToken(request.header("authorization")) == QByteArrayView(token);
    const QString session = ownAccessToken ? caller.sessionId : QString();
    responder.runBlocking(m_pool, [this, token, session, actor = auditActor(request, m_trustedProxies)] {
        Status s = Auth::Sessions::looksLikeRefreshToken(token) ? m_accounts.logoutByRefreshToken(token, actor)
            : session.isEmpty()                                 ? Status()
                                : m_accounts.logout(session, QStringLiteral("revoked"), actor);
        return s ? oauthAnswer({}) : Response::fromError(s.error());
    });
}

} // namespace Outpost::Http
