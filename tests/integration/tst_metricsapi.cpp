// The metrics routes end to end over HTTP: requests of known routes and statuses show up with exact
// counts in GET /metrics, which `promtool check metrics` accepts; the summary after a tick of the
// series (time moved on the fixture's ManualClock); bad windows; which keys may read them; and the
// minute series surviving a restart. Which caller gets 401/403 is tst_permissions' table.
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>
#include <memory>

#include "apifixture.h"
#include "observe/metrics.h"
#include "observe/prometheus.h"
#include "server/server.h"
#include "server/servermetrics.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kMinute = 60 * kSecond;

// The value of the sample `name{labels}` in an exposition, or -1 when it is absent.
qint64 sampleValue(const QByteArray &text, const QByteArray &series)
{
    const QByteArray prefix = series + ' ';
    for (const QByteArray &line : text.split('\n'))
        if (line.startsWith(prefix))
            return line.mid(series.size() + 1).toLongLong();
    return -1;
}

QByteArray requests(const char *route, const char *method, const char *status)
{
    return QByteArray("outpost_http_requests_total{route=\"") + route + "\",method=\"" + method + "\",status=\""
        + status + "\"}";
}

} // namespace

class TestMetricsApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void countsEveryAnsweredRequest();
    void promtoolFindsNothing();
    void storeTimeIsRecorded();
    void openOnLoopbackWhenConfigured();
    void keyNeedsMetricsRead();
    void summarizesAfterATick();
    void badWindowIs400();
    void minutesSurviveARestart();

private:
    // A few requests of known routes and statuses, from a guest.
    void makeTraffic();
    QByteArray scrape() const;
    void tick(qint64 advanceMs);

    std::unique_ptr<ApiFixture> m_api;
};

void TestMetricsApi::init()
{
    m_api = std::make_unique<ApiFixture>();
    QVERIFY2(m_api->start(), qPrintable(m_api->errorString()));
}

void TestMetricsApi::cleanup()
{
    m_api.reset();
}

void TestMetricsApi::makeTraffic()
{
    for (int i = 0; i < 3; ++i)
        QCOMPARE(m_api->guest().get("/api/health").status, 200);
    QCOMPARE(m_api->guest().get("/api/nowhere").status, 404);
    QCOMPARE(m_api->guest().get("/api/nowhere/either").status, 404);
    QCOMPARE(m_api->guest().remove("/api/health").status, 405);
    QCOMPARE(m_api->guest().get("/api/collections").status, 401);
}

QByteArray TestMetricsApi::scrape() const
{
    const HttpResponse r = m_api->admin().get("/metrics");
    if (r.status != 200) {
        qWarning("scrape failed: %s", summary(r).constData());
        return {};
    }
    return r.body;
}

void TestMetricsApi::tick(qint64 advanceMs)
{
    m_api->clock().advanceMs(advanceMs);
    m_api->server().server().metrics().tick();
}

void TestMetricsApi::countsEveryAnsweredRequest()
{
    makeTraffic();
    const HttpResponse r = m_api->admin().get("/metrics");
    QVERIFY2(r.status == 200, summary(r).constData());
    QCOMPARE(r.header("Content-Type"), Observe::prometheusContentType());
    // A response is counted right after it is written: the client may see it a moment before.
    QTRY_COMPARE(sampleValue(scrape(), requests("/api/collections", "GET", "4xx")), 1); // the last one
    const QByteArray text = scrape();
    QCOMPARE(sampleValue(text, requests("/api/health", "GET", "2xx")), 3);
    QCOMPARE(sampleValue(text, requests("(unmatched)", "GET", "4xx")), 2);
    QCOMPARE(sampleValue(text, requests("/api/health", "DELETE", "4xx")), 1);
    QCOMPARE(sampleValue(text, requests("/api/health", "GET", "5xx")), -1);
    QVERIFY(sampleValue(text, "outpost_http_requests_by_caller_total{caller=\"guest\"}") >= 7);
    QVERIFY(sampleValue(text, "outpost_http_requests_by_caller_total{caller=\"superuser\"}") >= 1);
    QVERIFY(sampleValue(text, "outpost_http_request_bytes_total") > 0);
    QVERIFY(sampleValue(text, "outpost_http_response_bytes_total") > 0);
    QVERIFY(sampleValue(text, "outpost_http_request_duration_seconds_count{route=\"/api/health\",method=\"GET\"}")
            == 3);
}

void TestMetricsApi::storeTimeIsRecorded()
{
    // Reads on the network thread (a records list), writes through data.db's writer (a record
    // create) and work on a worker pool (a login) each book the store time of their request. The
    // scraper is an API key, checked against the key cache: its scrapes never touch the store. A
    // request is booked just after its answer, possibly after the next request was served: poll.
    const ApiClient scraper(m_api->server(),
                            "Bearer " + issueKey(m_api->admin(), {QStringLiteral("metrics:read")}).toLatin1());
    const auto storeCount
        = [&scraper] { return sampleValue(scraper.get("/metrics").body, "outpost_store_duration_seconds_count"); };
    QTRY_VERIFY(storeCount() >= 2); // the fixture's login, and the key's creation
    qint64 expected = storeCount();
    QCOMPARE(m_api->admin().get("/api/collections/users/records").status, 200);
    ++expected; // the session check and the list: one request, one sample
    QTRY_COMPARE(storeCount(), expected);
    const HttpResponse created = m_api->admin().post(
        "/api/collections/users/records",
        object(R"j({"email":"s@example.com","password":"store time 123","passwordConfirm":"store time 123"})j"));
    QVERIFY2(created.status == 200, summary(created).constData());
    ++expected;
    QTRY_COMPARE(storeCount(), expected);
    QVERIFY(!m_api->server().login(kSuperuserEmail, kSuperuserPassword).isEmpty());
    ++expected;
    QTRY_COMPARE(storeCount(), expected);
    // Requests that never touch the store do not count.
    QCOMPARE(m_api->guest().get("/api/nowhere").status, 404);
    QCOMPARE(scraper.get("/metrics").status, 200);
    QCOMPARE(storeCount(), expected);
}

void TestMetricsApi::openOnLoopbackWhenConfigured()
{
    // Off (the fixture's default): a guest on loopback is refused.
    QCOMPARE(m_api->guest().get("/metrics").status, 401);
    TestServer::Options options;
    options.configure = [](Config &config) { config.metricsOpenOnLoopback = true; };
    TestServer open(options);
    QVERIFY2(open.start(), qPrintable(open.errorString()));
    const HttpResponse scrape = open.get("/metrics");
    QCOMPARE(scrape.status, 200);
    QVERIFY(scrape.body.contains("outpost_http_requests_total"));
    // Only the exposition, and not for what a proxy on this machine forwards from elsewhere.
    QCOMPARE(open.get("/api/metrics/summary").status, 401);
    for (const char *header : {"X-Forwarded-For", "Forwarded", "X-Real-IP"})
        QCOMPARE(open.roundTrip(httpRequest("GET", "/metrics", {}, {{header, "203.0.113.9"}})).status, 401);
}

void TestMetricsApi::promtoolFindsNothing()
{
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (promtool.isEmpty())
        QFAIL("promtool is not on PATH: install Debian's `prometheus` package (packaging/outpost-dev.sh)");
    makeTraffic();
    QVERIFY(!issueKey(m_api->admin(), {QStringLiteral("metrics:read")}).isEmpty());
    const QByteArray text = scrape();
    QVERIFY(!text.isEmpty());
    // The probes: the scrape's own connection is open; no rate limit refused anything.
    QVERIFY(sampleValue(text, "outpost_http_open_connections") >= 1);
    QCOMPARE(sampleValue(text, "outpost_rate_limited_requests_total{group=\"auth\"}"), 0);

    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY(p.waitForStarted());
    p.write(text);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(60'000));
    const QByteArray said = p.readAll();
    QVERIFY2(said.isEmpty(), said.constData());
    QCOMPARE(p.exitCode(), 0);
}

void TestMetricsApi::keyNeedsMetricsRead()
{
    const QString reader = issueKey(m_api->admin(), {QStringLiteral("metrics:read")});
    const QString other = issueKey(m_api->admin(), {QStringLiteral("logs:read")});
    QVERIFY(!reader.isEmpty() && !other.isEmpty());
    const ApiClient withScope(m_api->server(), "Bearer " + reader.toUtf8());
    const ApiClient without(m_api->server(), "Bearer " + other.toUtf8());
    for (const QByteArray &path : {QByteArray("/metrics"), QByteArray("/api/metrics/summary")}) {
        const HttpResponse allowed = withScope.get(path);
        QVERIFY2(allowed.status == 200, summary(allowed).constData());
        const HttpResponse refused = without.get(path);
        QVERIFY2(isProblem(refused, 403), summary(refused).constData());
        QVERIFY2(isProblem(m_api->guest().get(path), 401), path.constData());
    }
    // The key's requests are counted under its id.
    QTRY_VERIFY(scrape().contains("outpost_apikey_requests_total{key=\""));
}

void TestMetricsApi::summarizesAfterATick()
{
    makeTraffic();
    // A response is counted right after it is written: the client may see it a moment before.
    const Observe::Metrics &metrics = m_api->server().server().metrics().metrics();
    QTRY_VERIFY(metrics.totals().byClass[3] >= 4);
    tick(2 * kSecond);
    const QJsonObject body = bodyIfOk(m_api->admin().get("/api/metrics/summary?window=5m"), "summary");
    QCOMPARE(body.value(u"window").toString(), QStringLiteral("5m"));
    QVERIFY(body.value(u"requests").toInteger() >= 7);
    QVERIFY(body.value(u"clientErrors").toInteger() >= 4);
    QCOMPARE(body.value(u"serverErrors").toInteger(), 0);
    QVERIFY(body.value(u"latencyMs").toObject().value(u"p50").toDouble() > 0);
    QVERIFY(!body.value(u"topRoutes").toArray().isEmpty());
    // The default window is 5m; the others answer too.
    QCOMPARE(bodyIfOk(m_api->admin().get("/api/metrics/summary"), "default").value(u"window").toString(),
             QStringLiteral("5m"));
    for (const char *window : {"1h", "24h", "7d"}) {
        const QJsonObject other
            = bodyIfOk(m_api->admin().get(QByteArray("/api/metrics/summary?window=") + window), window);
        QCOMPARE(other.value(u"window").toString(), QString::fromLatin1(window));
        QVERIFY(other.value(u"requests").toInteger() >= 7);
    }
}

void TestMetricsApi::badWindowIs400()
{
    for (const QByteArray &window : {QByteArray("bogus"), QByteArray(""), QByteArray("5M"), QByteArray("30d")}) {
        const HttpResponse r = m_api->admin().get("/api/metrics/summary?window=" + window);
        QVERIFY2(isProblem(r, 400), summary(r).constData());
    }
}

void TestMetricsApi::minutesSurviveARestart()
{
    makeTraffic();
    tick(2 * kMinute); // closes the minute of the traffic
    Server &server = m_api->server().server();
    server.stop(0);
    QVERIFY(server.start());
    const QByteArray token = m_api->server().login(kSuperuserEmail, kSuperuserPassword);
    QVERIFY(!token.isEmpty());
    tick(kSecond);
    const QJsonObject body
        = bodyIfOk(ApiClient(m_api->server(), "Bearer " + token).get("/api/metrics/summary?window=1h"), "summary");
    QVERIFY2(body.value(u"requests").toInteger() >= 7, QJsonDocument(body).toJson().constData());
}

QTEST_GUILESS_MAIN(TestMetricsApi)
#include "tst_metricsapi.moc"
