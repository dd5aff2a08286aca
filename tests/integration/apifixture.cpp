#include "apifixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>
#include <algorithm>

namespace Outpost::Testing {

QJsonObject object(const char *json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(json), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        qFatal("invalid JSON in the test: %s", json);
    return doc.object();
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray summary(const HttpResponse &r)
{
    return QByteArray::number(r.status) + ' ' + r.body.left(800);
}

bool isProblem(const HttpResponse &r, int status)
{
    const QJsonObject body = r.json();
    return r.status == status && r.header("Content-Type") == "application/problem+json"
        && body.value(QStringLiteral("status")).toInt() == status
        && !body.value(QStringLiteral("title")).toString().isEmpty()
        && !body.value(QStringLiteral("detail")).toString().isEmpty() && body.value(QStringLiteral("data")).isObject();
}

QJsonObject bodyIfOk(const HttpResponse &r, const char *what)
{
    if (r.status != 200) {
        qWarning("%s failed: %s", what, summary(r).constData());
        return {};
    }
    return r.json();
}

QString issueKey(const ApiClient &admin, const QStringList &scopes, QString *id)
{
    const HttpResponse r = admin.post("/api/keys",
                                      QJsonObject {{QStringLiteral("name"), scopes.join(u' ')},
                                                   {QStringLiteral("scopes"), QJsonArray::fromStringList(scopes)}});
    if (r.status != 201) {
        qWarning("key creation failed: %s", summary(r).constData());
        return {};
    }
    if (id)
        *id = r.json().value(u"id").toString();
    return r.json().value(u"key").toString();
}

QByteArray encoded(const QString &text)
{
    return QUrl::toPercentEncoding(text);
}

QByteArray collectionPath(const QString &idOrName)
{
    return "/api/collections/" + encoded(idOrName);
}

QByteArray recordsPath(const QString &collection, const QString &id)
{
    QByteArray path = collectionPath(collection) + "/records";
    if (!id.isEmpty())
        path += '/' + encoded(id);
    return path;
}

ApiClient::ApiClient(TestServer &server, QByteArray authorization)
    : m_server(server)
    , m_authorization(std::move(authorization))
{
}

HttpResponse ApiClient::send(QByteArrayView method, const QByteArray &target, const QByteArray &body,
                             HeaderList headers) const
{
    if (!m_authorization.isEmpty())
        headers.append({"Authorization", m_authorization});
    const bool typed = std::any_of(headers.cbegin(), headers.cend(), [](const auto &h) {
        return h.first.compare("Content-Type", Qt::CaseInsensitive) == 0;
    });
    if (!body.isEmpty() && !typed)
        headers.append({QByteArray("Content-Type"), QByteArray("application/json")});
    return m_server.roundTrip(httpRequest(method, target, body, headers), method == "HEAD");
}

HttpResponse ApiClient::batch(const QJsonArray &requests) const
{
    return post("/api/batch", QJsonObject {{QStringLiteral("requests"), requests}});
}

HttpResponse ApiClient::list(const QString &collection, const QByteArray &query) const
{
    return get(recordsPath(collection) + (query.isEmpty() ? QByteArray() : '?' + query));
}

ApiFixture::ApiFixture(int threads, RateRules rateLimits)
    : m_server(TestServer::Options {threads, &m_clock, {}, rateLimits})
    , m_guest(m_server)
{
}

bool ApiFixture::start()
{
    if (!m_server.start() || !m_server.createSuperuser(kSuperuserEmail, kSuperuserPassword.toUtf8())) {
        m_error = m_server.errorString();
        return false;
    }
    const QByteArray token = m_server.login(kSuperuserEmail, kSuperuserPassword);
    if (token.isEmpty()) {
        m_error = QStringLiteral("the superuser cannot log in");
        return false;
    }
    m_admin.emplace(m_server, "Bearer " + token);
    return true;
}

} // namespace Outpost::Testing
