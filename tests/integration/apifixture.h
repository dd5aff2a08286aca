#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <optional>

#include "core/clock.h"
#include "testserver.h"

// Shared by the tests of the JSON API (PocketBase's /api/collections routes): a fresh server with a
// logged-in superuser, requests with or without its token, and checks on what comes back.
namespace Outpost::Testing {

inline const QString kSuperuserEmail = QStringLiteral("root@example.com");
inline const QString kSuperuserPassword = QStringLiteral("correct horse battery");

// A JSON object written in the test as text; a typo in it is a bug in the test (qFatal).
QJsonObject object(const char *json);
QByteArray compact(const QJsonObject &o);
// "400 {body}": what a failed status check prints.
QByteArray summary(const HttpResponse &r);
// RFC 9457 with PocketBase's members: every error this API sends.
bool isProblem(const HttpResponse &r, int status);
// The body of a 200 response; otherwise {} and a warning that `what` failed (with the response).
QJsonObject bodyIfOk(const HttpResponse &r, const char *what);

QByteArray encoded(const QString &text);
// /api/collections/{idOrName}, percent-encoded.
QByteArray collectionPath(const QString &idOrName);
// /api/collections/{collection}/records, and /{id} when `id` is given.
QByteArray recordsPath(const QString &collection, const QString &id = {});

// Requests with or without an Authorization header, each on a new connection. A non-empty body is
// sent as application/json unless `headers` name another Content-Type. The server must outlive it.
class ApiClient
{
public:
    explicit ApiClient(TestServer &server, QByteArray authorization = {});

    HttpResponse send(QByteArrayView method, const QByteArray &target, const QByteArray &body = {},
                      HeaderList headers = {}) const;
    HttpResponse get(const QByteArray &target) const { return send("GET", target); }
    HttpResponse post(const QByteArray &target, const QJsonObject &body) const
    {
        return send("POST", target, compact(body));
    }
    HttpResponse patch(const QByteArray &target, const QJsonObject &body) const
    {
        return send("PATCH", target, compact(body));
    }
    HttpResponse remove(const QByteArray &target) const { return send("DELETE", target); }
    // POST /api/batch with these requests.
    HttpResponse batch(const QJsonArray &requests) const;
    // GET .../records?query
    HttpResponse list(const QString &collection, const QByteArray &query = {}) const;

private:
    TestServer &m_server;
    QByteArray m_authorization;
};

// A new API key with `scopes`, named after them, created through `admin` (POST /api/keys): the
// secret, or empty (with a warning) when the server refused; the key's id in *id when given.
QString issueKey(const ApiClient &admin, const QStringList &scopes, QString *id = nullptr);

// A TestServer on a ManualClock with one superuser (kSuperuserEmail) logged in over HTTP. Make a
// fresh one for every test; create, start and destroy it on the test thread.
class ApiFixture
{
public:
    // `threads` network threads; rate limits off unless given.
    explicit ApiFixture(int threads = 2, RateRules rateLimits = RateRules::off());

    // False (with errorString()) when the server does not start or the superuser cannot log in.
    bool start();
    QString errorString() const { return m_error; }

    ManualClock &clock() { return m_clock; }
    TestServer &server() { return m_server; }
    // With the superuser's token; only after start() succeeded.
    const ApiClient &admin() const { return *m_admin; }
    // Without a token.
    const ApiClient &guest() const { return m_guest; }

private:
    ManualClock m_clock;
    TestServer m_server;
    std::optional<ApiClient> m_admin;
    ApiClient m_guest;
    QString m_error;
};

} // namespace Outpost::Testing
