// Input limits and HTTP hygiene (issue 5): per-route body limits, connection and in-flight limits
// per client, CORS, the security headers on every response, and the Host check against DNS
// rebinding. Real servers on 127.0.0.1, raw HTTP.
#include <QJsonArray>
#include <QLoggingCategory>
#include <QThreadPool>
#include <QtTest>
#include <csignal>
#include <memory>
#include <mutex>

#include "auth/superusers.h"
#include "core/config.h"
#include "data/collections.h"
#include "http/bodylimits.h"
#include "http/httpserver.h"
#include "http/router.h"
#include "store/store.h"
#include "testserver.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

constexpr char kLogin[] = "/api/collections/_superusers/auth-with-password";
constexpr char kOrigin[] = "https://app.example.com";
constexpr char kCsp[] = "default-src 'none'; frame-ancestors 'none'";

// An Outpost::Server with a Config of the test's choosing (TestServer fixes its own).
class Instance
{
public:
    bool start(Config config, std::optional<Http::Limits> limits = {})
    {
        config.dataDir = m_dir.path();
        config.listenHost = QHostAddress(QHostAddress::LocalHost);
        config.listenPort = 0;
        config.threads = 2;
        config.rateLimits = RateRules::off(); // not what these tests are about
        m_server = std::make_unique<Server>(config);
        if (limits)
            m_server->setLimits(*limits);
        if (auto s = m_server->start(); !s) {
            qWarning("%s", qPrintable(s.error().message));
            return false;
        }
        return true;
    }
    quint16 port() const { return m_server->port(); }
    Server &server() { return *m_server; }
    HttpResponse roundTrip(const QByteArray &raw, bool headRequest = false)
    {
        RawClient client;
        if (!client.connectTo(port()) || !client.send(raw))
            return {};
        return client.readResponse(headRequest);
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<Server> m_server;
};

QByteArray withOrigin(QByteArrayView method, QByteArrayView target, QByteArrayView origin, HeaderList more = {})
{
    more.prepend({"Origin", origin.toByteArray()});
    return httpRequest(method, target, {}, more);
}

// Every response carries the fixed security headers exactly once; HSTS only over TLS.
bool hasSecurityHeaders(const HttpResponse &r)
{
    const bool ok = r.headerCount("X-Content-Type-Options") == 1 && r.header("X-Content-Type-Options") == "nosniff"
        && r.headerCount("Referrer-Policy") == 1 && r.header("Referrer-Policy") == "no-referrer"
        && r.headerCount("X-Frame-Options") == 1 && r.header("X-Frame-Options") == "DENY"
        && r.headerCount("Content-Security-Policy") == 1 && r.header("Content-Security-Policy") == kCsp
        && !r.hasHeader("Strict-Transport-Security");
    if (!ok)
        qWarning() << "missing security headers:" << r.status << r.headers;
    return ok;
}

bool isProblem(const HttpResponse &r, int status)
{
    return r.status == status && r.header("Content-Type") == "application/problem+json"
        && r.json().value(QStringLiteral("status")).toInt() == status;
}

} // namespace

class TestHygiene : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void configDefaultsAreTheGuardDefaults();
    void authBodyOverItsLimitIsRefusedBeforeTheBody();
    void importTakesMoreThanTheDefaultLimit();
    void unknownRouteInBodyLimitsFailsTheStart();
    void connectionsPerClientAreLimited();
    void connectionsInAllAreLimited();
    void trustedProxyIsExemptFromClientLimits();
    void requestsInFlightPerClientAreLimited();
    void securityHeadersOnEveryResponse();
    void corsPreflight_data();
    void corsPreflight();
    void corsActualRequests();
    void corsAnyOrigin();
    void corsOffByDefault();
    void hostCheck_data();
    void hostCheck();
    void allowedHostsAddNames();

private:
    // A bare HttpServer over the test's own routes: /ok, /hold (answered when the test says so) and
    // /stream (a streamed response). `store` lends the readers.
    bool startCustom(const Http::Limits &limits, QList<QPair<QHostAddress, int>> trustedProxies = {});
    int heldCount();
    void releaseHeld();

    std::unique_ptr<Instance> m_instance;
    std::unique_ptr<TestServer> m_storeOwner;
    std::unique_ptr<Http::Router> m_router;
    std::unique_ptr<Http::HttpServer> m_http;
    QThreadPool m_streamPool;
    std::mutex m_heldMutex;
    QList<Http::Responder> m_held;
};

void TestHygiene::initTestCase()
{
    ::signal(SIGPIPE, SIG_IGN);
    QLoggingCategory::setFilterRules(QStringLiteral("outpost.http.guard.debug=false"));
    m_streamPool.setMaxThreadCount(2);
}

void TestHygiene::cleanup()
{
    releaseHeld();
    m_http.reset();
    m_router.reset();
    m_storeOwner.reset();
    m_instance.reset();
}

bool TestHygiene::startCustom(const Http::Limits &limits, QList<QPair<QHostAddress, int>> trustedProxies)
{
    m_storeOwner = std::make_unique<TestServer>();
    if (!m_storeOwner->start())
        return false;
    m_router = std::make_unique<Http::Router>();
    m_router->add(Http::Method::Get, "/ok", Http::Policy::open(),
                  [](const Http::Request &, const Http::Responder &r) { r.send(Http::Response::json("{}")); });
    m_router->add(Http::Method::Get, "/hold", Http::Policy::open(),
                  [this](const Http::Request &, const Http::Responder &r) {
                      std::lock_guard lock(m_heldMutex);
                      m_held.append(r);
                  });
    m_router->add(Http::Method::Get, "/stream", Http::Policy::open(),
                  [this](const Http::Request &, const Http::Responder &r) {
                      Http::Response head;
                      head.contentType = "text/plain";
                      r.stream(&m_streamPool, head, [](Http::BodyWriter &w) {
                          w.write("streamed ");
                          w.write("body");
                          return Status();
                      });
                  });
    Http::HttpServer::Options options;
    options.limits = limits;
    options.trustedProxies = std::move(trustedProxies);
    m_http = std::make_unique<Http::HttpServer>(*m_router, Http::ResponseObserver(), m_storeOwner->server().store(),
                                                options);
    if (auto s = m_http->start(); !s) {
        qWarning("%s", qPrintable(s.error().message));
        return false;
    }
    return true;
}

int TestHygiene::heldCount()
{
    std::lock_guard lock(m_heldMutex);
    return int(m_held.size());
}

void TestHygiene::releaseHeld()
{
    std::lock_guard lock(m_heldMutex);
    for (const Http::Responder &r : std::as_const(m_held))
        r.post(Http::Response::json(QByteArray(R"({"released":true})")));
    m_held.clear();
}

void TestHygiene::configDefaultsAreTheGuardDefaults()
{
    // Config (core) cannot use Http::Limits; the two sets of defaults must not drift apart.
    const Config config;
    const Http::Limits limits;
    QCOMPARE(config.maxBodyBytes, limits.maxBodyBytes);
    QCOMPARE(config.maxImportBytes, limits.maxImportBytes);
    QCOMPARE(config.maxAuthBodyBytes, limits.maxAuthBodyBytes);
    QCOMPARE(config.headerTimeoutMs, limits.headerTimeoutMs);
    QCOMPARE(config.bodyTimeoutMs, limits.bodyTimeoutMs);
    QCOMPARE(config.maxConnections, limits.maxConnections);
    QCOMPARE(config.maxConnectionsPerClient, limits.maxConnectionsPerClient);
    QCOMPARE(config.maxInflightPerClient, limits.maxInflightPerClient);
}

void TestHygiene::authBodyOverItsLimitIsRefusedBeforeTheBody()
{
    Http::Limits limits;
    limits.maxAuthBodyBytes = 4 * 1024;
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(Config(), limits));
    const QByteArray head = QByteArray("POST ") + kLogin
        + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n";

    // With Expect: 100-continue the answer is 413 instead of 100: the client never sends the body.
    RawClient expecting;
    QVERIFY(expecting.connectTo(m_instance->port()));
    QVERIFY(expecting.send(head + "Expect: 100-continue\r\n\r\n"));
    const HttpResponse refused = expecting.readResponse();
    QVERIFY2(isProblem(refused, 413), refused.body.constData());
    QVERIFY(refused.json().value(QStringLiteral("detail")).toString().contains(u"4096"));
    QVERIFY(expecting.waitForClosed(3000));

    // Without it, the 413 comes while the body is still unsent.
    RawClient plain;
    QVERIFY(plain.connectTo(m_instance->port()));
    QVERIFY(plain.send(head + "\r\n"));
    QVERIFY(isProblem(plain.readResponse(), 413));

    // A chunked body is held to the route's limit as well.
    const QByteArray chunked
        = QByteArray("POST ") + kLogin + " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n1400\r\n";
    QVERIFY(isProblem(m_instance->roundTrip(chunked), 413));

    // Within the limit the login runs (and fails on its merits); other routes keep the 16 MiB default.
    const QByteArray login = R"({"identity":"nobody@example.com","password":"wrong password"})";
    QCOMPARE(m_instance->roundTrip(httpRequest("POST", kLogin, login, {{"Content-Type", "application/json"}})).status,
             400);
    const QByteArray big(64 * 1024, ' ');
    const HttpResponse batch = m_instance->roundTrip(httpRequest("POST", "/api/batch", big));
    QCOMPARE(batch.status, 400); // read and judged by the handler, not refused by the guard
}

void TestHygiene::importTakesMoreThanTheDefaultLimit()
{
    Http::Limits limits;
    limits.maxBodyBytes = 64 * 1024;
    limits.maxImportBytes = 1024 * 1024;
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(Config(), limits));
    Server &server = m_instance->server();
    auto created = server.collections().create(
        QJsonObject {{QStringLiteral("name"), QStringLiteral("notes")},
                     {QStringLiteral("fields"),
                      QJsonArray {QJsonObject {{QStringLiteral("name"), QStringLiteral("text")},
                                               {QStringLiteral("type"), QStringLiteral("text")}}}}});
    QVERIFY(created.ok());
    auto user = server.superusers().create(QStringLiteral("root@example.com"), "correct horse battery");
    QVERIFY(user.ok());
    QVERIFY(server.superusers().startSession(*user, QStringLiteral("127.0.0.1")).ok());
    const HeaderList auth {{"Authorization", "Bearer " + server.superusers().issueToken(*user)},
                           {"Content-Type", "text/csv"}};

    QByteArray csv("text\n");
    for (int i = 0; i < 200; ++i)
        csv += QByteArray(1000, char('a' + i % 26)) + '\n';
    QVERIFY(csv.size() > limits.maxBodyBytes * 3);
    const HttpResponse imported
        = m_instance->roundTrip(httpRequest("POST", "/api/collections/notes/import", csv, auth));
    QVERIFY2(imported.status == 200, imported.body.constData());
    QCOMPARE(imported.json().value(QStringLiteral("imported")).toInt(), 200);

    // The same body to an ordinary route is over the default, and so is an import over its own.
    const QByteArray json = R"({"text":")" + QByteArray(100 * 1024, 'x') + "\"}";
    const HttpResponse record
        = m_instance->roundTrip(httpRequest("POST", "/api/collections/notes/records", json, auth));
    QVERIFY(isProblem(record, 413));
    const QByteArray tooBig = "POST /api/collections/notes/import HTTP/1.1\r\nHost: localhost\r\n"
                              "Authorization: Bearer x\r\nContent-Type: text/csv\r\nContent-Length: 2000000\r\n\r\n";
    QVERIFY(isProblem(m_instance->roundTrip(tooBig), 413));
    // Without a credential, an import gets only the default limit: nobody anonymous makes the
    // server buffer the larger one.
    const QByteArray anonymous = "POST /api/collections/notes/import HTTP/1.1\r\nHost: localhost\r\n"
                                 "Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\n";
    QVERIFY(isProblem(m_instance->roundTrip(anonymous), 413));
}

void TestHygiene::unknownRouteInBodyLimitsFailsTheStart()
{
    m_storeOwner = std::make_unique<TestServer>();
    QVERIFY(m_storeOwner->start());
    Http::Router router;
    router.add(Http::Method::Post, "/a", Http::Policy::open(), [](const Http::Request &, const Http::Responder &) {});
    Http::HttpServer::Options options;
    options.routeBodyLimits = {{Http::Method::Post, "/renamed", 1024}};
    Http::HttpServer http(router, Http::ResponseObserver(), m_storeOwner->server().store(), options);
    const Status s = http.start();
    QVERIFY(!s.ok());
    QVERIFY2(s.error().message.contains(u"/renamed"), qPrintable(s.error().message));
}

void TestHygiene::connectionsPerClientAreLimited()
{
    Http::Limits limits;
    limits.maxConnectionsPerClient = 3;
    QVERIFY(startCustom(limits));
    std::vector<std::unique_ptr<RawClient>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<RawClient>());
        QVERIFY(open.back()->connectTo(m_http->port()));
        QVERIFY(open.back()->send(httpRequest("GET", "/ok")));
        QCOMPARE(open.back()->readResponse().status, 200); // accepted and counted
    }
    QCOMPARE(m_http->connections(), 3);

    RawClient fourth;
    QVERIFY(fourth.connectTo(m_http->port()));
    QVERIFY(fourth.send(httpRequest("GET", "/ok")));
    const HttpResponse refused = fourth.readResponse();
    QVERIFY2(isProblem(refused, 429), refused.body.constData());
    QCOMPARE(refused.header("Retry-After"), QByteArray("1"));
    QCOMPARE(refused.header("Connection"), QByteArray("close"));
    QVERIFY(hasSecurityHeaders(refused));
    QVERIFY(fourth.waitForClosed(3000));

    // One leaves; a newcomer gets in. Once all have left, nothing is counted any more.
    open.front()->socket().abort();
    open.erase(open.begin());
    QTRY_COMPARE(m_http->connections(), 2);
    RawClient newcomer;
    QVERIFY(newcomer.connectTo(m_http->port()));
    QVERIFY(newcomer.send(httpRequest("GET", "/ok")));
    QCOMPARE(newcomer.readResponse().status, 200);
    newcomer.socket().abort();
    open.clear();
    QTRY_COMPARE(m_http->connections(), 0);
}

void TestHygiene::connectionsInAllAreLimited()
{
    Http::Limits limits;
    limits.maxConnections = 2;
    QVERIFY(startCustom(limits));
    RawClient a;
    RawClient b;
    for (RawClient *c : {&a, &b}) {
        QVERIFY(c->connectTo(m_http->port()));
        QVERIFY(c->send(httpRequest("GET", "/ok")));
        QCOMPARE(c->readResponse().status, 200);
    }
    RawClient third;
    QVERIFY(third.connectTo(m_http->port()));
    const HttpResponse busy = third.readResponse(); // answered at once, before any request
    QVERIFY2(isProblem(busy, 503), busy.body.constData());
    QCOMPARE(busy.header("Retry-After"), QByteArray("1"));
    QVERIFY(hasSecurityHeaders(busy));
    QVERIFY(third.waitForClosed(3000));
    // The refused connection lingers briefly; once it has gone, there is room for one that waits.
    a.socket().abort();
    QTRY_COMPARE(m_http->connections(), 1);
    RawClient again;
    QVERIFY(again.connectTo(m_http->port()));
    QVERIFY(again.send(httpRequest("GET", "/ok")));
    QCOMPARE(again.readResponse().status, 200);
}

void TestHygiene::trustedProxyIsExemptFromClientLimits()
{
    Http::Limits limits;
    limits.maxConnectionsPerClient = 1;
    limits.maxInflightPerClient = 1;
    QVERIFY(startCustom(limits, {QHostAddress::parseSubnet(QStringLiteral("127.0.0.0/8"))}));
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<RawClient>());
        QVERIFY(clients.back()->connectTo(m_http->port()));
        QVERIFY(clients.back()->send(httpRequest("GET", "/hold")));
        QTRY_COMPARE(heldCount(), i + 1); // each one dispatched: none refused for the address
    }
    QCOMPARE(m_http->connections(), 3);
    releaseHeld();
    for (auto &c : clients)
        QCOMPARE(c->readResponse().status, 200);
}

void TestHygiene::requestsInFlightPerClientAreLimited()
{
    Http::Limits limits;
    limits.maxInflightPerClient = 2;
    QVERIFY(startCustom(limits));
    RawClient first;
    RawClient second;
    RawClient third;
    for (RawClient *c : {&first, &second, &third})
        QVERIFY(c->connectTo(m_http->port()));
    QVERIFY(first.send(httpRequest("GET", "/hold")));
    QTRY_COMPARE(heldCount(), 1);
    QVERIFY(second.send(httpRequest("GET", "/hold")));
    QTRY_COMPARE(heldCount(), 2);
    QCOMPARE(m_http->inflight(), 2);

    // The third is refused without reaching the handler, and its connection stays usable.
    QVERIFY(third.send(httpRequest("GET", "/hold")));
    const HttpResponse busy = third.readResponse();
    QVERIFY2(isProblem(busy, 429), busy.body.constData());
    QCOMPARE(busy.header("Retry-After"), QByteArray("1"));
    QVERIFY(!busy.hasHeader("Connection"));
    QVERIFY(hasSecurityHeaders(busy));
    QCOMPARE(heldCount(), 2);

    releaseHeld();
    QCOMPARE(first.readResponse().status, 200);
    QCOMPARE(second.readResponse().status, 200);
    QTRY_COMPARE(m_http->inflight(), 0);
    QVERIFY(third.send(httpRequest("GET", "/ok")));
    QCOMPARE(third.readResponse().status, 200);
}

void TestHygiene::securityHeadersOnEveryResponse()
{
    QVERIFY(startCustom(Http::Limits()));
    const quint16 port = m_http->port();
    const auto roundTrip = [port](const QByteArray &raw, bool head = false) {
        RawClient c;
        return c.connectTo(port) && c.send(raw) ? c.readResponse(head) : HttpResponse();
    };
    const HttpResponse ok = roundTrip(httpRequest("GET", "/ok"));
    QCOMPARE(ok.status, 200);
    QVERIFY(hasSecurityHeaders(ok));
    const HttpResponse head = roundTrip(httpRequest("HEAD", "/ok"), true);
    QCOMPARE(head.status, 200);
    QVERIFY(hasSecurityHeaders(head));
    const HttpResponse missing = roundTrip(httpRequest("GET", "/nowhere"));
    QCOMPARE(missing.status, 404);
    QVERIFY(hasSecurityHeaders(missing));
    const HttpResponse wrongMethod = roundTrip(httpRequest("DELETE", "/ok"));
    QCOMPARE(wrongMethod.status, 405);
    QVERIFY(hasSecurityHeaders(wrongMethod));
    const HttpResponse options = roundTrip(httpRequest("OPTIONS", "/ok"));
    QCOMPARE(options.status, 204);
    QVERIFY(hasSecurityHeaders(options));
    // Refused by the guard before routing.
    const HttpResponse garbage = roundTrip("GARBAGE\r\n\r\n");
    QCOMPARE(garbage.status, 400);
    QVERIFY(hasSecurityHeaders(garbage));
    const HttpResponse tooLarge
        = roundTrip("POST /ok HTTP/1.1\r\nHost: localhost\r\nContent-Length: 999999999\r\n\r\n");
    QCOMPARE(tooLarge.status, 413);
    QVERIFY(hasSecurityHeaders(tooLarge));
    const HttpResponse badHost = roundTrip("GET /ok HTTP/1.1\r\nHost: evil.example\r\n\r\n");
    QCOMPARE(badHost.status, 403);
    QVERIFY(hasSecurityHeaders(badHost));
    // A streamed response (HTTP/1.0: delimited by the close, so that the raw client can read it).
    const HttpResponse streamed = roundTrip("GET /stream HTTP/1.0\r\n\r\n");
    QCOMPARE(streamed.status, 200);
    QCOMPARE(streamed.body, QByteArray("streamed body"));
    QVERIFY(hasSecurityHeaders(streamed));
}

void TestHygiene::corsPreflight_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("headers"); // Access-Control-Request-Headers; empty: none
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("allowMethods");
    QTest::addColumn<QByteArray>("allowHeaders");

    QTest::newRow("GET with a token") << QByteArray("/api/health") << QByteArray(kOrigin) << QByteArray("GET")
                                      << QByteArray("Authorization") << 204 << QByteArray("GET, HEAD, OPTIONS")
                                      << QByteArray("authorization");
    QTest::newRow("POST JSON with a key")
        << QByteArray("/api/collections/things/records") << QByteArray("http://localhost:5173") << QByteArray("POST")
        << QByteArray("content-type,X-API-Key, x-request-id") << 204 << QByteArray("GET, HEAD, POST, OPTIONS")
        << QByteArray("content-type, x-api-key, x-request-id");
    QTest::newRow("no request headers") << QByteArray("/api/health") << QByteArray(kOrigin) << QByteArray("HEAD")
                                        << QByteArray() << 204 << QByteArray("GET, HEAD, OPTIONS") << QByteArray();
    QTest::newRow("origin not allowed") << QByteArray("/api/health") << QByteArray("https://evil.example")
                                        << QByteArray("GET") << QByteArray() << 403 << QByteArray() << QByteArray();
    QTest::newRow("origin differs in port") << QByteArray("/api/health") << QByteArray("https://app.example.com:8443")
                                            << QByteArray("GET") << QByteArray() << 403 << QByteArray() << QByteArray();
    QTest::newRow("method not on the path") << QByteArray("/api/health") << QByteArray(kOrigin) << QByteArray("DELETE")
                                            << QByteArray() << 403 << QByteArray() << QByteArray();
    QTest::newRow("header not allowed") << QByteArray("/api/health") << QByteArray(kOrigin) << QByteArray("GET")
                                        << QByteArray("authorization, x-evil") << 403 << QByteArray() << QByteArray();
    QTest::newRow("unknown path") << QByteArray("/api/nowhere") << QByteArray(kOrigin) << QByteArray("GET")
                                  << QByteArray() << 404 << QByteArray() << QByteArray();
}

void TestHygiene::corsPreflight()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, origin);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, headers);
    QFETCH(int, status);
    QFETCH(QByteArray, allowMethods);
    QFETCH(QByteArray, allowHeaders);
    if (!m_instance) {
        Config config;
        config.corsOrigins = {QString::fromLatin1(kOrigin), QStringLiteral("http://localhost:5173")};
        m_instance = std::make_unique<Instance>();
        QVERIFY(m_instance->start(config));
    }
    HeaderList fields {{"Access-Control-Request-Method", method}};
    if (!headers.isEmpty())
        fields.append({"Access-Control-Request-Headers", headers});
    const HttpResponse r = m_instance->roundTrip(withOrigin("OPTIONS", target, origin, fields));
    QCOMPARE(r.status, status);
    QVERIFY(hasSecurityHeaders(r));
    if (status != 204) {
        QVERIFY(isProblem(r, status));
        QVERIFY(!r.hasHeader("Access-Control-Allow-Methods"));
        if (status == 403 && origin != kOrigin)
            QVERIFY(!r.hasHeader("Access-Control-Allow-Origin"));
        return;
    }
    QCOMPARE(r.headerCount("Access-Control-Allow-Origin"), 1);
    QCOMPARE(r.header("Access-Control-Allow-Origin"), origin);
    QCOMPARE(r.header("Access-Control-Allow-Methods"), allowMethods);
    QCOMPARE(r.header("Access-Control-Allow-Headers"), allowHeaders);
    QCOMPARE(r.hasHeader("Access-Control-Allow-Headers"), !allowHeaders.isEmpty());
    QCOMPARE(r.header("Access-Control-Max-Age"), QByteArray("600"));
    QVERIFY(!r.hasHeader("Access-Control-Allow-Credentials")); // bearer tokens, never cookies
    QByteArrayList vary;
    for (const auto &[name, value] : r.headers)
        if (name.compare("Vary", Qt::CaseInsensitive) == 0)
            vary += value;
    QVERIFY2(vary.join(", ").contains("Origin"), vary.join(", ").constData());
    QVERIFY(vary.join(", ").contains("Access-Control-Request-Method"));
}

void TestHygiene::corsActualRequests()
{
    Config config;
    config.corsOrigins = {QString::fromLatin1(kOrigin)};
    Http::Limits limits;
    limits.maxBodyBytes = 1024;
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(config, limits));

    const HttpResponse allowed = m_instance->roundTrip(withOrigin("GET", "/api/health", kOrigin));
    QCOMPARE(allowed.status, 200);
    QCOMPARE(allowed.headerCount("Access-Control-Allow-Origin"), 1);
    QCOMPARE(allowed.header("Access-Control-Allow-Origin"), QByteArray(kOrigin));
    QCOMPARE(allowed.header("Vary"), QByteArray("Origin"));
    const QByteArray exposed = allowed.header("Access-Control-Expose-Headers");
    for (const char *name : {"ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "X-Request-Id"})
        QVERIFY2(exposed.split(',').contains(name) || exposed.split(',').contains(QByteArray(" ") + name),
                 exposed.constData());
    QVERIFY(!allowed.hasHeader("Access-Control-Allow-Credentials"));
    QVERIFY(hasSecurityHeaders(allowed));

    // An error answer is readable by the app too.
    const HttpResponse missing = m_instance->roundTrip(withOrigin("GET", "/api/nowhere", kOrigin));
    QCOMPARE(missing.status, 404);
    QCOMPARE(missing.header("Access-Control-Allow-Origin"), QByteArray(kOrigin));
    // So is a refusal of the guard, once it has read the Origin.
    const HttpResponse tooLarge
        = m_instance->roundTrip(QByteArray("POST /api/batch HTTP/1.1\r\nHost: localhost\r\nOrigin: ") + kOrigin
                                + "\r\nContent-Length: 5000\r\n\r\n");
    QVERIFY(isProblem(tooLarge, 413));
    QCOMPARE(tooLarge.header("Access-Control-Allow-Origin"), QByteArray(kOrigin));

    // Another origin, or none: no CORS fields, but the answer still says it varies with Origin.
    const HttpResponse other = m_instance->roundTrip(withOrigin("GET", "/api/health", "https://evil.example"));
    QCOMPARE(other.status, 200);
    QVERIFY(!other.hasHeader("Access-Control-Allow-Origin"));
    QVERIFY(!other.hasHeader("Access-Control-Expose-Headers"));
    QCOMPARE(other.header("Vary"), QByteArray("Origin"));
    const HttpResponse none = m_instance->roundTrip(httpRequest("GET", "/api/health"));
    QVERIFY(!none.hasHeader("Access-Control-Allow-Origin"));
    QCOMPARE(none.header("Vary"), QByteArray("Origin"));
    // A plain OPTIONS (no Access-Control-Request-Method) is not a preflight: 204 with Allow.
    const HttpResponse plain = m_instance->roundTrip(withOrigin("OPTIONS", "/api/health", kOrigin));
    QCOMPARE(plain.status, 204);
    QCOMPARE(plain.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
    QCOMPARE(plain.headerCount("Access-Control-Allow-Origin"), 1);
}

void TestHygiene::corsAnyOrigin()
{
    Config config;
    config.corsOrigins = {QStringLiteral("*")};
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(config));
    const HttpResponse preflight = m_instance->roundTrip(
        withOrigin("OPTIONS", "/api/health", "https://anyone.example", {{"Access-Control-Request-Method", "GET"}}));
    QCOMPARE(preflight.status, 204);
    QCOMPARE(preflight.header("Access-Control-Allow-Origin"), QByteArray("*"));
    const HttpResponse actual = m_instance->roundTrip(withOrigin("GET", "/api/health", "https://anyone.example"));
    QCOMPARE(actual.header("Access-Control-Allow-Origin"), QByteArray("*"));
    QVERIFY(!actual.hasHeader("Vary")); // the same answer for every origin
    QVERIFY(!actual.hasHeader("Access-Control-Allow-Credentials"));
}

void TestHygiene::corsOffByDefault()
{
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(Config()));
    const HttpResponse preflight = m_instance->roundTrip(
        withOrigin("OPTIONS", "/api/health", kOrigin, {{"Access-Control-Request-Method", "GET"}}));
    QCOMPARE(preflight.status, 204);
    QCOMPARE(preflight.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
    const HttpResponse actual = m_instance->roundTrip(withOrigin("GET", "/api/health", kOrigin));
    QCOMPARE(actual.status, 200);
    for (const HttpResponse *r : {&preflight, &actual}) {
        for (const auto &[name, value] : r->headers) {
            QVERIFY2(!name.toLower().startsWith("access-control-"), name.constData());
            QVERIFY2(name.compare("Vary", Qt::CaseInsensitive) != 0, name.constData());
        }
    }
}

void TestHygiene::hostCheck_data()
{
    QTest::addColumn<QByteArray>("raw"); // %1: the port
    QTest::addColumn<int>("status");
    const auto get = [](const char *host) -> QByteArray {
        return QByteArray("GET /api/health HTTP/1.1\r\nHost: ") + host + "\r\n\r\n";
    };
    QTest::newRow("localhost:port") << get("localhost:%1") << 200;
    QTest::newRow("LOCALHOST") << get("LOCALHOST") << 200;
    QTest::newRow("localhost.") << get("localhost.:%1") << 200;
    QTest::newRow("name under .localhost") << get("app.localhost:%1") << 200;
    QTest::newRow("127.0.0.1:port") << get("127.0.0.1:%1") << 200;
    QTest::newRow("127.8.9.10") << get("127.8.9.10") << 200;
    QTest::newRow("[::1]:port") << get("[::1]:%1") << 200;
    QTest::newRow("HTTP/1.0 without Host") << QByteArray("GET /api/health HTTP/1.0\r\n\r\n") << 200;
    QTest::newRow("evil.example") << get("evil.example") << 403;
    QTest::newRow("evil.example:port") << get("evil.example:%1") << 403;
    QTest::newRow("localhost.evil.example") << get("localhost.evil.example") << 403;
    QTest::newRow("evil-localhost") << get("evil-localhost") << 403;
    QTest::newRow("127.0.0.1.evil.example") << get("127.0.0.1.evil.example") << 403;
    QTest::newRow("other address") << get("192.168.1.10:%1") << 403;
    QTest::newRow("bad port") << get("localhost:http") << 403;
    QTest::newRow("absolute-form target elsewhere")
        << QByteArray("GET http://evil.example/api/health HTTP/1.1\r\nHost: localhost\r\n\r\n") << 403;
    QTest::newRow("absolute-form target here")
        << QByteArray("GET http://127.0.0.1:%1/api/health HTTP/1.1\r\nHost: 127.0.0.1:%1\r\n\r\n") << 200;
}

void TestHygiene::hostCheck()
{
    QFETCH(QByteArray, raw);
    QFETCH(int, status);
    if (!m_instance) {
        m_instance = std::make_unique<Instance>();
        QVERIFY(m_instance->start(Config()));
    }
    raw.replace("%1", QByteArray::number(m_instance->port()));
    const HttpResponse r = m_instance->roundTrip(raw);
    QCOMPARE(r.status, status);
    if (status == 403) {
        QVERIFY(isProblem(r, 403));
        QVERIFY(r.json().value(QStringLiteral("detail")).toString().startsWith(u"Host not allowed"));
        QCOMPARE(r.header("Connection"), QByteArray("close"));
    }
}

void TestHygiene::allowedHostsAddNames()
{
    Config config;
    config.allowedHosts = {QStringLiteral("api.example.com"), QStringLiteral("*.corp.example")};
    m_instance = std::make_unique<Instance>();
    QVERIFY(m_instance->start(config));
    const auto status = [this](const char *host) {
        return m_instance->roundTrip(QByteArray("GET /api/health HTTP/1.1\r\nHost: ") + host + "\r\n\r\n").status;
    };
    QCOMPARE(status("api.example.com"), 200);
    QCOMPARE(status("API.Example.com:443"), 200);
    QCOMPARE(status("svc.corp.example"), 200);
    QCOMPARE(status("localhost"), 200); // the loopback names stay allowed
    QCOMPARE(status("corp.example"), 403); // "*." means the names under it
    QCOMPARE(status("example.com"), 403);
}

QTEST_GUILESS_MAIN(TestHygiene)
#include "tst_hygiene.moc"
