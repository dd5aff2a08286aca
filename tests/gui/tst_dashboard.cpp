// The Dashboard's traffic charts and tables against a real server: requests over loopback, the
// series ticked by hand on a manual clock.
#include <QAbstractButton>
#include <QChartView>
#include <QDateTimeAxis>
#include <QJsonArray>
#include <QLabel>
#include <QLineSeries>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <memory>

#include "auth/apikeys.h"
#include "consoletest.h"
#include "dashboardpage.h"
#include "data/collections.h"
#include "data/records.h"
#include "mainwindow.h"
#include "store/store.h"
#include "trafficcharts.h"

using namespace Outpost;
using namespace Outpost::Console;
using namespace Outpost::ConsoleTesting;

namespace {

template <typename T> T *child(const QObject *parent, const char *objectName)
{
    return parent->findChild<T *>(QString::fromLatin1(objectName));
}

QLineSeries *series(const QWidget *page, const char *chart, int index)
{
    auto *view = child<QChartView>(page, chart);
    return view ? qobject_cast<QLineSeries *>(view->chart()->series().value(index)) : nullptr;
}

QDateTimeAxis *timeAxis(const QWidget *page, const char *chart)
{
    auto *view = child<QChartView>(page, chart);
    return view ? qobject_cast<QDateTimeAxis *>(view->chart()->axes(Qt::Horizontal).value(0)) : nullptr;
}

qint64 spanMs(const QDateTimeAxis *axis)
{
    return axis->min().msecsTo(axis->max());
}

double sumOfY(const QLineSeries *s)
{
    double sum = 0;
    for (const QPointF &p : s->points())
        sum += p.y();
    return sum;
}

double maxOfY(const QLineSeries *s)
{
    double top = 0;
    for (const QPointF &p : s->points())
        top = qMax(top, p.y());
    return top;
}

// The row of `table` whose cells 0 and 1 are `first` and `second`, or -1.
int rowOf(const QTableWidget *table, const QString &first, const QString &second)
{
    for (int row = 0; row < table->rowCount(); ++row)
        if (table->item(row, 0) && table->item(row, 0)->text() == first && table->item(row, 1)->text() == second)
            return row;
    return -1;
}

} // namespace

class TestDashboard : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void emptyWindowIsReadable();
    void chartsAndTablesShowRequestsMadeOverHttp();
    void windowSelectorChangesTheChartsRange();
    void screenshotUnderLoad();

private:
    // Books what the server counted into the series one second later, as its timer would.
    void tick();
    QByteArray createKey(const QString &name, const QStringList &scopes);

    ManualClock m_clock;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Server> m_server;
};

void TestDashboard::initTestCase()
{
    QLocale::setDefault(QLocale::c()); // figures are compared literally
}

void TestDashboard::init()
{
    // Now, so that the screenshot's axes show real times; half a second in, as the timer ticks.
    m_clock.setMs(QDateTime::currentMSecsSinceEpoch() / 1000 * 1000 + 500);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QString error;
    m_server = startServer(*m_dir, &m_clock, &error);
    QVERIFY2(m_server, qPrintable(error));
}

void TestDashboard::cleanup()
{
    m_server.reset();
    m_dir.reset();
}

void TestDashboard::tick()
{
    m_clock.advanceMs(1000);
    m_server->metrics().tick();
}

QByteArray TestDashboard::createKey(const QString &name, const QStringList &scopes)
{
    auto issued = m_server->apiKeys().create(Auth::NewKey {name, scopes, std::nullopt, {}, QStringLiteral("test")});
    if (!issued) {
        qWarning() << "key creation failed:" << issued.error().message;
        return {};
    }
    return issued->secret.toLatin1();
}

void TestDashboard::emptyWindowIsReadable()
{
    DashboardPage page(*m_server);
    page.show();
    page.refresh();
    QCOMPARE(child<QLabel>(&page, "windowSummaryLabel")->text(),
             QStringLiteral("No requests in the last 5 minutes yet."));
    QVERIFY(child<QTableWidget>(&page, "topRoutesTable")->isHidden());
    QVERIFY(!child<QLabel>(&page, "topRoutesTableEmpty")->isHidden());
    QVERIFY(child<QTableWidget>(&page, "topKeysTable")->isHidden());
    QVERIFY(!child<QLabel>(&page, "topKeysTableEmpty")->isHidden());
    // Before the first tick there are no points, and the axis still spans the window up to now.
    QCOMPARE(series(&page, "requestsChart", 0)->count(), 0);
    QDateTimeAxis *axis = timeAxis(&page, "requestsChart");
    QVERIFY(axis->max().toMSecsSinceEpoch() >= m_clock.nowMs());
    QVERIFY(spanMs(axis) >= 5 * 60'000);

    tick();
    page.refresh();
    QCOMPARE(series(&page, "requestsChart", 0)->count(), 300);
    QCOMPARE(sumOfY(series(&page, "requestsChart", 0)), 0.0);
    QCOMPARE(series(&page, "latencyChart", 0)->count(), 0); // no latency without requests
    QCOMPARE(child<QLabel>(&page, "windowSummaryLabel")->text(),
             QStringLiteral("No requests in the last 5 minutes yet."));
}

void TestDashboard::chartsAndTablesShowRequestsMadeOverHttp()
{
    const QByteArray key = createKey(QStringLiteral("ci-bot"), {QStringLiteral("metrics:read")});
    QVERIFY(!key.isEmpty());
    DashboardPage page(*m_server);
    page.show();

    QList<Get> requests;
    for (int i = 0; i < 5; ++i)
        requests.append({QStringLiteral("/api/health"), {}});
    for (int i = 0; i < 3; ++i)
        requests.append({QStringLiteral("/api/no-such-thing"), {}});
    for (int i = 0; i < 2; ++i)
        requests.append({QStringLiteral("/api/collections"), {}}); // a guest: 401
    for (int i = 0; i < 4; ++i)
        requests.append({QStringLiteral("/api/metrics/summary"), key});
    const QList<int> statuses = getAll(m_server->baseUrl(), requests);
    QCOMPARE(statuses.count(200), 9);
    QCOMPARE(statuses.count(404), 3);
    QCOMPARE(statuses.count(401), 2);
    QTRY_COMPARE(countedRequests(*m_server), quint64(14));
    tick();
    page.refresh();

    QLineSeries *rate = series(&page, "requestsChart", 0);
    QCOMPARE(rate->count(), 300);
    QCOMPARE(sumOfY(rate), 14.0); // one point a second: requests/s add up to the requests
    QVERIFY(maxOfY(series(&page, "latencyChart", 0)) > 0); // p50
    QVERIFY(maxOfY(series(&page, "latencyChart", 2)) >= maxOfY(series(&page, "latencyChart", 0))); // p99 >= p50
    QVERIFY(maxOfY(series(&page, "errorsChart", 0)) > 0); // 4xx
    QCOMPARE(maxOfY(series(&page, "errorsChart", 1)), 0.0); // no 5xx
    const QString summary = child<QLabel>(&page, "windowSummaryLabel")->text();
    QVERIFY2(summary.startsWith(QStringLiteral("14 requests")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("4xx 36%")), qPrintable(summary)); // 5 of 14

    auto *routes = child<QTableWidget>(&page, "topRoutesTable");
    QVERIFY(!routes->isHidden());
    const int health = rowOf(routes, QStringLiteral("/api/health"), QStringLiteral("GET"));
    QVERIFY(health >= 0);
    QCOMPARE(routes->item(health, 2)->text(), QStringLiteral("5"));
    QCOMPARE(routes->item(health, 3)->text(), QStringLiteral("0"));
    const int collections = rowOf(routes, QStringLiteral("/api/collections"), QStringLiteral("GET"));
    QVERIFY(collections >= 0);
    QCOMPARE(routes->item(collections, 3)->text(), QStringLiteral("2"));

    // The key is named once its name has been read in the background.
    auto *keys = child<QTableWidget>(&page, "topKeysTable");
    QVERIFY(!keys->isHidden());
    QCOMPARE(keys->rowCount(), 1);
    QTRY_COMPARE(keys->item(0, 0)->text(), QStringLiteral("ci-bot"));
    QCOMPARE(keys->item(0, 2)->text(), QStringLiteral("4"));
    QCOMPARE(keys->item(0, 3)->text(), QStringLiteral("29%")); // 4 of 14
}

void TestDashboard::windowSelectorChangesTheChartsRange()
{
    DashboardPage page(*m_server);
    page.show();
    QCOMPARE(getAll(m_server->baseUrl(), {{QStringLiteral("/api/health"), {}}}), QList<int> {200});
    QTRY_COMPARE(countedRequests(*m_server), quint64(1));
    tick();

    struct Case
    {
        const char *button;
        Observe::Window window;
        qsizetype points;
        qint64 tickMs; // the axis reaches out to the next tick on either side
    };
    const Case cases[] = {{"window1h", Observe::Window::Hour, 60, 10 * 60'000},
                          {"window24h", Observe::Window::Day, 24 * 60, 4 * 3600'000},
                          {"window7d", Observe::Window::Week, 7 * 24 * 60, 24 * 3600'000},
                          {"window5m", Observe::Window::FiveMinutes, 300, 60'000}};
    for (const Case &c : cases) {
        child<QAbstractButton>(&page, c.button)->click();
        QCOMPARE(page.window(), c.window);
        QVERIFY(child<QAbstractButton>(&page, c.button)->isChecked());
        for (const char *chart : {"requestsChart", "latencyChart", "errorsChart"}) {
            const qint64 span = spanMs(timeAxis(&page, chart));
            const qint64 window = TrafficCharts::windowMs(c.window);
            QVERIFY2(span >= window && span <= window + 2 * c.tickMs, c.button);
        }
        QCOMPARE(series(&page, "requestsChart", 0)->count(), c.points);
        QVERIFY2(child<QLabel>(&page, "windowSummaryLabel")->text().startsWith(QStringLiteral("1 request · ")),
                 c.button);
    }
}

// Not a test: writes the README's screenshot of the console under load when OUTPOST_SCREENSHOT
// names a PNG file. Five minutes of traffic, compressed: each simulated second is a burst of real
// requests over loopback (reads, some by API keys, a few 404s and 401s), then a tick.
void TestDashboard::screenshotUnderLoad()
{
    const QString out = qEnvironmentVariable("OUTPOST_SCREENSHOT");
    if (out.isEmpty())
        QSKIP("Set OUTPOST_SCREENSHOT=path.png to write the dashboard screenshot.");
    auto posts = m_server->collections().create(
        {{QStringLiteral("name"), QStringLiteral("posts")},
         {QStringLiteral("listRule"), QString()},
         {QStringLiteral("viewRule"), QString()},
         {QStringLiteral("fields"),
          QJsonArray {QJsonObject {{QStringLiteral("name"), QStringLiteral("title")},
                                   {QStringLiteral("type"), QStringLiteral("text")}}}}});
    QVERIFY2(posts, qPrintable(posts ? QString() : posts.error().message));
    const QList<QByteArray> keys {createKey(QStringLiteral("mobile-app"), {QStringLiteral("records:read")}),
                                  createKey(QStringLiteral("reporting"), {QStringLiteral("records:read")}),
                                  createKey(QStringLiteral("ci-bot"), {QStringLiteral("records:read")})};
    QVERIFY(!keys.contains(QByteArray()));

    MainWindow window(*m_server);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    constexpr int kSeconds = 300;
    quint64 sent = 0;
    for (int s = 0; s < kSeconds; ++s) {
        // The clock moves first: the server's own timer, ticking meanwhile, then books into the
        // same second as the tick below.
        m_clock.advanceMs(1000);
        const int burst = 30 + int(18 * std::sin(s / 11.0)) + (s % 7) * 2 + (s % 60 >= 40 && s % 60 < 46 ? 60 : 0);
        QList<Get> requests;
        for (int j = 0; j < burst; ++j) {
            const int pick = (s * 131 + j * 37) % 100;
            if (pick < 50)
                requests.append(
                    {QStringLiteral("/api/collections/posts/records?perPage=20&page=%1").arg(1 + j % 3), {}});
            else if (pick < 60)
                requests.append({QStringLiteral("/api/health"), {}});
            else if (pick < 82)
                requests.append({QStringLiteral("/api/collections/posts/records"),
                                 keys[pick < 72       ? 0
                                          : pick < 79 ? 1
                                                      : 2]});
            else if (pick < 90)
                requests.append({QStringLiteral("/api/collections/posts/records/missing00000000"), {}});
            else if (pick < 96)
                requests.append({QStringLiteral("/api/collections"), {}});
            else
                requests.append({QStringLiteral("/api/no-such-thing"), {}});
        }
        QVERIFY(!getAll(m_server->baseUrl(), requests).contains(0));
        sent += quint64(burst);
        QVERIFY(QTest::qWaitFor([&] { return countedRequests(*m_server) >= sent; }, 10'000));
        m_server->metrics().tick();
    }
    window.dashboardPage()->refresh();
    QTRY_VERIFY(!child<QTableWidget>(&window, "topKeysTable")
                     ->findItems(QStringLiteral("mobile-app"), Qt::MatchExactly)
                     .isEmpty());
    QTest::qWait(50); // let the charts paint
    QVERIFY2(window.grab().save(out, "PNG"), qPrintable(out));
    qInfo("wrote %s", qPrintable(out));
}

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
