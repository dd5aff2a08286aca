// The audit log API end to end over HTTP: what logins and key changes record, newest first;
// filters, sorts and paging as PocketBase lists do them; which keys may read it; bad parameters;
// and retention, applied when the server starts, with time moved on the fixture's ManualClock.
// Which caller gets 401/403 on the route is tst_permissions' table, not repeated here.
#include <QtTest>
#include <algorithm>
#include <memory>

#include "apifixture.h"
#include "auth/superusers.h"
#include "server/server.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kDay = 24 * 60 * 60 * kSecond;

QByteArray auditPath(const QByteArray &query = {})
{
    return query.isEmpty() ? QByteArray("/api/logs/audit") : "/api/logs/audit?" + query;
}

QStringList column(const QJsonObject &page, const QString &name)
{
    QStringList out;
    for (const QJsonValue &item : page.value(u"items").toArray())
        out.append(item.toObject().value(name).toVariant().toString());
    return out;
}

} // namespace

class TestAuditApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void listsNewestFirst();
    void filterSelectsFailedLogins();
    void sortsByAnyField();
    void pagesAsPocketBase();
    void skipTotalSkipsCounting();
    void perPageIsCapped();
    void keyNeedsLogsRead();
    void badParametersAre400_data();
    void badParametersAre400();
    void logIsReadOnly();
    void retentionDeletesOldEntriesAtStart();

private:
    const ApiClient &admin() const { return *m_admin; }
    HttpResponse failedLogin() const;
    // Stops and starts the server (retention runs at start) and logs the superuser in again.
    bool restart();

    std::unique_ptr<ApiFixture> m_api;
    std::optional<ApiClient> m_admin;
    QString m_revokedId;
};

// After the first start's collection.create (the default `users` collection, by "local") and the
// fixture's superuser.create and auth.login: a failed and a good login, two keys made and the
// second revoked, a second apart.
void TestAuditApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
    m_admin.emplace(m_api->admin());
    m_api->clock().advanceMs(kSecond);
    QCOMPARE(failedLogin().status, 400);
    m_api->clock().advanceMs(kSecond);
    QVERIFY(!m_api->server().login(kSuperuserEmail, kSuperuserPassword).isEmpty());
    m_api->clock().advanceMs(kSecond);
    QVERIFY(!issueKey(admin(), {QStringLiteral("logs:read")}).isEmpty());
    m_api->clock().advanceMs(kSecond);
    QVERIFY(!issueKey(admin(), {QStringLiteral("records:read")}, &m_revokedId).isEmpty());
    m_api->clock().advanceMs(kSecond);
    QCOMPARE(admin().remove("/api/keys/" + m_revokedId.toUtf8()).status, 204);
}

void TestAuditApi::cleanup()
{
    m_admin.reset();
    m_api.reset();
}

HttpResponse TestAuditApi::failedLogin() const
{
    return m_api->guest().post("/api/collections/_superusers/auth-with-password",
                               QJsonObject {{QStringLiteral("identity"), kSuperuserEmail},
                                            {QStringLiteral("password"), QStringLiteral("no")}});
}

bool TestAuditApi::restart()
{
    Server &server = m_api->server().server();
    server.stop(0);
    if (auto s = server.start(); !s) {
        qWarning("restart failed: %s", qPrintable(s.error().message));
        return false;
    }
    const QByteArray token = m_api->server().login(kSuperuserEmail, kSuperuserPassword);
    m_admin.emplace(m_api->server(), "Bearer " + token);
    return !token.isEmpty();
}

void TestAuditApi::listsNewestFirst()
{
    const QJsonObject page = bodyIfOk(admin().get(auditPath()), "GET /api/logs/audit");
    QCOMPARE(page.value(u"page").toInt(), 1);
    QCOMPARE(page.value(u"perPage").toInt(), 30);
    QCOMPARE(page.value(u"totalItems").toInt(), 8);
    QCOMPARE(page.value(u"totalPages").toInt(), 1);
    const QStringList actions {QStringLiteral("apikey.revoke"),    QStringLiteral("apikey.create"),
                               QStringLiteral("apikey.create"),    QStringLiteral("auth.login"),
                               QStringLiteral("auth.login"),       QStringLiteral("auth.login"),
                               QStringLiteral("superuser.create"), QStringLiteral("collection.create")};
    QCOMPARE(column(page, QStringLiteral("action")), actions);
    // The start's entries share a time: the id breaks the tie, newest first.
    QCOMPARE(column(page, QStringLiteral("id")),
             (QStringList {QStringLiteral("8"), QStringLiteral("7"), QStringLiteral("6"), QStringLiteral("5"),
                           QStringLiteral("4"), QStringLiteral("3"), QStringLiteral("2"), QStringLiteral("1")}));

    const QJsonObject revoke = page.value(u"items").toArray().first().toObject();
    QCOMPARE(revoke.keys(),
             (QStringList {QStringLiteral("action"), QStringLiteral("actor"), QStringLiteral("address"),
                           QStringLiteral("details"), QStringLiteral("id"), QStringLiteral("success"),
                           QStringLiteral("target"), QStringLiteral("time")}));
    QCOMPARE(revoke.value(u"details").toObject(), QJsonObject());
    QCOMPARE(revoke.value(u"target").toString(), m_revokedId);
    QVERIFY2(revoke.value(u"actor").toString().startsWith(u"superuser:"),
             qPrintable(revoke.value(u"actor").toString()));
    QCOMPARE(revoke.value(u"success"), QJsonValue(true));
    QCOMPARE(revoke.value(u"time").toString(), Auth::Superusers::timestamp(m_api->clock().nowMs()));

    const QJsonObject failed = page.value(u"items").toArray().at(4).toObject();
    QCOMPARE(failed.value(u"actor").toString(), kSuperuserEmail);
    QCOMPARE(failed.value(u"target").toString(), QStringLiteral("_superusers"));
    QCOMPARE(failed.value(u"address").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(failed.value(u"success"), QJsonValue(false));
}

void TestAuditApi::filterSelectsFailedLogins()
{
    const QJsonObject failed = bodyIfOk(
        admin().get(auditPath("filter=" + encoded(QStringLiteral("action = 'auth.login' && success = false")))),
        "filtered list");
    QCOMPARE(failed.value(u"totalItems").toInt(), 1);
    QCOMPARE(column(failed, QStringLiteral("id")), QStringList {QStringLiteral("4")});
    QCOMPARE(column(failed, QStringLiteral("actor")), QStringList {kSuperuserEmail});

    const QJsonObject keys
        = bodyIfOk(admin().get(auditPath(
                       "filter=" + encoded(QStringLiteral("action ~ 'apikey.' && target = '%1'").arg(m_revokedId)))),
                   "filtered list");
    QCOMPARE(column(keys, QStringLiteral("action")),
             (QStringList {QStringLiteral("apikey.revoke"), QStringLiteral("apikey.create")}));

    // A value that looks like SQL is a bound value like any other: no match, no error.
    const HttpResponse injected
        = admin().get(auditPath("filter=" + encoded(QStringLiteral("actor = \"x' OR 1=1 --\""))));
    QVERIFY2(injected.status == 200, summary(injected).constData());
    QCOMPARE(injected.json().value(u"totalItems").toInt(), 0);
}

void TestAuditApi::sortsByAnyField()
{
    const QJsonObject byActor = bodyIfOk(admin().get(auditPath("sort=actor,id")), "sorted list");
    QStringList actors = column(byActor, QStringLiteral("actor"));
    QCOMPARE(actors.size(), 8);
    QStringList sorted = actors;
    std::sort(sorted.begin(), sorted.end());
    QCOMPARE(actors, sorted);
    // "local" sorts before "root@...", which sorts before "superuser:..."
    QCOMPARE(actors.mid(0, 2), (QStringList {QStringLiteral("local"), kSuperuserEmail}));

    const QJsonObject oldest = bodyIfOk(admin().get(auditPath("sort=%2Bid&perPage=2")), "sorted list");
    QCOMPARE(column(oldest, QStringLiteral("id")), (QStringList {QStringLiteral("1"), QStringLiteral("2")}));
    const QJsonObject failuresFirst = bodyIfOk(admin().get(auditPath("sort=success,-time&perPage=1")), "sorted list");
    QCOMPARE(column(failuresFirst, QStringLiteral("id")), QStringList {QStringLiteral("4")});
}

void TestAuditApi::pagesAsPocketBase()
{
    const QJsonObject first = bodyIfOk(admin().get(auditPath("perPage=3")), "page 1");
    QCOMPARE(column(first, QStringLiteral("id")),
             (QStringList {QStringLiteral("8"), QStringLiteral("7"), QStringLiteral("6")}));
    QCOMPARE(first.value(u"totalPages").toInt(), 3);
    const QJsonObject last = bodyIfOk(admin().get(auditPath("perPage=3&page=3")), "page 3");
    QCOMPARE(column(last, QStringLiteral("id")), (QStringList {QStringLiteral("2"), QStringLiteral("1")}));

    const QJsonObject beyond = bodyIfOk(admin().get(auditPath("perPage=3&page=4")), "page 4");
    QCOMPARE(beyond.value(u"page").toInt(), 4);
    QCOMPARE(beyond.value(u"items").toArray().size(), 0);
    QCOMPARE(beyond.value(u"totalItems").toInt(), 8);
    QCOMPARE(beyond.value(u"totalPages").toInt(), 3);

    // Below 1: the defaults, as PocketBase.
    const QJsonObject defaults = bodyIfOk(admin().get(auditPath("page=0&perPage=-5")), "defaults");
    QCOMPARE(defaults.value(u"page").toInt(), 1);
    QCOMPARE(defaults.value(u"perPage").toInt(), 30);
}

void TestAuditApi::skipTotalSkipsCounting()
{
    for (const QByteArray &value : {QByteArray("1"), QByteArray("true")}) {
        const QJsonObject page = bodyIfOk(admin().get(auditPath("perPage=2&skipTotal=" + value)), "skipTotal");
        QCOMPARE(page.value(u"totalItems").toInt(), -1);
        QCOMPARE(page.value(u"totalPages").toInt(), -1);
        QCOMPARE(page.value(u"items").toArray().size(), 2);
    }
    const QJsonObject counted = bodyIfOk(admin().get(auditPath("skipTotal=false")), "skipTotal=false");
    QCOMPARE(counted.value(u"totalItems").toInt(), 8);
}

void TestAuditApi::perPageIsCapped()
{
    const QJsonObject page = bodyIfOk(admin().get(auditPath("perPage=100000")), "perPage=100000");
    QCOMPARE(page.value(u"perPage").toInt(), 500);
    QCOMPARE(page.value(u"totalPages").toInt(), 1);
    QCOMPARE(page.value(u"items").toArray().size(), 8);
}

void TestAuditApi::keyNeedsLogsRead()
{
    const QString reader = issueKey(admin(), {QStringLiteral("logs:read")});
    const QString other = issueKey(admin(), {QStringLiteral("keys:manage")});
    QVERIFY(!reader.isEmpty() && !other.isEmpty());
    const HttpResponse allowed = ApiClient(m_api->server(), "Bearer " + reader.toUtf8()).get(auditPath());
    QVERIFY2(allowed.status == 200, summary(allowed).constData());
    QCOMPARE(allowed.json().value(u"totalItems").toInt(), 10);
    const HttpResponse refused = ApiClient(m_api->server(), "Bearer " + other.toUtf8()).get(auditPath());
    QVERIFY2(isProblem(refused, 403), summary(refused).constData());
    QVERIFY2(isProblem(m_api->guest().get(auditPath()), 401), "a guest");
}

void TestAuditApi::badParametersAre400_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QString>("mentions"); // in the problem's detail

    QTest::newRow("page not a number") << QByteArray("page=abc") << QStringLiteral("page");
    QTest::newRow("perPage not a number") << QByteArray("perPage=1.5") << QStringLiteral("perPage");
    QTest::newRow("unfinished filter") << "filter=" + encoded(QStringLiteral("action ="))
                                       << QStringLiteral("position 9");
    QTest::newRow("unknown operator") << "filter=" + encoded(QStringLiteral("actor === 'x'"))
                                      << QStringLiteral("position");
    QTest::newRow("unknown filter field")
        << "filter=" + encoded(QStringLiteral("password = 'x'")) << QStringLiteral("unknown field \"password\"");
    QTest::newRow("related path") << "filter=" + encoded(QStringLiteral("actor.email = 'x'"))
                                  << QStringLiteral("unknown field");
    QTest::newRow("unknown sort field") << QByteArray("sort=-password") << QStringLiteral("sort field \"password\"");
    QTest::newRow("sort not a field") << "sort=" + encoded(QStringLiteral("time;drop")) << QStringLiteral("sort field");
}

void TestAuditApi::badParametersAre400()
{
    QFETCH(QByteArray, query);
    QFETCH(QString, mentions);
    const HttpResponse r = admin().get(auditPath(query));
    QVERIFY2(isProblem(r, 400), summary(r).constData());
    QVERIFY2(r.json().value(u"detail").toString().contains(mentions), summary(r).constData());
}

void TestAuditApi::logIsReadOnly()
{
    const HttpResponse post = admin().post(auditPath(), QJsonObject {{QStringLiteral("action"), QStringLiteral("x")}});
    QCOMPARE(post.status, 405);
    QCOMPARE(post.header("Allow"), QByteArray("GET, HEAD, OPTIONS"));
    QCOMPARE(admin().remove(auditPath()).status, 405);
    QCOMPARE(admin().remove(auditPath() + "/1").status, 404);
    QCOMPARE(bodyIfOk(admin().get(auditPath()), "after").value(u"totalItems").toInt(), 8);
}

void TestAuditApi::retentionDeletesOldEntriesAtStart()
{
    // 89 days on, nothing is old enough: the eight entries stay, and the new login is the ninth.
    m_api->clock().advanceMs(89 * kDay);
    QVERIFY(restart());
    QCOMPARE(bodyIfOk(admin().get(auditPath()), "day 89").value(u"totalItems").toInt(), 9);

    // Two days more: the first eight are over 90 days old and go; the day-89 login stays.
    m_api->clock().advanceMs(2 * kDay);
    QVERIFY(restart());
    const QJsonObject page = bodyIfOk(admin().get(auditPath()), "day 91");
    QCOMPARE(column(page, QStringLiteral("id")), (QStringList {QStringLiteral("10"), QStringLiteral("9")}));
    QCOMPARE(column(page, QStringLiteral("action")),
             (QStringList {QStringLiteral("auth.login"), QStringLiteral("auth.login")}));
}

QTEST_GUILESS_MAIN(TestAuditApi)
#include "tst_auditapi.moc"
