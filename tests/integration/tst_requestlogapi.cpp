// The request log end to end on a real server: every answered request (routed, unmatched, refused,
// streamed) appears in GET /api/logs/requests with the right method, path (never its query string),
// route template, status, client, caller (guest, API key, superuser), request id (the response's
// X-Request-Id, the client's own when acceptable) and byte counts; filters, sorts and pages as
// PocketBase lists do; which keys may read it; bad parameters; and the log's counters in GET
// /metrics. Which caller gets 401/403 on the route is tst_permissions' table.
#include <QRegularExpression>
#include <QtTest>
#include <memory>

#include "apifixture.h"
#include "server/server.h"
#include "store/auditlog.h"
#include "store/requestlog.h"
#include "store/sqlite.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

QByteArray requestsPath(const QByteArray &query = {})
{
    return query.isEmpty() ? QByteArray("/api/logs/requests") : "/api/logs/requests?" + query;
}

QByteArray filterQuery(const QString &filter, const QByteArray &more = {})
{
    QByteArray query = "filter=" + encoded(filter);
    return more.isEmpty() ? query : query + '&' + more;
}

QList<qint64> ids(const QJsonObject &page)
{
    QList<qint64> out;
    for (const QJsonValue &item : page.value(u"items").toArray())
        out.append(item.toObject().value(u"id").toInteger());
    return out;
}

// Requests other than the listings themselves (each of which is logged once answered).
const QString kNotListings = QStringLiteral("route != '/api/logs/requests'");

} // namespace

class TestRequestLogApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void logsEachCallerWithItsFields();
    void logsUnmatchedRefusedAndStreamed();
    void keepsAnAcceptableClientRequestId();
    void filtersByTimeAsTextOrMilliseconds();
    void filtersSortsAndPages();
    void keyNeedsLogsRead();
    void badParametersAre400();
    void metricsCountTheLog();
    void switchedOffLogsNothing();

private:
    const ApiClient &admin() const { return m_api->admin(); }
    // The entry whose requestId is `id`; {} (and a warning) when there is not exactly one.
    QJsonObject entryFor(const QByteArray &id) const;
    // True once every one of these requests is in the log (false after a bounded wait).
    bool waitLogged(const QList<QByteArray> &requestIds) const;
    bool waitLogged(const QList<HttpResponse> &responses) const;

    std::unique_ptr<ApiFixture> m_api;
};

void TestRequestLogApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
    QVERIFY(m_api->server().server().requestLog());
}

void TestRequestLogApi::cleanup()
{
    m_api.reset();
}

QJsonObject TestRequestLogApi::entryFor(const QByteArray &id) const
{
    if (!waitLogged(QList<QByteArray> {id}))
        return {};
    const HttpResponse r
        = admin().get(requestsPath(filterQuery(QStringLiteral("requestId = '%1'").arg(QLatin1String(id)))));
    const QJsonArray items = bodyIfOk(r, "list requests").value(u"items").toArray();
    if (items.size() != 1) {
        qWarning("%lld entries for request id %s", qint64(items.size()), id.constData());
        return {};
    }
    return items.first().toObject();
}

bool TestRequestLogApi::waitLogged(const QList<HttpResponse> &responses) const
{
    QList<QByteArray> requestIds;
    for (const HttpResponse &r : responses)
        requestIds.append(r.header("x-request-id"));
    return waitLogged(requestIds);
}

bool TestRequestLogApi::waitLogged(const QList<QByteArray> &requestIds) const
{
    // A request's entry is queued just after its answer is written, on the server's thread: the
    // listing that follows may come a moment too soon. Bounded: 200 tries, 10 ms apart.
    QStringList terms;
    for (const QByteArray &id : requestIds)
        terms.append(QStringLiteral("requestId = '%1'").arg(QLatin1String(id)));
    const QByteArray query = filterQuery(terms.join(QStringLiteral(" || ")), "skipTotal=0");
    for (int attempt = 0; attempt < 200; ++attempt) {
        const HttpResponse r = admin().get(requestsPath(query));
        if (r.status == 200 && r.json().value(u"totalItems").toInt() == requestIds.size())
            return true;
        QTest::qWait(10);
    }
    qWarning() << "not all logged:" << requestIds;
    return false;
}

void TestRequestLogApi::logsEachCallerWithItsFields()
{
    QString keyId;
    const QString key = issueKey(admin(), {QStringLiteral("logs:read")}, &keyId);
    QVERIFY(!key.isEmpty());
    const QString superuserId = bodyIfOk(admin().get("/api/collections/_superusers/records"), "list superusers")
                                    .value(u"items")
                                    .toArray()
                                    .first()
                                    .toObject()
                                    .value(u"id")
                                    .toString();
    QVERIFY(!superuserId.isEmpty());

    // A guest, with a secret in the query string; a key; the superuser.
    const qint64 startedMs = QDateTime::currentMSecsSinceEpoch();
    const HttpResponse guest = m_api->guest().get("/api/health?token=s3cret-in-query");
    const HttpResponse byKey = ApiClient(m_api->server(), "Bearer " + key.toUtf8()).get(requestsPath("perPage=1"));
    const HttpResponse bySuperuser = admin().get("/api/collections/users/records?perPage=1");
    for (const HttpResponse *r : {&guest, &byKey, &bySuperuser}) {
        QVERIFY2(r->status == 200, summary(*r).constData());
        QVERIFY(!r->header("x-request-id").isEmpty());
        QCOMPARE(r->headerCount("x-request-id"), 1);
    }
    QVERIFY(guest.header("x-request-id") != byKey.header("x-request-id"));

    const QJsonObject g = entryFor(guest.header("x-request-id"));
    QCOMPARE(g.value(u"method").toString(), QStringLiteral("GET"));
    QCOMPARE(g.value(u"path").toString(), QStringLiteral("/api/health"));
    QCOMPARE(g.value(u"route").toString(), QStringLiteral("/api/health"));
    QCOMPARE(g.value(u"status").toInt(), 200);
    QCOMPARE(g.value(u"client").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(g.value(u"caller").toString(), QStringLiteral("guest"));
    QVERIFY(g.value(u"bytesIn").toInteger() > 20);
    QVERIFY(g.value(u"bytesOut").toInteger() > guest.body.size()); // the head as well
    QVERIFY(g.value(u"durationUs").toInteger() >= 0);
    // When it was dispatched (the wall clock's Unix ms), and as the audit log shows times.
    const qint64 timeMs = g.value(u"timeMs").toInteger();
    QVERIFY(timeMs >= startedMs && timeMs <= QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(g.value(u"time").toString(), Store::AuditLog::timestamp(timeMs));

    const QJsonObject k = entryFor(byKey.header("x-request-id"));
    QCOMPARE(k.value(u"caller").toString(), QStringLiteral("apikey:") + keyId);
    QCOMPARE(k.value(u"route").toString(), QStringLiteral("/api/logs/requests"));
    QCOMPARE(k.value(u"path").toString(), QStringLiteral("/api/logs/requests"));

    const QJsonObject s = entryFor(bySuperuser.header("x-request-id"));
    QCOMPARE(s.value(u"caller").toString(), QStringLiteral("superuser:") + superuserId);
    QCOMPARE(s.value(u"route").toString(), QStringLiteral("/api/collections/{c}/records"));
    QCOMPARE(s.value(u"path").toString(), QStringLiteral("/api/collections/users/records"));

    // The query string is stored nowhere.
    const HttpResponse secret = admin().get(requestsPath(filterQuery(QStringLiteral("path ~ 's3cret'"))));
    QCOMPARE(bodyIfOk(secret, "search").value(u"totalItems").toInt(), 0);
}

void TestRequestLogApi::logsUnmatchedRefusedAndStreamed()
{
    const HttpResponse unmatched = m_api->guest().get("/api/no/such/thing");
    QCOMPARE(unmatched.status, 404);
    const HttpResponse refused = m_api->guest().get(requestsPath());
    QCOMPARE(refused.status, 401);
    const HttpResponse notAllowed = m_api->guest().send("DELETE", "/api/health");
    QCOMPARE(notAllowed.status, 405);
    // A streamed response, read to its end: over HTTP/1.0 the close delimits it.
    const QByteArray token = m_api->server().login(kSuperuserEmail, kSuperuserPassword);
    QByteArray exportRequest
        = httpRequest("GET", "/api/collections/users/export", {}, {{"Authorization", "Bearer " + token}});
    exportRequest.replace("HTTP/1.1\r\n", "HTTP/1.0\r\n");
    RawClient client;
    QVERIFY(client.connectTo(m_api->server().port()) && client.send(exportRequest));
    const HttpResponse streamed = client.readResponse();
    QVERIFY2(streamed.status == 200, summary(streamed).constData());
    QCOMPARE(streamed.headerCount("x-request-id"), 1);
    const HttpResponse head = admin().send("HEAD", "/api/collections/users/export");
    QCOMPARE(head.status, 200);

    const QJsonObject u = entryFor(unmatched.header("x-request-id"));
    QCOMPARE(u.value(u"route").toString(), QStringLiteral("(unmatched)"));
    QCOMPARE(u.value(u"path").toString(), QStringLiteral("/api/no/such/thing"));
    QCOMPARE(u.value(u"status").toInt(), 404);
    const QJsonObject r = entryFor(refused.header("x-request-id"));
    QCOMPARE(r.value(u"status").toInt(), 401);
    QCOMPARE(r.value(u"caller").toString(), QStringLiteral("guest"));
    const QJsonObject n = entryFor(notAllowed.header("x-request-id"));
    QCOMPARE(n.value(u"method").toString(), QStringLiteral("DELETE"));
    QCOMPARE(n.value(u"status").toInt(), 405);
    const QJsonObject e = entryFor(streamed.header("x-request-id"));
    QCOMPARE(e.value(u"route").toString(), QStringLiteral("/api/collections/{c}/export"));
    QCOMPARE(e.value(u"status").toInt(), 200);
    QVERIFY(e.value(u"bytesOut").toInteger() > streamed.body.size());
    QCOMPARE(entryFor(head.header("x-request-id")).value(u"method").toString(), QStringLiteral("HEAD"));
}

void TestRequestLogApi::keepsAnAcceptableClientRequestId()
{
    const HttpResponse own = m_api->guest().send("GET", "/api/health", {}, {{"X-Request-Id", "trace-7.a_B"}});
    QCOMPARE(own.header("x-request-id"), QByteArray("trace-7.a_B"));
    QCOMPARE(entryFor("trace-7.a_B").value(u"path").toString(), QStringLiteral("/api/health"));

    // Not one of ours to keep: replaced, and logged under the replacement.
    const HttpResponse bad = m_api->guest().send("GET", "/api/health", {}, {{"X-Request-Id", "two words"}});
    const QByteArray replaced = bad.header("x-request-id");
    QVERIFY(!replaced.isEmpty() && replaced != "two words");
    QVERIFY(
        QRegularExpression(QStringLiteral("^[a-z0-9]{10}-[0-9a-f]+$")).match(QString::fromLatin1(replaced)).hasMatch());
    QCOMPARE(entryFor(replaced).value(u"status").toInt(), 200);
    const HttpResponse tooLong = m_api->guest().send("GET", "/api/health", {}, {{"X-Request-Id", QByteArray(65, 'a')}});
    QVERIFY(tooLong.header("x-request-id") != QByteArray(65, 'a'));
}

void TestRequestLogApi::filtersByTimeAsTextOrMilliseconds()
{
    QList<HttpResponse> sent;
    for (int n = 0; n < 8; ++n)
        sent.append(m_api->guest().get("/api/health"));
    QVERIFY(waitLogged(sent));
    // Times are the wall clock's at dispatch: the cutoff comes from what was logged.
    const QString health = QStringLiteral("route = '/api/health'");
    const QJsonArray items = bodyIfOk(admin().get(requestsPath(filterQuery(health, "sort=id&perPage=500"))), "health")
                                 .value(u"items")
                                 .toArray();
    QVERIFY(items.size() >= 8);
    const qint64 cutoff = items.at(items.size() / 2).toObject().value(u"timeMs").toInteger();
    QList<qint64> later;
    QList<qint64> earlier;
    for (const QJsonValue &item : items)
        (item.toObject().value(u"timeMs").toInteger() >= cutoff ? later : earlier)
            .append(item.toObject().value(u"id").toInteger());

    const QString byMs = QStringLiteral("timeMs >= %1 && %2").arg(cutoff).arg(health);
    const QString byText = QStringLiteral("time >= '%1' && %2").arg(Store::AuditLog::timestamp(cutoff), health);
    const QString before = QStringLiteral("timeMs < %1 && %2").arg(cutoff).arg(health);
    QCOMPARE(ids(bodyIfOk(admin().get(requestsPath(filterQuery(byMs, "sort=id"))), "by ms")), later);
    QCOMPARE(ids(bodyIfOk(admin().get(requestsPath(filterQuery(byText, "sort=id"))), "by text")), later);
    QCOMPARE(ids(bodyIfOk(admin().get(requestsPath(filterQuery(before, "sort=id"))), "before")), earlier);
    // Sorting by either time agrees with the order of dispatch times.
    const QList<qint64> byTime
        = ids(bodyIfOk(admin().get(requestsPath(filterQuery(health, "sort=-time,-id"))), "sort"));
    const QList<qint64> byTimeMs
        = ids(bodyIfOk(admin().get(requestsPath(filterQuery(health, "sort=-timeMs,-id"))), "sort ms"));
    QCOMPARE(byTime, byTimeMs);
    QCOMPARE(byTime.size(), items.size());
}

void TestRequestLogApi::filtersSortsAndPages()
{
    // Three 404s and two 200s, after whatever the fixture's start did.
    QList<HttpResponse> sent;
    for (const char *target : {"/api/nope/1", "/api/health", "/api/nope/2", "/api/health", "/api/nope/3"})
        sent.append(m_api->guest().get(target));
    QVERIFY(waitLogged(sent));

    const QJsonObject all = bodyIfOk(admin().get(requestsPath(filterQuery(kNotListings))), "all");
    const QList<qint64> newestFirst = ids(all);
    QVERIFY(newestFirst.size() >= 5);
    QVERIFY(std::is_sorted(newestFirst.rbegin(), newestFirst.rend())); // default: highest id first

    const QJsonObject missing = bodyIfOk(
        admin().get(requestsPath(filterQuery(QStringLiteral("status = 404 && route = '(unmatched)'"), "sort=path"))),
        "404s");
    QCOMPARE(missing.value(u"totalItems").toInt(), 3);
    QStringList paths;
    for (const QJsonValue &item : missing.value(u"items").toArray())
        paths.append(item.toObject().value(u"path").toString());
    QCOMPARE(
        paths,
        (QStringList {QStringLiteral("/api/nope/1"), QStringLiteral("/api/nope/2"), QStringLiteral("/api/nope/3")}));

    // Pages of two over the same filter: 2, 1, then none; totals as PocketBase gives them.
    const QString unmatched = QStringLiteral("route = '(unmatched)'");
    const QJsonObject first = bodyIfOk(admin().get(requestsPath(filterQuery(unmatched, "perPage=2&sort=id"))), "p1");
    const QJsonObject second
        = bodyIfOk(admin().get(requestsPath(filterQuery(unmatched, "perPage=2&page=2&sort=id"))), "p2");
    QCOMPARE(first.value(u"totalPages").toInt(), 2);
    QCOMPARE(first.value(u"perPage").toInt(), 2);
    QCOMPARE(ids(first).size(), 2);
    QCOMPARE(ids(second).size(), 1);
    QVERIFY(ids(first).last() < ids(second).first());
    const QJsonObject skipped = bodyIfOk(admin().get(requestsPath(filterQuery(unmatched, "skipTotal=1"))), "skipTotal");
    QCOMPARE(skipped.value(u"totalItems").toInt(), -1);
    QCOMPARE(ids(skipped).size(), 3);

    // Caller and method filters.
    const QJsonObject guests = bodyIfOk(
        admin().get(requestsPath(filterQuery(QStringLiteral("caller = 'guest' && method = 'GET' && ") + kNotListings))),
        "guests");
    QCOMPARE(guests.value(u"totalItems").toInt(), 5);
    const QJsonObject superusers
        = bodyIfOk(admin().get(requestsPath(filterQuery(QStringLiteral("caller ~ 'superuser:%'")))), "superusers");
    QVERIFY(superusers.value(u"totalItems").toInt() >= 1); // the listings above
}

void TestRequestLogApi::keyNeedsLogsRead()
{
    const QString reader = issueKey(admin(), {QStringLiteral("logs:read")});
    const QString other = issueKey(admin(), {QStringLiteral("metrics:read")});
    QVERIFY(!reader.isEmpty() && !other.isEmpty());
    const HttpResponse allowed = ApiClient(m_api->server(), "Bearer " + reader.toUtf8()).get(requestsPath());
    QVERIFY2(allowed.status == 200, summary(allowed).constData());
    QVERIFY(allowed.json().value(u"totalItems").toInt() > 0);
    const HttpResponse refused = ApiClient(m_api->server(), "Bearer " + other.toUtf8()).get(requestsPath());
    QVERIFY2(isProblem(refused, 403), summary(refused).constData());
    QVERIFY2(isProblem(m_api->guest().get(requestsPath()), 401), "a guest");
    // The log is read-only.
    QCOMPARE(admin().remove(requestsPath()).status, 405);
}

void TestRequestLogApi::badParametersAre400()
{
    const QList<QByteArray> queries {QByteArray("filter=") + encoded(QStringLiteral("secret = 'x'")),
                                     QByteArray("filter=") + encoded(QStringLiteral("status =")),
                                     QByteArray("sort=-nosuch"), QByteArray("page=x")};
    for (const QByteArray &query : queries) {
        const HttpResponse r = admin().get(requestsPath(query));
        QVERIFY2(isProblem(r, 400), QByteArray(query + ": " + summary(r)).constData());
    }
}

void TestRequestLogApi::metricsCountTheLog()
{
    QVERIFY(waitLogged({m_api->guest().get("/api/health")}));
    Store::RequestLog &log = *m_api->server().server().requestLog();
    log.flush();
    QVERIFY(log.writtenCount() > 0);
    QCOMPARE(log.droppedCount(), quint64(0));
    const HttpResponse r = admin().get("/metrics");
    QVERIFY2(r.status == 200, summary(r).constData());
    const QRegularExpression written(QStringLiteral("^outpost_log_entries_written_total\\{log=\"request\"\\} (\\d+)$"),
                                     QRegularExpression::MultilineOption);
    const QRegularExpressionMatch m = written.match(QString::fromUtf8(r.body));
    QVERIFY2(m.hasMatch(), r.body.constData());
    QVERIFY(m.captured(1).toLongLong() > 0);
    QVERIFY(r.body.contains("outpost_log_entries_dropped_total{log=\"request\"} 0\n"));
    QVERIFY(r.body.contains("outpost_log_entries_dropped_total{log=\"audit\"} 0\n"));
}

void TestRequestLogApi::switchedOffLogsNothing()
{
    m_api.reset();
    TestServer::Options options;
    options.configure = [](Config &config) { config.requestLog = false; };
    TestServer server(options);
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QVERIFY(!server.server().requestLog());
    const HttpResponse r = server.get("/api/health");
    QCOMPARE(r.status, 200);
    QVERIFY(!r.header("x-request-id").isEmpty()); // ids are still handed out
    server.server().stop();
    // Stopped: whatever was queued would have been written by now.
    auto store = Store::Store::open({server.dataDir(), Durability::Normal});
    QVERIFY(store.ok());
    qint64 rows = -1;
    QVERIFY((*store)->readLog([&](Store::Database &db) -> Status {
        auto count = db.prepare("SELECT count(*) FROM requests");
        if (!count)
            return count.error();
        if (auto row = count->step(); !row)
            return row.error();
        rows = count->int64(0);
        return {};
    }));
    QCOMPARE(rows, qint64(0));
}

QTEST_GUILESS_MAIN(TestRequestLogApi)
#include "tst_requestlogapi.moc"
