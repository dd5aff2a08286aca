// Store::RequestLog and the pieces around it: rows stored with every field; batches of at most
// kMaxBatch rows, in order, however much queued up while the writer was busy; a full queue drops and
// counts; retention by age and by size (Store::LogRetention, on a ManualClock) and its schedule;
// and the request ids the engine hands out or accepts. A blocking writer holds the log's thread
// where a test needs the queue to fill.
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QtTest>

#include "core/clock.h"
#include "heldwriter.h"
#include "http/requestid.h"
#include "store/logretention.h"
#include "store/requestlog.h"
#include "store/sqlite.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Store::RequestEntry;
using Outpost::Store::RequestLog;

namespace {

constexpr qint64 kDay = Store::RetentionPolicy::kDayMs;

RequestEntry entry(int n, qint64 timeMs = 1'700'000'000'000)
{
    RequestEntry e;
    e.timeMs = timeMs;
    e.method = "GET";
    e.path = QByteArray("/api/collections/posts/records/" + QByteArray::number(n));
    e.route = "/api/collections/{c}/records/{id}";
    e.status = 200;
    e.durationUs = 120 + n;
    e.client = QHostAddress(QStringLiteral("192.0.2.7"));
    e.callerKind = RequestEntry::CallerKind::ApiKey;
    e.callerId = QStringLiteral("k%1").arg(n % 10);
    e.requestId = QByteArray("r-" + QByteArray::number(n));
    e.bytesIn = 180;
    e.bytesOut = 900 + n;
    return e;
}

} // namespace

class TestRequestLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void storesEveryField();
    void storesLongRawAndChangingText();
    void callerLabels_data();
    void callerLabels();
    void backlogIsWrittenInBoundedBatches();
    void fullQueueDropsAndCounts();
    void failedBatchIsDroppedAndCounted();
    void agePruneDeletesOnlyOlderRows();
    void sizePruneDeletesOldestRows();
    void sizeCheckIsScheduled();
    void startCanLeaveTheAgePruneToThePool();
    void tableBytesMeasuresPages();
    void acceptableRequestIds_data();
    void acceptableRequestIds();
    void newRequestIdsAreUniqueAndAcceptable();

private:
    // `count` rows, `stepMs` apart, the last at `lastMs`; ids in time order.
    void insertRows(int count, qint64 lastMs, qint64 stepMs = 1);
    qint64 scalar(const char *sql);
    Store::LogRetention retention(int days, qint64 maxBytes);

    ManualClock m_clock;
    QThreadPool m_pool;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
};

void TestRequestLog::init()
{
    m_clock.setMs(1'700'000'000'000);
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto store = Store::Store::open({m_dir->path(), Durability::Normal});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    m_store = std::move(store).value();
}

void TestRequestLog::cleanup()
{
    m_pool.waitForDone();
    m_store.reset();
    m_dir.reset();
}

// Entries keep text inline up to a size and on the heap beyond it; the writer converts each run of
// equal clients and callers once, stores what is not UTF-8 with U+FFFD, and inserts 16 rows per
// statement (37 rows: two such statements, then five single rows), in order.
void TestRequestLog::storesLongRawAndChangingText()
{
    const QByteArray longPath = "/api/collections/posts/records/" + QByteArray(600, 'x');
    std::vector<RequestEntry> rows;
    for (int n = 0; n < 37; ++n)
        rows.push_back(entry(n));
    rows[20].path = QByteArray(300, 'p');
    rows[21].client = QHostAddress(QStringLiteral("203.0.113.5"));
    rows[36].path = QByteArrayView("/\xc3");
    rows[0].path = longPath;
    rows[1].path = QByteArrayView("/api/caf\xc3\xa9/\xff");
    rows[1].client = QHostAddress(QStringLiteral("198.51.100.4"));
    rows[2].client = QHostAddress(QStringLiteral("198.51.100.4"));
    rows[2].callerKind = RequestEntry::CallerKind::Guest;
    rows[3].client = QHostAddress(); // none: empty text, not NULL
    rows[3].requestId = QByteArray(64, 'r');
    rows[4].client = QHostAddress(QStringLiteral("::ffff:192.0.2.9"));
    RequestEntry copied = rows[0]; // copies keep their text, inline or not
    QCOMPARE(copied.path.view(), QByteArrayView(longPath));
    const Status s = m_store->writeLog([&](Store::Database &db) { return RequestLog::insert(db, rows); });
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));

    QList<QStringList> stored;
    const Status read = m_store->readLog([&](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT path, client, caller, request_id FROM requests ORDER BY id");
        if (!select)
            return select.error();
        for (;;) {
            auto step = select->step();
            if (!step)
                return step.error();
            if (!*step)
                return {};
            stored.append({select->text(0), select->text(1), select->text(2), select->text(3)});
        }
    });
    QVERIFY(read.ok());
    QCOMPARE(stored.size(), 37);
    for (int n = 5; n < 37; ++n)
        QCOMPARE(stored[n][3], QStringLiteral("r-%1").arg(n));
    QCOMPARE(stored[19][0], QStringLiteral("/api/collections/posts/records/19"));
    QCOMPARE(stored[20][0], QString(300, u'p'));
    QCOMPARE(stored[20][1], QStringLiteral("192.0.2.7"));
    QCOMPARE(stored[21][1], QStringLiteral("203.0.113.5"));
    QCOMPARE(stored[22][1], QStringLiteral("192.0.2.7"));
    QCOMPARE(stored[22][2], QStringLiteral("apikey:k2"));
    QCOMPARE(stored[36][0], QStringLiteral("/\ufffd"));
    QCOMPARE(stored[0][0], QString::fromLatin1(longPath));
    QCOMPARE(stored[0][1], QStringLiteral("192.0.2.7"));
    QCOMPARE(stored[1][0], QStringLiteral("/api/caf\u00e9/\ufffd"));
    QCOMPARE(stored[1][1], QStringLiteral("198.51.100.4"));
    QCOMPARE(stored[1][2], QStringLiteral("apikey:k1"));
    QCOMPARE(stored[2][1], QStringLiteral("198.51.100.4"));
    QCOMPARE(stored[2][2], QStringLiteral("guest"));
    QCOMPARE(stored[3][1], QString());
    QCOMPARE(stored[3][3], QString(64, u'r'));
    QCOMPARE(stored[3][2], QStringLiteral("apikey:k3"));
    QCOMPARE(stored[4][1], QStringLiteral("192.0.2.9")); // IPv4-mapped: logged as the IPv4 address
}

void TestRequestLog::insertRows(int count, qint64 lastMs, qint64 stepMs)
{
    std::vector<RequestEntry> rows;
    rows.reserve(size_t(count));
    for (int n = 0; n < count; ++n)
        rows.push_back(entry(n, lastMs - (count - 1 - n) * stepMs));
    const Status s = m_store->writeLog([&](Store::Database &db) { return RequestLog::insert(db, rows); });
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
}

qint64 TestRequestLog::scalar(const char *sql)
{
    qint64 value = -1;
    const Status s = m_store->readLog([&](Store::Database &db) -> Status {
        auto select = db.prepare(sql);
        if (!select)
            return select.error();
        if (auto row = select->step(); !row)
            return row.error();
        value = select->int64(0);
        return {};
    });
    if (!s)
        qWarning("%s: %s", sql, qPrintable(s.error().message));
    return value;
}

Store::LogRetention TestRequestLog::retention(int days, qint64 maxBytes)
{
    return Store::LogRetention(*m_store, m_clock,
                               Store::RetentionPolicy {.table = "requests",
                                                       .timeFormat = Store::RetentionPolicy::TimeFormat::UnixMs,
                                                       .maxAgeDays = days,
                                                       .maxBytes = maxBytes,
                                                       .ageIntervalMs = 60 * 60 * 1000,
                                                       .sizeIntervalMs = 10'000,
                                                       .timerMs = 10'000},
                               &m_pool);
}

void TestRequestLog::storesEveryField()
{
    RequestLog log(*m_store);
    RequestEntry user = entry(7);
    user.method = "PATCH";
    user.status = 403;
    user.client = QHostAddress(QStringLiteral("2001:db8::1"));
    user.callerKind = RequestEntry::CallerKind::User;
    user.callerCollection = QStringLiteral("members");
    user.callerId = QStringLiteral("u1");
    QVERIFY(log.append(user));
    QVERIFY(log.append(entry(8)));
    log.flush();
    QCOMPARE(log.writtenCount(), quint64(2));
    QCOMPARE(log.droppedCount(), quint64(0));

    QStringList row;
    const Status s = m_store->readLog([&](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT time, method, path, route, status, duration_us, client, caller, request_id, "
                                 "bytes_in, bytes_out, typeof(time) FROM requests ORDER BY id");
        if (!select)
            return select.error();
        if (auto step = select->step(); !step)
            return step.error();
        for (int column = 0; column < 12; ++column)
            row.append(select->text(column));
        return {};
    });
    QVERIFY(s.ok());
    QCOMPARE(
        row,
        (QStringList {QStringLiteral("1700000000000"), QStringLiteral("PATCH"),
                      QStringLiteral("/api/collections/posts/records/7"),
                      QStringLiteral("/api/collections/{c}/records/{id}"), QStringLiteral("403"), QStringLiteral("127"),
                      QStringLiteral("2001:db8::1"), QStringLiteral("user:members:u1"), QStringLiteral("r-7"),
                      QStringLiteral("180"), QStringLiteral("907"), QStringLiteral("integer")}));
}

void TestRequestLog::callerLabels_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("label");
    QTest::newRow("guest") << int(RequestEntry::CallerKind::Guest) << QStringLiteral("guest");
    QTest::newRow("superuser") << int(RequestEntry::CallerKind::Superuser) << QStringLiteral("superuser:id1");
    QTest::newRow("api key") << int(RequestEntry::CallerKind::ApiKey) << QStringLiteral("apikey:id1");
    QTest::newRow("user") << int(RequestEntry::CallerKind::User) << QStringLiteral("user:members:id1");
}

void TestRequestLog::callerLabels()
{
    QFETCH(int, kind);
    QFETCH(QString, label);
    RequestEntry e;
    e.callerKind = RequestEntry::CallerKind(kind);
    e.callerCollection = QStringLiteral("members");
    e.callerId = QStringLiteral("id1");
    QCOMPARE(e.callerLabel(), label);
}

void TestRequestLog::backlogIsWrittenInBoundedBatches()
{
    HeldWriter<RequestEntry> writer([](const RequestEntry &e) { return int(e.bytesOut - 900); });
    RequestLog log([&writer](const std::vector<RequestEntry> &batch) { return writer.write(batch); });
    log.append(entry(0));
    writer.waitEntered(); // the thread holds entry 0
    const int backlog = int(RequestLog::kMaxBatch) * 2 + 100;
    for (int n = 1; n <= backlog; ++n)
        QVERIFY(log.append(entry(n)));
    writer.open();
    log.flush();

    const QList<QList<int>> batches = writer.batches();
    QCOMPARE(batches.size(), 4); // {0}, then the backlog in batches of at most kMaxBatch
    QList<int> all;
    for (const QList<int> &batch : batches) {
        QVERIFY(batch.size() <= RequestLog::kMaxBatch);
        all += batch;
    }
    QCOMPARE(all.size(), backlog + 1);
    for (int n = 0; n <= backlog; ++n)
        QCOMPARE(all[n], n); // in the order appended
    QCOMPARE(log.writtenCount(), quint64(backlog + 1));
}

void TestRequestLog::fullQueueDropsAndCounts()
{
    HeldWriter<RequestEntry> writer([](const RequestEntry &e) { return int(e.bytesOut - 900); });
    RequestLog log([&writer](const std::vector<RequestEntry> &batch) { return writer.write(batch); }, 3);
    QCOMPARE(log.capacity(), 3);
    log.append(entry(0));
    writer.waitEntered();
    for (int n = 1; n <= 3; ++n)
        QVERIFY(log.append(entry(n)));
    // One warning for the overflow, however many entries it drops.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("request log queue full \\(3 entries\\)")));
    for (int n = 4; n <= 10; ++n)
        QVERIFY(!log.append(entry(n)));
    QCOMPARE(log.droppedCount(), quint64(7));

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("7 entries were dropped while it was full")));
    writer.open();
    log.flush();
    QCOMPARE(writer.batches(), (QList<QList<int>> {{0}, {1, 2, 3}}));
    QCOMPARE(log.writtenCount(), quint64(4));

    QVERIFY(log.append(entry(11))); // room again
    log.flush();
    QCOMPARE(log.writtenCount(), quint64(5));
    QCOMPARE(log.droppedCount(), quint64(7));
}

void TestRequestLog::failedBatchIsDroppedAndCounted()
{
    RequestLog log([](const std::vector<RequestEntry> &) {
        return makeError(ErrorCode::Unavailable, QStringLiteral("disk gone"));
    });
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("dropped 2 request log entries: disk gone")));
    log.append(entry(1));
    log.append(entry(2));
    log.flush();
    QCOMPARE(log.droppedCount(), quint64(2));
    QCOMPARE(log.writtenCount(), quint64(0));
}

void TestRequestLog::agePruneDeletesOnlyOlderRows()
{
    // More than one delete batch of old rows, one just inside the limit, and new ones.
    const qint64 now = m_clock.nowMs();
    const int old = int(Store::LogRetention::kDeleteBatch) + 1234;
    insertRows(old, now - 7 * kDay - 1);
    insertRows(1, now - 7 * kDay);
    insertRows(10, now);
    auto pruner = retention(7, 0);
    auto pruned = pruner.pruneByAge();
    QVERIFY2(pruned.ok(), qPrintable(pruned.ok() ? QString() : pruned.error().message));
    QCOMPARE(*pruned, qint64(old));
    QCOMPARE(scalar("SELECT count(*) FROM requests"), qint64(11));
    QCOMPARE(scalar("SELECT min(time) FROM requests"), now - 7 * kDay);

    auto keepAll = retention(0, 0);
    insertRows(5, now - 400 * kDay);
    auto none = keepAll.pruneByAge();
    QVERIFY(none.ok());
    QCOMPARE(*none, qint64(0));
    QCOMPARE(scalar("SELECT count(*) FROM requests"), qint64(16));
}

void TestRequestLog::sizePruneDeletesOldestRows()
{
    insertRows(30'000, m_clock.nowMs());
    const qint64 newest = scalar("SELECT max(id) FROM requests");
    qint64 before = 0;
    QVERIFY(m_store->readLog([&](Store::Database &db) -> Status {
        auto bytes = Store::LogRetention::tableBytes(db, "requests");
        if (!bytes)
            return bytes.error();
        before = *bytes;
        return {};
    }));
    const qint64 limit = before / 3;

    auto pruner = retention(0, limit);
    auto pruned = pruner.pruneBySize();
    QVERIFY2(pruned.ok(), qPrintable(pruned.ok() ? QString() : pruned.error().message));
    QVERIFY(*pruned > 15'000);
    qint64 after = 0;
    QVERIFY(m_store->readLog([&](Store::Database &db) -> Status {
        auto bytes = Store::LogRetention::tableBytes(db, "requests");
        if (!bytes)
            return bytes.error();
        after = *bytes;
        return {};
    }));
    QVERIFY2(after <= limit, qPrintable(QStringLiteral("%1 > %2").arg(after).arg(limit)));
    // The oldest went; the newest stayed, and the ids left are one unbroken run.
    QCOMPARE(scalar("SELECT count(*) FROM requests"), 30'000 - *pruned);
    QCOMPARE(scalar("SELECT max(id) FROM requests"), newest);
    QCOMPARE(scalar("SELECT min(id) FROM requests"), newest - (30'000 - *pruned) + 1);

    // Under the limit now: nothing more to delete. No limit: never anything.
    auto again = pruner.pruneBySize();
    QVERIFY(again.ok());
    QCOMPARE(*again, qint64(0));
    auto unlimited = retention(0, 0).pruneBySize();
    QVERIFY(unlimited.ok());
    QCOMPARE(*unlimited, qint64(0));
}

void TestRequestLog::sizeCheckIsScheduled()
{
    insertRows(20'000, m_clock.nowMs());
    auto pruner = retention(7, 256 * 1024);
    pruner.start(); // the age prune at once; the first size check queued on the pool
    m_pool.waitForDone();
    const qint64 left = scalar("SELECT count(*) FROM requests");
    QVERIFY(left < 20'000);

    insertRows(20'000, m_clock.nowMs());
    QVERIFY(!pruner.pruneIfDue()); // neither the size check (10 s) nor the age prune (1 h) is due
    m_clock.advanceMs(10'000);
    QVERIFY(pruner.pruneIfDue());
    m_pool.waitForDone();
    QVERIFY(scalar("SELECT count(*) FROM requests") < 20'000 + left);
    QVERIFY(!pruner.pruneIfDue());

    // An hour on, the age prune is due too; a week on, it deletes.
    m_clock.advanceMs(7 * kDay + 1);
    QVERIFY(pruner.pruneIfDue());
    m_pool.waitForDone();
    QCOMPARE(scalar("SELECT count(*) FROM requests"), qint64(0));
}

void TestRequestLog::startCanLeaveTheAgePruneToThePool()
{
    insertRows(100, m_clock.nowMs() - 8 * kDay);
    insertRows(5, m_clock.nowMs());
    Store::LogRetention pruner(*m_store, m_clock,
                               Store::RetentionPolicy {.table = "requests", .maxAgeDays = 7, .startBlocks = false},
                               &m_pool);
    pruner.start();
    m_pool.waitForDone();
    QCOMPARE(scalar("SELECT count(*) FROM requests"), qint64(5));
    QVERIFY(!pruner.pruneIfDue()); // it counts as done
}

void TestRequestLog::tableBytesMeasuresPages()
{
    auto measure = [this] {
        qint64 bytes = -1;
        const Status s = m_store->readLog([&](Store::Database &db) -> Status {
            auto measured = Store::LogRetention::tableBytes(db, "requests");
            if (!measured)
                return measured.error();
            bytes = *measured;
            return {};
        });
        return s ? bytes : -1;
    };
    const qint64 empty = measure();
    QVERIFY(empty > 0); // the root pages of the table and its index
    QVERIFY(empty <= 2 * 4096);
    insertRows(10'000, m_clock.nowMs());
    const qint64 full = measure();
    // A row here takes some 100 bytes of payload; pages are never more than full.
    QVERIFY2(full > 10'000 * 100 && full < 10'000 * 400, qPrintable(QString::number(full)));
}

void TestRequestLog::acceptableRequestIds_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<bool>("acceptable");
    QTest::newRow("uuid") << QByteArray("0b6a3e0c-1f2d-4c55-9a8e-2f1f0e9d7c11") << true;
    QTest::newRow("dots and underscores") << QByteArray("trace.Span_01") << true;
    QTest::newRow("one character") << QByteArray("x") << true;
    QTest::newRow("64 characters") << QByteArray(64, 'a') << true;
    QTest::newRow("65 characters") << QByteArray(65, 'a') << false;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("space") << QByteArray("a b") << false;
    QTest::newRow("quote") << QByteArray("a\"b") << false;
    QTest::newRow("line break") << QByteArray("a\r\nSet-Cookie: x") << false;
    QTest::newRow("non-ASCII") << QByteArray("caf\xc3\xa9") << false;
    QTest::newRow("slash") << QByteArray("a/b") << false;
}

void TestRequestLog::acceptableRequestIds()
{
    QFETCH(QByteArray, id);
    QFETCH(bool, acceptable);
    QCOMPARE(Http::isAcceptableRequestId(id), acceptable);
}

void TestRequestLog::newRequestIdsAreUniqueAndAcceptable()
{
    QSet<QByteArray> seen;
    const QByteArray first = Http::newRequestId();
    const QByteArray prefix = first.left(first.indexOf('-') + 1);
    QCOMPARE(prefix.size(), 11);
    for (int n = 0; n < 10'000; ++n) {
        const QByteArray id = Http::newRequestId();
        QVERIFY2(Http::isAcceptableRequestId(id), id.constData());
        QVERIFY(id.startsWith(prefix)); // one prefix per process
        seen.insert(id);
    }
    QCOMPARE(seen.size(), 10'000);
}

QTEST_GUILESS_MAIN(TestRequestLog)
#include "tst_requestlog.moc"
