// Rate limits end to end over HTTP: exactly L of a burst pass whatever the number of network and
// client threads; the draft-10 headers on every response of a limited route and the 429 with
// Retry-After; one bucket per API key, per account and per address (where refused credentials
// count too); the auth group; the health check never limited; and the admin API that changes the
// rules live, persists them and is audited. Time moves on the fixture's ManualClock.
#include <QJsonArray>
#include <QThread>
#include <QtTest>
#include <atomic>
#include <memory>
#include <vector>

#include "apifixture.h"
#include "http/ratelimiter.h"
#include "observe/metrics.h"
#include "server/server.h"
#include "server/servermetrics.h"
#include "store/auditlog.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

RateRules rules(const char *text)
{
    auto parsed = RateRules::parse(QString::fromLatin1(text));
    if (!parsed)
        qFatal("bad rules in the test: %s", text);
    return *parsed;
}

const QByteArray kNotes = "/api/collections/notes/records";

} // namespace

class TestRateLimit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void burstOnManyThreadsPassesExactlyTheLimit();
    void headersOnEveryLimitedResponse();
    void callersHaveTheirOwnBuckets();
    void authGroupIsStricter();
    void adminApiChangesTheRulesLive();
    void adminApiRefusesBadRules();

private:
    // A collection anyone may list and view.
    static void createNotes(const ApiFixture &api);
};

void TestRateLimit::createNotes(const ApiFixture &api)
{
    const HttpResponse r = api.admin().post(
        "/api/collections",
        object(R"j({"name":"notes","listRule":"","viewRule":"","fields":[{"name":"title","type":"text"}]})j"));
    QVERIFY2(r.status == 200, summary(r).constData());
}

void TestRateLimit::burstOnManyThreadsPassesExactlyTheLimit()
{
    // 4 network threads, 8 client threads on keep-alive connections of their own, one caller.
    constexpr int kLimit = 40;
    constexpr int kClients = 8;
    constexpr int kEach = 25;
    ApiFixture api(4, rules("admin:40/60s"));
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const QByteArray token = "Bearer " + api.server().login(kSuperuserEmail, kSuperuserPassword);
    const quint16 port = api.server().port();
    std::atomic<int> ok {0};
    std::atomic<int> limited {0};
    std::atomic<int> other {0};
    std::vector<std::unique_ptr<QThread>> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back(QThread::create([&, port, token] {
            RawClient client;
            if (!client.connectTo(port))
                return void(other.fetch_add(kEach));
            for (int i = 0; i < kEach; ++i) {
                if (!client.send(httpRequest("GET", "/api/collections", {}, {{"Authorization", token}})))
                    return void(other.fetch_add(kEach - i));
                const HttpResponse r = client.readResponse();
                if (r.status == 200)
                    ok.fetch_add(1);
                else if (r.status == 429 && isProblem(r, 429) && r.header("Retry-After").toInt() >= 1)
                    limited.fetch_add(1);
                else
                    other.fetch_add(1);
            }
        }));
        clients.back()->start();
    }
    for (auto &thread : clients)
        QVERIFY(thread->wait(60'000));
    QCOMPARE(other.load(), 0);
    QCOMPARE(ok.load(), kLimit);
    QCOMPARE(limited.load(), kClients * kEach - kLimit);
    QCOMPARE(api.server().server().rateLimiter().refusedCount(RateGroup::Admin), quint64(kClients * kEach - kLimit));
    // ... and GET /metrics says so (read in-process: the caller's admin budget is spent).
    const auto refused = api.server().server().metrics().metrics().snapshot().rateLimited;
    QVERIFY(refused.contains(qMakePair(QByteArray("admin"), quint64(kClients * kEach - kLimit))));
}

void TestRateLimit::headersOnEveryLimitedResponse()
{
    ApiFixture api(2, rules("read:3/60s, admin:100/60s"));
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    createNotes(api);
    for (int i = 0; i < 3; ++i) {
        // A 404 on a limited route counts and carries the state like a 200.
        const HttpResponse r = i == 1 ? api.guest().get(kNotes + "/nosuchrecord000") : api.guest().get(kNotes);
        QCOMPARE(r.status, i == 1 ? 404 : 200);
        QCOMPARE(r.header("RateLimit-Policy"), QByteArray("\"read\";q=3;w=60"));
        QCOMPARE(r.header("RateLimit"),
                 "\"read\";r=" + QByteArray::number(2 - i) + ";t=" + QByteArray::number(20 * (i + 1)));
    }
    HttpResponse r = api.guest().get(kNotes);
    QVERIFY2(isProblem(r, 429), summary(r).constData());
    QCOMPARE(r.header("Retry-After"), QByteArray("20"));
    QCOMPARE(r.header("RateLimit"), QByteArray("\"read\";r=0;t=60"));
    QVERIFY(r.json().value(QStringLiteral("detail")).toString().contains(QStringLiteral("read")));
    // The health check is never limited and says nothing about limits.
    for (int i = 0; i < 10; ++i) {
        r = api.guest().get("/api/health");
        QCOMPARE(r.status, 200);
        QVERIFY(!r.hasHeader("RateLimit"));
        QVERIFY(!r.hasHeader("RateLimit-Policy"));
    }
    api.clock().advanceMs(19'999);
    QCOMPARE(api.guest().get(kNotes).status, 429);
    api.clock().advanceMs(1);
    r = api.guest().get(kNotes);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("RateLimit"), QByteArray("\"read\";r=0;t=60"));
}

void TestRateLimit::callersHaveTheirOwnBuckets()
{
    ApiFixture api(2, rules("read:2/60s"));
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    createNotes(api);
    const ApiClient keyA(api.server(), "Bearer " + issueKey(api.admin(), {QStringLiteral("records:read")}).toLatin1());
    const ApiClient keyB(api.server(), "Bearer " + issueKey(api.admin(), {QStringLiteral("records:read")}).toLatin1());
    for (const ApiClient *client : {&keyA, &keyB, &api.admin(), &api.guest()}) {
        QCOMPARE(client->get(kNotes).status, 200);
        QCOMPARE(client->get(kNotes).status, 200);
        QCOMPARE(client->get(kNotes).status, 429);
    }
    // A refused credential counts against the address, which the guest has spent: guessing keys is
    // limited like any anonymous request.
    const ApiClient badKey(api.server(), "Bearer opk_notARealKeyAtAll0000000000000000000000");
    const HttpResponse r = badKey.get(kNotes);
    QVERIFY2(isProblem(r, 429), summary(r).constData());
    api.clock().advanceMs(30'000);
    QCOMPARE(badKey.get(kNotes).status, 401);
}

void TestRateLimit::authGroupIsStricter()
{
    ApiFixture api(2, RateRules::defaults());
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const RateRule auth = RateRules::defaults()[RateGroup::Auth];
    // The fixture's own login took one token.
    for (int i = 1; i < auth.limit; ++i) {
        const HttpResponse r = api.guest().send("POST", "/api/oauth2/token", "grant_type=password",
                                                {{"Content-Type", "application/x-www-form-urlencoded"}});
        QCOMPARE(r.status, 400);
        QCOMPARE(r.header("RateLimit-Policy"),
                 "\"auth\";q=" + QByteArray::number(auth.limit) + ";w=" + QByteArray::number(auth.windowSeconds));
    }
    const HttpResponse r = api.guest().send("POST", "/api/oauth2/token", "grant_type=password",
                                            {{"Content-Type", "application/x-www-form-urlencoded"}});
    QVERIFY2(isProblem(r, 429), summary(r).constData());
    // Reads are another group: still fine.
    QCOMPARE(api.admin().get("/api/collections").status, 200);
}

void TestRateLimit::adminApiChangesTheRulesLive()
{
    ApiFixture api(2, rules("read:100/60s"));
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    createNotes(api);
    QJsonObject state = bodyIfOk(api.admin().get("/api/settings/rate-limits"), "GET rate limits");
    QCOMPARE(state.value(QStringLiteral("source")).toString(), QStringLiteral("config"));
    QCOMPARE(state.value(QStringLiteral("groups")).toObject(), state.value(QStringLiteral("config")).toObject());
    QCOMPARE(state[QStringLiteral("groups")][QStringLiteral("read")][QStringLiteral("limit")].toInt(), 100);
    QVERIFY(state[QStringLiteral("groups")][QStringLiteral("auth")].isNull());

    HttpResponse r = api.admin().send("PUT", "/api/settings/rate-limits",
                                      R"({"groups":{"read":{"limit":2,"window":60},"auth":null}})");
    state = bodyIfOk(r, "PUT rate limits");
    QCOMPARE(state.value(QStringLiteral("source")).toString(), QStringLiteral("api"));
    QCOMPARE(state[QStringLiteral("groups")][QStringLiteral("read")][QStringLiteral("limit")].toInt(), 2);
    QCOMPARE(api.guest().get(kNotes).status, 200);
    QCOMPARE(api.guest().get(kNotes).header("RateLimit-Policy"), QByteArray("\"read\";q=2;w=60"));
    QCOMPARE(api.guest().get(kNotes).status, 429);

    // The override survives a restart.
    Server &server = api.server().server();
    server.stop(0);
    QVERIFY(server.start());
    ApiClient admin(api.server(), "Bearer " + api.server().login(kSuperuserEmail, kSuperuserPassword));
    state = bodyIfOk(admin.get("/api/settings/rate-limits"), "GET after restart");
    QCOMPARE(state.value(QStringLiteral("source")).toString(), QStringLiteral("api"));
    QCOMPARE(api.guest().get(kNotes).header("RateLimit-Policy"), QByteArray("\"read\";q=2;w=60"));

    state = bodyIfOk(admin.send("DELETE", "/api/settings/rate-limits"), "DELETE rate limits");
    QCOMPARE(state.value(QStringLiteral("source")).toString(), QStringLiteral("config"));
    QCOMPARE(api.guest().get(kNotes).header("RateLimit-Policy"), QByteArray("\"read\";q=100;w=60"));

    // Both changes are in the audit log, with the rules before and after.
    server.store().auditLog().flush();
    r = admin.get("/api/logs/audit?filter=" + encoded(QStringLiteral("action = 'settings.update'")) + "&sort=id");
    const QJsonArray items = bodyIfOk(r, "audit")[QStringLiteral("items")].toArray();
    QCOMPARE(items.size(), 2);
    const QJsonObject first = items[0].toObject();
    QCOMPARE(first[QStringLiteral("target")].toString(), QStringLiteral("rate_limits"));
    QCOMPARE(first[QStringLiteral("details")][QStringLiteral("after")][QStringLiteral("read")][QStringLiteral("limit")]
                 .toInt(),
             2);
    QCOMPARE(first[QStringLiteral("details")][QStringLiteral("before")][QStringLiteral("read")][QStringLiteral("limit")]
                 .toInt(),
             100);
}

void TestRateLimit::adminApiRefusesBadRules()
{
    ApiFixture api(2, rules("read:100/60s"));
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const QList<QPair<QByteArray, QByteArray>> cases {
        {R"({"groups":{"read":{"limit":0,"window":60}}})", "groups.read"},
        {R"({"groups":{"read":{"limit":5}}})", "groups.read"},
        {R"({"groups":{"read":{"limit":5,"window":1.5}}})", "groups.read"},
        {R"({"groups":{"reads":{"limit":5,"window":1}}})", "groups.reads"},
        {R"({"groups":[]})", "groups"},
        {R"({"groups":{},"extra":1})", "extra"},
    };
    for (const auto &[body, field] : cases) {
        const HttpResponse r = api.admin().send("PUT", "/api/settings/rate-limits", body);
        QVERIFY2(isProblem(r, 400), summary(r).constData());
        bool named = false;
        for (const QJsonValue &error : r.json()[QStringLiteral("errors")].toArray())
            named = named || error[QStringLiteral("field")].toString() == QString::fromLatin1(field);
        QVERIFY2(named, summary(r).constData());
    }
    QCOMPARE(api.admin().send("PUT", "/api/settings/rate-limits", "not json").status, 400);
    // Nothing changed.
    const QJsonObject state = bodyIfOk(api.admin().get("/api/settings/rate-limits"), "GET rate limits");
    QCOMPARE(state.value(QStringLiteral("source")).toString(), QStringLiteral("config"));
}

QTEST_GUILESS_MAIN(TestRateLimit)
#include "tst_ratelimit.moc"
