// Audit log retention on a real store with a ManualClock: which entries a prune deletes, that 0
// keeps everything, and that the timer's check prunes once per day of the clock, on the pool.
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>
#include <memory>

#include "auth/auditretention.h"
#include "auth/superusers.h"
#include "core/clock.h"
#include "store/store.h"

using namespace Outpost;

namespace {

constexpr qint64 kDay = Auth::AuditRetention::kDayMs;

} // namespace

class TestAuditRetention : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void pruneDeletesOnlyOlderEntries_data();
    void pruneDeletesOnlyOlderEntries();
    void zeroDaysKeepsEverything();
    void startPrunesAtOnce();
    void pruneIfDueRunsOncePerDay();

private:
    // One entry `ageMs` before the clock's now.
    void addEntry(qint64 ageMs, const QString &action = QStringLiteral("auth.login"));
    qint64 entryCount();

    ManualClock m_clock;
    QThreadPool m_pool;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
};

void TestAuditRetention::init()
{
    m_clock.setMs(1'700'000'000'000);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto store = Store::Store::open({m_dir->filePath(QStringLiteral("data")), Durability::Normal});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    m_store = std::move(store).value();
}

void TestAuditRetention::cleanup()
{
    m_pool.waitForDone();
    m_store.reset();
    m_dir.reset();
}

void TestAuditRetention::addEntry(qint64 ageMs, const QString &action)
{
    const Status s = m_store->writeLog([&](Store::Database &db) -> Status {
        auto insert = db.prepare("INSERT INTO audit_log(time, actor, action, target, address, success) "
                                 "VALUES (?, 'cli', ?, '', '', 1)");
        if (!insert)
            return insert.error();
        return insert->bind(1, Auth::Superusers::timestamp(m_clock.nowMs() - ageMs)).bind(2, action).run();
    });
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
}

qint64 TestAuditRetention::entryCount()
{
    qint64 n = -1;
    const Status s = m_store->readLog([&](Store::Database &db) -> Status {
        auto count = db.prepare("SELECT COUNT(*) FROM audit_log");
        if (!count)
            return count.error();
        if (auto row = count->step(); !row)
            return row.error();
        n = count->int64(0);
        return {};
    });
    return s ? n : -1;
}

void TestAuditRetention::pruneDeletesOnlyOlderEntries_data()
{
    QTest::addColumn<int>("days");
    QTest::addColumn<qint64>("ageMs");
    QTest::addColumn<bool>("kept");

    QTest::newRow("new") << 90 << qint64(0) << true;
    QTest::newRow("a day short") << 90 << 89 * kDay << true;
    QTest::newRow("exactly at the cutoff") << 90 << 90 * kDay << true;
    QTest::newRow("a millisecond over") << 90 << 90 * kDay + 1 << false;
    QTest::newRow("a year") << 90 << 365 * kDay << false;
    QTest::newRow("one day, two days old") << 1 << 2 * kDay << false;
    QTest::newRow("one day, 23 hours old") << 1 << 23 * 3600 * 1000LL << true;
}

void TestAuditRetention::pruneDeletesOnlyOlderEntries()
{
    QFETCH(int, days);
    QFETCH(qint64, ageMs);
    QFETCH(bool, kept);
    addEntry(0, QStringLiteral("control"));
    addEntry(ageMs);
    Auth::AuditRetention retention(*m_store, m_clock, days, &m_pool);
    auto pruned = retention.prune();
    QVERIFY2(pruned.ok(), qPrintable(pruned.ok() ? QString() : pruned.error().message));
    QCOMPARE(*pruned, kept ? 0 : 1);
    QCOMPARE(entryCount(), kept ? 2 : 1);
}

void TestAuditRetention::zeroDaysKeepsEverything()
{
    addEntry(10 * 365 * kDay);
    Auth::AuditRetention retention(*m_store, m_clock, 0, &m_pool);
    retention.start();
    auto pruned = retention.prune();
    QVERIFY(pruned.ok());
    QCOMPARE(*pruned, 0);
    m_clock.advanceMs(2 * kDay);
    QVERIFY(!retention.pruneIfDue());
    QCOMPARE(entryCount(), 1);
}

void TestAuditRetention::startPrunesAtOnce()
{
    addEntry(91 * kDay);
    addEntry(kDay);
    Auth::AuditRetention retention(*m_store, m_clock, 90, &m_pool);
    retention.start();
    QCOMPARE(entryCount(), 1);
    QVERIFY(!retention.pruneIfDue()); // it has just run
}

void TestAuditRetention::pruneIfDueRunsOncePerDay()
{
    Auth::AuditRetention retention(*m_store, m_clock, 90, &m_pool);
    retention.start();
    addEntry(89 * kDay + 12 * 3600 * 1000LL); // over the limit in half a day
    m_clock.advanceMs(23 * 3600 * 1000LL);
    QVERIFY(!retention.pruneIfDue()); // not a day since start() pruned
    m_pool.waitForDone();
    QCOMPARE(entryCount(), 1);

    m_clock.advanceMs(3600 * 1000LL);
    QVERIFY(retention.pruneIfDue());
    m_pool.waitForDone();
    QCOMPARE(entryCount(), 0);
    QVERIFY(!retention.pruneIfDue()); // the next one is a day away
}

QTEST_GUILESS_MAIN(TestAuditRetention)
#include "tst_auditretention.moc"
