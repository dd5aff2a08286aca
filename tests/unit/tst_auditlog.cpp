// Store::AuditLog, the queue in front of logs.db's audit_log: entries are written in batches on the
// log's own thread; a full queue drops and counts (and says so once); a failed batch is dropped and
// counted; flush() waits for what was appended before it; and closing the store writes everything
// still queued. A blocking BatchWriter holds the log's thread where a test needs the queue to fill.
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include "heldwriter.h"
#include "store/auditlog.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Store::AuditEntry;
using Outpost::Store::AuditLog;

namespace {

AuditEntry entry(int n)
{
    return {.timeMs = 1'700'000'000'000 + n,
            .actor = QStringLiteral("apikey:k"),
            .action = QStringLiteral("record.create"),
            .target = QStringLiteral("posts/%1").arg(n),
            .address = QStringLiteral("192.0.2.1"),
            .success = true,
            .details = QJsonObject {{QStringLiteral("n"), n}}};
}

} // namespace

class TestAuditLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void overflowDropsAndCounts();
    void failedBatchIsDroppedAndCounted();
    void flushSeesEveryEarlierEntry();
    void closingTheStoreWritesTheQueue();

private:
    std::unique_ptr<Store::Store> openStore(const QString &dir);
    qint64 countRows(Store::Store &store);
};

std::unique_ptr<Store::Store> TestAuditLog::openStore(const QString &dir)
{
    auto store = Store::Store::open({dir, Durability::Normal});
    if (!store) {
        qWarning("open failed: %s", qPrintable(store.error().message));
        return nullptr;
    }
    return std::move(store).value();
}

qint64 TestAuditLog::countRows(Store::Store &store)
{
    qint64 count = -1;
    const Status s = store.readLog([&count](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT count(*) FROM audit_log");
        if (!select)
            return select.error();
        if (auto row = select->step(); !row)
            return row.error();
        count = select->int64(0);
        return {};
    });
    if (!s)
        qWarning("count failed: %s", qPrintable(s.error().message));
    return count;
}

void TestAuditLog::overflowDropsAndCounts()
{
    HeldWriter<AuditEntry> gate([](const AuditEntry &e) { return e.details.value(u"n").toInt(); });
    AuditLog log([&gate](const std::vector<AuditEntry> &batch) { return gate.write(batch); }, 4);
    log.append(entry(0));
    gate.waitEntered(); // the thread holds entry 0; the queue is empty

    for (int n = 1; n <= 4; ++n)
        log.append(entry(n));
    QCOMPARE(log.droppedCount(), quint64(0));
    // Full: one warning for the whole overflow, however many entries it drops.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("audit queue full")));
    log.append(entry(5));
    log.append({entry(6), entry(7)});
    QCOMPARE(log.droppedCount(), quint64(3));

    // Once the queue drains, the total is reported.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("3 entries were dropped")));
    gate.open();
    log.flush();
    QCOMPARE(gate.batches(), (QList<QList<int>> {{0}, {1, 2, 3, 4}})); // what queued up went in one batch
    QCOMPARE(log.writtenCount(), quint64(5));
    QCOMPARE(log.droppedCount(), quint64(3));

    // The queue takes entries again.
    log.append(entry(8));
    log.flush();
    QCOMPARE(gate.batches().last(), QList<int> {8});
    QCOMPARE(log.droppedCount(), quint64(3));
}

void TestAuditLog::failedBatchIsDroppedAndCounted()
{
    AuditLog log(
        [](const std::vector<AuditEntry> &) { return makeError(ErrorCode::Unavailable, QStringLiteral("disk gone")); });
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("dropped 2 audit entries: disk gone")));
    log.append({entry(1), entry(2)});
    log.flush();
    QCOMPARE(log.droppedCount(), quint64(2));
    QCOMPARE(log.writtenCount(), quint64(0));
}

void TestAuditLog::flushSeesEveryEarlierEntry()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto store = openStore(dir.path());
    QVERIFY(store);
    for (int n = 0; n < 2500; ++n)
        store->auditLog().append(entry(n));
    store->auditLog().flush();
    QCOMPARE(countRows(*store), qint64(2500));
    QCOMPARE(store->auditLog().writtenCount(), quint64(2500));

    // Stored as written: the time in PocketBase's format, the details as a JSON object.
    QString time, details;
    const Status s = store->readLog([&](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT time, details FROM audit_log WHERE target = 'posts/7'");
        if (!select)
            return select.error();
        if (auto row = select->step(); !row)
            return row.error();
        time = select->text(0);
        details = select->text(1);
        return {};
    });
    QVERIFY(s.ok());
    QCOMPARE(time, QStringLiteral("2023-11-14 22:13:20.007Z"));
    QCOMPARE(details, QStringLiteral(R"({"n":7})"));
}

void TestAuditLog::closingTheStoreWritesTheQueue()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    {
        auto store = openStore(dir.path());
        QVERIFY(store);
        for (int n = 0; n < 5000; ++n)
            store->auditLog().append(entry(n));
        // No flush: the store's destructor must write what is still queued.
    }
    auto reopened = openStore(dir.path());
    QVERIFY(reopened);
    QCOMPARE(countRows(*reopened), qint64(5000));
}

QTEST_GUILESS_MAIN(TestAuditLog)
#include "tst_auditlog.moc"
