// The Logs page over a real server's logs.db: a million rows, paged lazily, filtered in SQL.
#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "consoletest.h"
#include "logspage.h"
#include "requestlogmodel.h"
#include "store/sqlite.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Console;
using namespace Outpost::ConsoleTesting;

namespace {

constexpr int kRows = 1'000'000;
constexpr qint64 kStepMs = 100; // between two rows' times

const QString kRoutes[] = {QStringLiteral("/api/health"), QStringLiteral("/api/collections/{collection}/records"),
                           QStringLiteral("/api/collections/{collection}/records/{id}"), QStringLiteral("/api/keys")};
const QString kCallers[] = {QStringLiteral("apikey:key1"), QStringLiteral("apikey:key2"),
                            QStringLiteral("superuser:su1"), QStringLiteral("user:posts:u1"), QStringLiteral("guest")};

// Row i (0-based) has id i + 1; every 50th is a 500, else i % 10 == 3 a 404 and i % 10 == 7 a 401.
int statusOf(int i)
{
    return i % 50 == 0 ? 500 : i % 10 == 3 ? 404 : i % 10 == 7 ? 401 : 200;
}

// `count` rows in one logs.db transaction, from `baseMs` on, kStepMs apart.
Status fillRequestLog(Store::Store &store, int count, qint64 baseMs, int firstIndex = 0)
{
    return store.writeLog([&](Store::Database &db) -> Status {
        auto insert = db.prepare("INSERT INTO requests(id, time, method, path, route, status, duration_us, client,"
                                 " caller, request_id, bytes_in, bytes_out) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
        if (!insert)
            return insert.error();
        const QString client = QStringLiteral("127.0.0.1");
        for (int i = firstIndex; i < firstIndex + count; ++i) {
            insert->bind(1, qint64(i) + 1)
                .bind(2, baseMs + i * kStepMs)
                .bind(3, i % 2 ? QStringLiteral("POST") : QStringLiteral("GET"))
                .bind(4, QStringLiteral("/p/%1").arg(i))
                .bind(5, kRoutes[i % 4])
                .bind(6, statusOf(i))
                .bind(7, qint64(100 + i % 5000))
                .bind(8, client)
                .bind(9, kCallers[i % 5])
                .bind(10, QStringLiteral("r%1").arg(i))
                .bind(11, qint64(100))
                .bind(12, qint64(200));
            if (auto s = insert->run(); !s)
                return s;
        }
        return {};
    });
}

template <typename T> T *child(const QObject *parent, const char *objectName)
{
    return parent->findChild<T *>(QString::fromLatin1(objectName));
}

} // namespace

class TestLogsPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void parsesStatusFilters_data();
    void parsesStatusFilters();
    void formatsDurations();
    void emptyLogSaysSo();
    void invalidStatusIsShownAndNotApplied();
    void millionRowsArePagedAndFiltered();

private:
    // Applies the page's filter controls now and waits for the first page.
    void applyAndWait(LogsPage &page);
    void setFilters(LogsPage &page, const QString &status, const QString &route, const QString &caller);
    // Every loaded row satisfies `predicate` and the rows are newest first.
    template <typename Predicate> bool allRows(const RequestLogModel *model, Predicate predicate);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Server> m_server;
};

void TestLogsPage::initTestCase()
{
    QLocale::setDefault(QLocale::c());
}

void TestLogsPage::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QString error;
    m_server = startServer(*m_dir, nullptr, &error);
    QVERIFY2(m_server, qPrintable(error));
}

void TestLogsPage::cleanup()
{
    m_server.reset();
    m_dir.reset();
}

void TestLogsPage::applyAndWait(LogsPage &page)
{
    page.applyFilters();
    QTRY_VERIFY_WITH_TIMEOUT(!page.model()->isLoading(), 60'000);
}

void TestLogsPage::setFilters(LogsPage &page, const QString &status, const QString &route, const QString &caller)
{
    child<QComboBox>(&page, "statusFilter")->setCurrentText(status);
    child<QComboBox>(&page, "routeFilter")->setCurrentText(route);
    child<QComboBox>(&page, "callerFilter")->setCurrentText(caller);
}

template <typename Predicate> bool TestLogsPage::allRows(const RequestLogModel *model, Predicate predicate)
{
    for (int row = 0; row < model->rowCount(); ++row) {
        const RequestLogEntry &e = model->entry(row);
        if (!predicate(e))
            return false;
        if (row > 0 && model->entry(row - 1).timeMs < e.timeMs)
            return false;
    }
    return true;
}

void TestLogsPage::parsesStatusFilters_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("min"); // -1: invalid
    QTest::addColumn<int>("max");
    QTest::newRow("empty") << QString() << 0 << 0;
    QTest::newRow("any") << QStringLiteral("Any status") << 0 << 0;
    QTest::newRow("class") << QStringLiteral("4xx") << 400 << 499;
    QTest::newRow("class upper") << QStringLiteral(" 5XX ") << 500 << 599;
    QTest::newRow("code") << QStringLiteral("404") << 404 << 404;
    QTest::newRow("no class 6") << QStringLiteral("6xx") << -1 << -1;
    QTest::newRow("short") << QStringLiteral("40") << -1 << -1;
    QTest::newRow("words") << QStringLiteral("errors") << -1 << -1;
}

void TestLogsPage::parsesStatusFilters()
{
    QFETCH(QString, text);
    QFETCH(int, min);
    QFETCH(int, max);
    const auto parsed = RequestLogFilter::parseStatus(text);
    if (min < 0) {
        QVERIFY(!parsed);
        return;
    }
    QVERIFY(parsed);
    QCOMPARE(parsed->first, min);
    QCOMPARE(parsed->second, max);
}

void TestLogsPage::formatsDurations()
{
    QCOMPARE(RequestLogModel::formatDuration(412), QStringLiteral("412 µs"));
    QCOMPARE(RequestLogModel::formatDuration(1234), QStringLiteral("1.23 ms"));
    QCOMPARE(RequestLogModel::formatDuration(56'780), QStringLiteral("56.8 ms"));
    QCOMPARE(RequestLogModel::formatDuration(2'500'000), QStringLiteral("2.50 s"));
}

void TestLogsPage::emptyLogSaysSo()
{
    LogsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(!page.model()->isLoading(), 10'000);
    QCOMPARE(page.model()->rowCount(), 0);
    QCOMPARE(page.model()->errorText(), QString());
    QCOMPARE(child<QLabel>(&page, "logSummaryLabel")->text(), QStringLiteral("No requests logged yet."));
}

void TestLogsPage::invalidStatusIsShownAndNotApplied()
{
    LogsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(!page.model()->isLoading(), 10'000);
    child<QComboBox>(&page, "statusFilter")->setCurrentText(QStringLiteral("5x"));
    page.applyFilters();
    QVERIFY(!child<QLabel>(&page, "filterErrorLabel")->isHidden());
    QVERIFY(!page.model()->isLoading());
    QCOMPARE(page.model()->filter().statusMin, 0);
    child<QComboBox>(&page, "statusFilter")->setCurrentText(QStringLiteral("5xx"));
    applyAndWait(page);
    QVERIFY(child<QLabel>(&page, "filterErrorLabel")->isHidden());
    QCOMPARE(page.model()->filter().statusMin, 500);
}

void TestLogsPage::millionRowsArePagedAndFiltered()
{
    const qint64 baseMs = (m_server->clock().nowMs() / 1000 - kRows * kStepMs / 1000) * 1000;
    const Status filled = fillRequestLog(m_server->store(), kRows, baseMs);
    QVERIFY2(filled.ok(), qPrintable(filled ? QString() : filled.error().message));

    LogsPage page(*m_server);
    page.resize(1200, 700);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    RequestLogModel *model = page.model();
    QTRY_VERIFY_WITH_TIMEOUT(!model->isLoading() && model->rowCount() > 0, 60'000);
    QCOMPARE(model->errorText(), QString());
    QCOMPARE(model->rowCount(), RequestLogModel::kPageSize);
    QCOMPARE(model->entry(0).id, qint64(kRows)); // the newest first
    QCOMPARE(model->index(0, RequestLogModel::Route).data().toString(), kRoutes[(kRows - 1) % 4]);
    QCOMPARE(model->matchCount(), RequestLogModel::kCountCap + 1); // counted no further
    QCOMPARE(child<QLabel>(&page, "logSummaryLabel")->text(),
             QStringLiteral("The newest 200 of more than 100000 matching requests. Scroll down for older ones."));

    // Scrolling to the bottom loads one more page each time, and nothing else.
    auto *table = child<QTableView>(&page, "requestTable");
    for (int pages = 2; pages <= 5; ++pages) {
        table->scrollToBottom();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), pages * RequestLogModel::kPageSize, 30'000);
        QTRY_VERIFY(!model->isLoading());
    }
    QVERIFY(model->rowCount() <= 5 * RequestLogModel::kPageSize); // far from a million
    for (int row = 0; row < model->rowCount(); ++row)
        QCOMPARE(model->entry(row).id, qint64(kRows - row)); // contiguous, newest first

    // A status class: every 50th row is a 500.
    setFilters(page, QStringLiteral("5xx"), QString(), QString());
    applyAndWait(page);
    QCOMPARE(model->matchCount(), kRows / 50);
    QCOMPARE(model->rowCount(), RequestLogModel::kPageSize);
    QCOMPARE(model->entry(0).id, qint64(kRows - 50 + 1));
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.status == 500; }));

    // An exact code.
    setFilters(page, QStringLiteral("404"), QString(), QString());
    applyAndWait(page);
    QCOMPARE(model->matchCount(), kRows / 10);
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.status == 404; }));

    // A route, alone (more than the count goes to) and with the status class.
    setFilters(page, QStringLiteral("Any status"), kRoutes[3], QString());
    applyAndWait(page);
    QCOMPARE(model->matchCount(), RequestLogModel::kCountCap + 1);
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.route == kRoutes[3]; }));
    setFilters(page, QStringLiteral("5xx"), kRoutes[0], QString());
    applyAndWait(page);
    QCOMPARE(model->matchCount(), kRows / 100);
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.route == kRoutes[0] && e.status == 500; }));

    // A caller: a whole kind, one key, a collection's users.
    setFilters(page, QStringLiteral("5xx"), QStringLiteral("Any route"), QStringLiteral("apikey (every API key)"));
    applyAndWait(page);
    QCOMPARE(model->matchCount(), kRows / 50); // every 500 is key1's
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.caller == kCallers[0]; }));
    setFilters(page, QStringLiteral("5xx"), QString(), QStringLiteral("apikey:key2"));
    applyAndWait(page);
    QCOMPARE(model->matchCount(), 0);
    QCOMPARE(model->rowCount(), 0);
    QCOMPARE(child<QLabel>(&page, "logSummaryLabel")->text(), QStringLiteral("No requests match these filters."));
    setFilters(page, QString(), QString(), QStringLiteral("user:posts"));
    applyAndWait(page);
    QCOMPARE(model->entry(0).id, qint64(kRows - 1)); // i = 999,998
    QVERIFY(allRows(model, [](const RequestLogEntry &e) { return e.caller == kCallers[3]; }));

    // A time range of 100 rows: [i = 500,000, i = 500,100).
    setFilters(page, QString(), QString(), QString());
    child<QCheckBox>(&page, "fromEnabled")->setChecked(true);
    child<QDateTimeEdit>(&page, "fromFilter")->setDateTime(QDateTime::fromMSecsSinceEpoch(baseMs + 500'000 * kStepMs));
    child<QCheckBox>(&page, "toEnabled")->setChecked(true);
    child<QDateTimeEdit>(&page, "toFilter")->setDateTime(QDateTime::fromMSecsSinceEpoch(baseMs + 500'100 * kStepMs));
    applyAndWait(page);
    QCOMPARE(model->matchCount(), 100);
    QCOMPARE(model->rowCount(), 100);
    QCOMPARE(model->entry(0).id, qint64(500'100));
    QCOMPARE(model->entry(99).id, qint64(500'001));
    QVERIFY(!model->canFetchMore({}));
    QCOMPARE(child<QLabel>(&page, "logSummaryLabel")->text(), QStringLiteral("100 matching requests."));
    setFilters(page, QStringLiteral("5xx"), QString(), QString());
    applyAndWait(page);
    QCOMPARE(model->rowCount(), 2); // i = 500,050 and 500,000
    QCOMPARE(model->entry(0).id, qint64(500'051));

    // Refresh shows rows logged since.
    setFilters(page, QString(), QString(), QString());
    child<QCheckBox>(&page, "fromEnabled")->setChecked(false);
    child<QCheckBox>(&page, "toEnabled")->setChecked(false);
    applyAndWait(page);
    QCOMPARE(model->entry(0).id, qint64(kRows));
    QVERIFY(fillRequestLog(m_server->store(), 1, baseMs, kRows));
    child<QPushButton>(&page, "refreshButton")->click();
    QTRY_COMPARE_WITH_TIMEOUT(model->entry(0).id, qint64(kRows + 1), 30'000);
}

QTEST_MAIN(TestLogsPage)
#include "tst_logspage.moc"
