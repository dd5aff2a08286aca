#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "store/migrations.h"
#include "store/sqlite.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Store::Database;
using Outpost::Store::Migration;

namespace {

Result<qint64> queryInt(Database &db, const char *sql)
{
    auto stmt = db.prepare(sql);
    if (!stmt)
        return stmt.error();
    auto row = stmt->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("no row"));
    return stmt->int64(0);
}

Result<QString> queryText(Database &db, const char *sql)
{
    auto stmt = db.prepare(sql);
    if (!stmt)
        return stmt.error();
    auto row = stmt->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("no row"));
    return stmt->text(0);
}

bool tableExists(Database &db, const QString &name)
{
    auto stmt = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
    if (!stmt)
        return false;
    stmt->bind(1, name);
    auto row = stmt->step();
    return row && *row && stmt->int64(0) == 1;
}

Status insertSetting(Database &db, const QString &key, const QByteArray &value)
{
    auto insert = db.prepare("INSERT INTO _settings(key, value) VALUES (?, ?)");
    if (!insert)
        return insert.error();
    return insert->bind(1, key).bind(2, value).run();
}

QString message(const Status &status)
{
    return status.ok() ? QString() : status.error().message;
}

constexpr Migration kTwoSteps[] = {
    {1, "first", "CREATE TABLE one (x INTEGER) STRICT;"},
    {2, "second", "CREATE TABLE two (y TEXT) STRICT; INSERT INTO two VALUES ('seed');"},
};

} // namespace

Q_DECLARE_METATYPE(Outpost::Durability)

class TestStore : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void openCreatesPrivateDirectoryAndBothFiles();
    void openFailsWhenTheDirectoryCannotBeCreated();
    void walModeOnEveryConnection();
    void durability_data();
    void durability();
    void migrationsAreNumberedWithoutGaps();
    void openMigratesBothFiles();
    void migrateIsIdempotent();
    void reopeningDoesNotMigrateAgain();
    void migrateAppliesOnlyNewSteps();
    void failedMigrationRollsBack();
    void newerSchemaRefused_data();
    void newerSchemaRefused();
    void migrateRefusesNewerSchemaWithoutTouchingIt();
    void reopenKeepsData();
    void writeRollsBackWhenFunctionFails();
    void writeRollsBackWhenSqlFails();
    void writeLogRollsBackWhenFunctionFails();
    void readSeesCommittedData();
    void readersAreReadOnly();
    void concurrentReadersDuringWrites();
    void transactionRollsBackUnlessCommitted();
    void statementRoundTripsEveryType();
    void dataSizeGrows();

private:
    Store::Store::Options options(Durability durability = Durability::Full) const;
    std::unique_ptr<Store::Store> openStore(Durability durability = Durability::Full);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestStore::cleanup()
{
    m_dir.reset();
}

Store::Store::Options TestStore::options(Durability durability) const
{
    return Store::Store::Options {m_dir->filePath(QStringLiteral("data")), durability};
}

std::unique_ptr<Store::Store> TestStore::openStore(Durability durability)
{
    auto store = Store::Store::open(options(durability));
    if (!store) {
        qWarning() << "Store::open failed:" << store.error().message;
        return nullptr;
    }
    return std::move(store).value();
}

void TestStore::openCreatesPrivateDirectoryAndBothFiles()
{
    const QString dataDir = m_dir->filePath(QStringLiteral("nested/deeper/data"));
    auto store = Store::Store::open({dataDir, Durability::Full});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    QCOMPARE((*store)->dataDir(), dataDir);
    QCOMPARE((*store)->dataPath(), dataDir + QStringLiteral("/data.db"));
    QCOMPARE((*store)->logsPath(), dataDir + QStringLiteral("/logs.db"));
    QVERIFY(QFileInfo::exists((*store)->dataPath()));
    QVERIFY(QFileInfo::exists((*store)->logsPath()));

    struct stat st = {};
    QCOMPARE(::stat(QFile::encodeName(dataDir).constData(), &st), 0);
    QVERIFY(S_ISDIR(st.st_mode));
    QCOMPARE(st.st_mode & 07777, mode_t(0700));
}

void TestStore::openFailsWhenTheDirectoryCannotBeCreated()
{
    QFile blocker(m_dir->filePath(QStringLiteral("file")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    const QString dataDir = blocker.fileName() + QStringLiteral("/data");
    auto store = Store::Store::open({dataDir, Durability::Full});
    QVERIFY(!store.ok());
    QCOMPARE(store.error().code, ErrorCode::Unavailable);
    QVERIFY2(store.error().message.contains(dataDir), qPrintable(store.error().message));
}

void TestStore::walModeOnEveryConnection()
{
    auto store = openStore();
    QVERIFY(store);
    QString writerMode, logMode, readerMode;
    qint64 foreignKeys = 0;
    QVERIFY(store
                ->write([&](Database &db) -> Status {
                    auto mode = queryText(db, "PRAGMA journal_mode");
                    if (!mode)
                        return mode.error();
                    writerMode = *mode;
                    auto fk = queryInt(db, "PRAGMA foreign_keys");
                    if (!fk)
                        return fk.error();
                    foreignKeys = *fk;
                    return {};
                })
                .ok());
    QVERIFY(store
                ->writeLog([&](Database &db) -> Status {
                    auto mode = queryText(db, "PRAGMA journal_mode");
                    if (!mode)
                        return mode.error();
                    logMode = *mode;
                    return {};
                })
                .ok());
    QVERIFY(store
                ->read([&](Database &db) -> Status {
                    auto mode = queryText(db, "PRAGMA journal_mode");
                    if (!mode)
                        return mode.error();
                    readerMode = *mode;
                    return {};
                })
                .ok());
    QCOMPARE(writerMode, QStringLiteral("wal"));
    QCOMPARE(logMode, QStringLiteral("wal"));
    QCOMPARE(readerMode, QStringLiteral("wal"));
    QCOMPARE(foreignKeys, 1);
    QVERIFY(QFileInfo::exists(store->dataPath() + QStringLiteral("-wal")));
}

void TestStore::durability_data()
{
    QTest::addColumn<Durability>("durability");
    QTest::addColumn<qint64>("expectedSynchronous");

    QTest::newRow("full") << Durability::Full << qint64(2);
    QTest::newRow("normal") << Durability::Normal << qint64(1);
}

void TestStore::durability()
{
    QFETCH(Durability, durability);
    QFETCH(qint64, expectedSynchronous);

    auto store = openStore(durability);
    QVERIFY(store);
    qint64 dataSync = -1, logSync = -1;
    QVERIFY(store
                ->write([&](Database &db) -> Status {
                    auto v = queryInt(db, "PRAGMA synchronous");
                    if (!v)
                        return v.error();
                    dataSync = *v;
                    return {};
                })
                .ok());
    QVERIFY(store
                ->writeLog([&](Database &db) -> Status {
                    auto v = queryInt(db, "PRAGMA synchronous");
                    if (!v)
                        return v.error();
                    logSync = *v;
                    return {};
                })
                .ok());
    QCOMPARE(dataSync, expectedSynchronous);
    QCOMPARE(logSync, qint64(1)); // logs are always NORMAL
}

void TestStore::migrationsAreNumberedWithoutGaps()
{
    for (const auto migrations : {Store::dataMigrations(), Store::logsMigrations()}) {
        QVERIFY(!migrations.empty());
        for (size_t i = 0; i < migrations.size(); ++i) {
            QCOMPARE(migrations[i].version, int(i) + 1);
            QVERIFY(migrations[i].description && *migrations[i].description);
        }
    }
}

void TestStore::openMigratesBothFiles()
{
    auto store = openStore();
    QVERIFY(store);
    store.reset();

    auto data = Database::open(options().dataDir + QStringLiteral("/data.db"), Database::Mode::ReadOnly);
    QVERIFY(data.ok());
    auto dataVersion = Store::schemaVersion(**data);
    QVERIFY(dataVersion.ok());
    QCOMPARE(*dataVersion, Store::dataMigrations().back().version);
    auto dataRows = queryInt(**data, "SELECT count(*) FROM schema_version");
    QVERIFY(dataRows.ok());
    QCOMPARE(*dataRows, qint64(Store::dataMigrations().size()));
    QVERIFY(tableExists(**data, QStringLiteral("_settings")));
    QVERIFY(tableExists(**data, QStringLiteral("_superusers")));
    QVERIFY(!tableExists(**data, QStringLiteral("audit_log")));

    auto logs = Database::open(options().dataDir + QStringLiteral("/logs.db"), Database::Mode::ReadOnly);
    QVERIFY(logs.ok());
    auto logsVersion = Store::schemaVersion(**logs);
    QVERIFY(logsVersion.ok());
    QCOMPARE(*logsVersion, Store::logsMigrations().back().version);
    QVERIFY(tableExists(**logs, QStringLiteral("audit_log")));
    QVERIFY(!tableExists(**logs, QStringLiteral("_superusers")));
}

void TestStore::migrateIsIdempotent()
{
    auto db = Database::open(m_dir->filePath(QStringLiteral("m.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    auto before = Store::schemaVersion(**db);
    QVERIFY(before.ok());
    QCOMPARE(*before, 0);

    const Status first = Store::migrate(**db, kTwoSteps);
    QVERIFY2(first.ok(), qPrintable(message(first)));
    const Status second = Store::migrate(**db, kTwoSteps);
    QVERIFY2(second.ok(), qPrintable(message(second)));

    auto version = Store::schemaVersion(**db);
    QVERIFY(version.ok());
    QCOMPARE(*version, 2);
    auto rows = queryInt(**db, "SELECT count(*) FROM schema_version");
    QVERIFY(rows.ok());
    QCOMPARE(*rows, qint64(2));
    auto seeds = queryInt(**db, "SELECT count(*) FROM two");
    QVERIFY(seeds.ok());
    QCOMPARE(*seeds, qint64(1)); // the second step ran once
    auto description = queryText(**db, "SELECT description FROM schema_version WHERE version = 2");
    QVERIFY(description.ok());
    QCOMPARE(*description, QStringLiteral("second"));
}

void TestStore::reopeningDoesNotMigrateAgain()
{
    for (int i = 0; i < 3; ++i) {
        auto store = openStore();
        QVERIFY(store);
    }
    auto db = Database::open(options().dataDir + QStringLiteral("/data.db"), Database::Mode::ReadOnly);
    QVERIFY(db.ok());
    auto rows = queryInt(**db, "SELECT count(*) FROM schema_version");
    QVERIFY(rows.ok());
    QCOMPARE(*rows, qint64(Store::dataMigrations().size()));
}

void TestStore::migrateAppliesOnlyNewSteps()
{
    auto db = Database::open(m_dir->filePath(QStringLiteral("m.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    QVERIFY(Store::migrate(**db, std::span(kTwoSteps).first(1)).ok());
    auto version = Store::schemaVersion(**db);
    QVERIFY(version.ok());
    QCOMPARE(*version, 1);
    QVERIFY((*db)->exec("INSERT INTO one VALUES (42)").ok());

    // Step 1 would fail if it ran again (its table exists), so success proves it was skipped.
    const Status s = Store::migrate(**db, kTwoSteps);
    QVERIFY2(s.ok(), qPrintable(message(s)));
    version = Store::schemaVersion(**db);
    QVERIFY(version.ok());
    QCOMPARE(*version, 2);
    auto kept = queryInt(**db, "SELECT x FROM one");
    QVERIFY(kept.ok());
    QCOMPARE(*kept, qint64(42));
}

void TestStore::failedMigrationRollsBack()
{
    static constexpr Migration broken[] = {
        {1, "good", "CREATE TABLE one (x INTEGER) STRICT;"},
        {2, "broken", "CREATE TABLE half (y INTEGER) STRICT; CREATE TABLE (;"},
    };
    auto db = Database::open(m_dir->filePath(QStringLiteral("m.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    const Status s = Store::migrate(**db, broken);
    QVERIFY(!s.ok());
    QCOMPARE(s.error().code, ErrorCode::Internal);
    QVERIFY2(s.error().message.contains(QStringLiteral("migration 2 (broken)")), qPrintable(s.error().message));

    auto version = Store::schemaVersion(**db);
    QVERIFY(version.ok());
    QCOMPARE(*version, 1);
    QVERIFY(tableExists(**db, QStringLiteral("one")));
    QVERIFY(!tableExists(**db, QStringLiteral("half"))); // the first statement of step 2 was rolled back

    // The connection is not left inside a transaction.
    QVERIFY(Store::migrate(**db, std::span(broken).first(1)).ok());
    QVERIFY((*db)->exec("BEGIN IMMEDIATE; COMMIT;").ok());
}

void TestStore::newerSchemaRefused_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("data.db") << QStringLiteral("data.db");
    QTest::newRow("logs.db") << QStringLiteral("logs.db");
}

void TestStore::newerSchemaRefused()
{
    QFETCH(QString, file);
    QVERIFY(openStore());

    const QString path = options().dataDir + u'/' + file;
    {
        auto db = Database::open(path, Database::Mode::ReadWrite);
        QVERIFY(db.ok());
        QVERIFY((*db)
                    ->exec("INSERT INTO schema_version(version, description, applied) "
                           "VALUES (99, 'from the future', '2999-01-01')")
                    .ok());
    }
    auto store = Store::Store::open(options());
    QVERIFY(!store.ok());
    const Error &error = store.error();
    QCOMPARE(error.code, ErrorCode::Unavailable);
    QVERIFY2(error.message.contains(path), qPrintable(error.message));
    QVERIFY2(error.message.contains(QStringLiteral("schema version 99")), qPrintable(error.message));
    QVERIFY2(error.message.contains(QStringLiteral("newer")), qPrintable(error.message));
}

void TestStore::migrateRefusesNewerSchemaWithoutTouchingIt()
{
    auto db = Database::open(m_dir->filePath(QStringLiteral("m.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    QVERIFY(Store::migrate(**db, kTwoSteps).ok());
    const Status s = Store::migrate(**db, std::span(kTwoSteps).first(1));
    QVERIFY(!s.ok());
    QCOMPARE(s.error().code, ErrorCode::Unavailable);
    QVERIFY2(s.error().message.contains(QStringLiteral("(1)")), qPrintable(s.error().message));
    auto version = Store::schemaVersion(**db);
    QVERIFY(version.ok());
    QCOMPARE(*version, 2);
}

void TestStore::reopenKeepsData()
{
    const QByteArray value("binary\0value", 12);
    {
        auto store = openStore();
        QVERIFY(store);
        QVERIFY(store->write([&](Database &db) { return insertSetting(db, QStringLiteral("k"), value); }).ok());
    }
    auto store = openStore();
    QVERIFY(store);
    QByteArray read;
    QVERIFY(store
                ->read([&](Database &db) -> Status {
                    auto select = db.prepare("SELECT value FROM _settings WHERE key = 'k'");
                    if (!select)
                        return select.error();
                    auto row = select->step();
                    if (!row)
                        return row.error();
                    if (*row)
                        read = select->blob(0);
                    return {};
                })
                .ok());
    QCOMPARE(read, value);
}

void TestStore::writeRollsBackWhenFunctionFails()
{
    auto store = openStore();
    QVERIFY(store);
    const Status failed = store->write([](Database &db) -> Status {
        if (auto s = insertSetting(db, QStringLiteral("a"), "1"); !s)
            return s;
        if (auto s = insertSetting(db, QStringLiteral("b"), "2"); !s)
            return s;
        return makeError(ErrorCode::Conflict, QStringLiteral("changed my mind"));
    });
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().code, ErrorCode::Conflict);
    QCOMPARE(failed.error().message, QStringLiteral("changed my mind"));

    qint64 count = -1;
    const auto countSettings = [&count](Database &db) -> Status {
        auto n = queryInt(db, "SELECT count(*) FROM _settings");
        if (!n)
            return n.error();
        count = *n;
        return {};
    };
    QVERIFY(store->read(countSettings).ok());
    QCOMPARE(count, qint64(0));
    QVERIFY(store->write(countSettings).ok()); // the writer itself sees nothing either
    QCOMPARE(count, qint64(0));

    // The writer is usable afterwards: no transaction was left open.
    const Status ok = store->write([](Database &db) { return insertSetting(db, QStringLiteral("a"), "1"); });
    QVERIFY2(ok.ok(), qPrintable(message(ok)));
    QVERIFY(store->read(countSettings).ok());
    QCOMPARE(count, qint64(1));
}

void TestStore::writeRollsBackWhenSqlFails()
{
    auto store = openStore();
    QVERIFY(store);
    QVERIFY(store->write([](Database &db) { return insertSetting(db, QStringLiteral("dup"), "0"); }).ok());
    const Status failed = store->write([](Database &db) -> Status {
        if (auto s = insertSetting(db, QStringLiteral("fresh"), "1"); !s)
            return s;
        return insertSetting(db, QStringLiteral("dup"), "2"); // PRIMARY KEY violation
    });
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().code, ErrorCode::Conflict);

    qint64 count = -1;
    QVERIFY(store
                ->read([&count](Database &db) -> Status {
                    auto n = queryInt(db, "SELECT count(*) FROM _settings");
                    if (!n)
                        return n.error();
                    count = *n;
                    return {};
                })
                .ok());
    QCOMPARE(count, qint64(1)); // "fresh" was rolled back with the failed insert
}

void TestStore::writeLogRollsBackWhenFunctionFails()
{
    auto store = openStore();
    QVERIFY(store);
    const auto insertAudit = [](Database &db) {
        return db.exec("INSERT INTO audit_log(time, actor, action, target, address, success) "
                       "VALUES ('t', 'a', 'x', 'y', 'local', 1)");
    };
    const Status failed = store->writeLog([&](Database &db) -> Status {
        if (auto s = insertAudit(db); !s)
            return s;
        return makeError(ErrorCode::Internal, QStringLiteral("boom"));
    });
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().message, QStringLiteral("boom"));
    QVERIFY(store->writeLog(insertAudit).ok());

    qint64 count = -1;
    QVERIFY(store
                ->writeLog([&count](Database &db) -> Status {
                    auto n = queryInt(db, "SELECT count(*) FROM audit_log");
                    if (!n)
                        return n.error();
                    count = *n;
                    return {};
                })
                .ok());
    QCOMPARE(count, qint64(1));
}

void TestStore::readSeesCommittedData()
{
    auto store = openStore();
    QVERIFY(store);
    // A pooled reader that existed before the write still sees it.
    QVERIFY(store
                ->read([](Database &db) -> Status {
                    auto n = queryInt(db, "SELECT count(*) FROM _settings");
                    if (!n)
                        return n.error();
                    return *n == 0 ? Status() : makeError(ErrorCode::Internal, QStringLiteral("not empty"));
                })
                .ok());
    QVERIFY(store->write([](Database &db) { return insertSetting(db, QStringLiteral("seen"), "yes"); }).ok());

    QString key;
    QVERIFY(store
                ->read([&key](Database &db) -> Status {
                    auto k = queryText(db, "SELECT key FROM _settings");
                    if (!k)
                        return k.error();
                    key = *k;
                    return {};
                })
                .ok());
    QCOMPARE(key, QStringLiteral("seen"));

    // A reader owned by a thread sees it too.
    auto reader = store->openReader();
    QVERIFY(reader.ok());
    auto k = queryText(**reader, "SELECT key FROM _settings");
    QVERIFY(k.ok());
    QCOMPARE(*k, QStringLiteral("seen"));

    // The function's error is what read() returns.
    const Status failed = store->read(
        [](Database &) -> Status { return makeError(ErrorCode::NotFound, QStringLiteral("nothing here")); });
    QVERIFY(!failed.ok());
    QCOMPARE(failed.error().code, ErrorCode::NotFound);
    QCOMPARE(failed.error().message, QStringLiteral("nothing here"));
}

void TestStore::readersAreReadOnly()
{
    auto store = openStore();
    QVERIFY(store);
    const Status pooled = store->read([](Database &db) { return insertSetting(db, QStringLiteral("x"), "1"); });
    QVERIFY(!pooled.ok());
    auto reader = store->openReader();
    QVERIFY(reader.ok());
    QVERIFY(!insertSetting(**reader, QStringLiteral("x"), "1").ok());
    auto count = queryInt(**reader, "SELECT count(*) FROM _settings");
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(0));
}

void TestStore::concurrentReadersDuringWrites()
{
    // Each write inserts n and -n in one transaction: a reader that saw half a transaction would
    // see an odd row count or a non-zero sum.
    auto store = openStore(Durability::Normal);
    QVERIFY(store);
    QVERIFY(store->write([](Database &db) { return db.exec("CREATE TABLE pairs (n INTEGER NOT NULL) STRICT"); }).ok());

    constexpr int kWrites = 200;
    constexpr int kReaders = 3;
    constexpr int kMinReads = 50;
    constexpr int kMaxReads = 100'000;
    std::atomic<bool> writerDone {false};
    std::atomic<int> started {0}, failures {0}, torn {0}, backwards {0}, reads {0};

    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&, r] {
            // Reader 0 owns its connection, like a network thread; the others borrow pooled ones.
            std::unique_ptr<Database> own;
            if (r == 0) {
                auto opened = store->openReader();
                if (!opened) {
                    ++failures;
                    ++started;
                    return;
                }
                own = std::move(opened).value();
            }
            qint64 last = 0;
            for (int i = 0; i < kMaxReads && (i < kMinReads || !writerDone.load()); ++i) {
                qint64 count = -1, sum = -1;
                const auto query = [&](Database &db) -> Status {
                    auto select = db.prepare("SELECT count(*), coalesce(sum(n), 0) FROM pairs");
                    if (!select)
                        return select.error();
                    auto row = select->step();
                    if (!row)
                        return row.error();
                    count = select->int64(0);
                    sum = select->int64(1);
                    return {};
                };
                const Status s = own ? query(*own) : store->read(query);
                if (i == 0)
                    ++started;
                if (!s) {
                    ++failures;
                    continue;
                }
                ++reads;
                if (count % 2 != 0 || sum != 0)
                    ++torn;
                if (count < last)
                    ++backwards;
                last = count;
            }
        });
    }

    // Start writing once every reader is reading, so that reads and commits overlap.
    while (started.load() < kReaders)
        std::this_thread::yield();
    Status written;
    for (int i = 1; i <= kWrites && written.ok(); ++i) {
        written = store->write([i](Database &db) -> Status {
            auto insert = db.prepare("INSERT INTO pairs(n) VALUES (?)");
            if (!insert)
                return insert.error();
            if (auto s = insert->bind(1, i).run(); !s)
                return s;
            return insert->bind(1, -i).run();
        });
    }
    writerDone = true;
    for (auto &thread : readers)
        thread.join();

    QVERIFY2(written.ok(), qPrintable(message(written)));
    QCOMPARE(failures.load(), 0);
    QCOMPARE(torn.load(), 0);
    QCOMPARE(backwards.load(), 0);
    QVERIFY(reads.load() >= kReaders * kMinReads);
    qint64 total = -1;
    QVERIFY(store
                ->read([&total](Database &db) -> Status {
                    auto n = queryInt(db, "SELECT count(*) FROM pairs");
                    if (!n)
                        return n.error();
                    total = *n;
                    return {};
                })
                .ok());
    QCOMPARE(total, qint64(2 * kWrites));
}

void TestStore::transactionRollsBackUnlessCommitted()
{
    auto db = Database::open(m_dir->filePath(QStringLiteral("t.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    QVERIFY((*db)->exec("CREATE TABLE t (x INTEGER)").ok());
    {
        auto tx = Store::Transaction::begin(**db);
        QVERIFY(tx.ok());
        QVERIFY((*db)->exec("INSERT INTO t VALUES (1)").ok());
    } // destroyed without commit
    {
        auto tx = Store::Transaction::begin(**db);
        QVERIFY(tx.ok());
        QVERIFY((*db)->exec("INSERT INTO t VALUES (2)").ok());
        QVERIFY(tx->commit().ok());
    }
    auto sum = queryInt(**db, "SELECT coalesce(sum(x), 0) FROM t");
    QVERIFY(sum.ok());
    QCOMPARE(*sum, qint64(2));
}

void TestStore::statementRoundTripsEveryType()
{
    auto db = Database::open(m_dir->filePath(QStringLiteral("t.db")), Database::Mode::ReadWrite);
    QVERIFY(db.ok());
    QVERIFY((*db)->exec("CREATE TABLE t (s TEXT, b BLOB, i INTEGER, r REAL, n TEXT)").ok());
    const QString text = QStringLiteral("héllo ✓ 'quoted'; DROP TABLE t;--");
    const QByteArray blob("\0\x01\xff", 3);
    auto insert = (*db)->prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)");
    QVERIFY(insert.ok());
    QVERIFY(insert->bind(1, text).bind(2, blob).bind(3, qint64(1) << 60).bind(4, 0.25).bindNull(5).run().ok());
    QCOMPARE((*db)->changes(), 1);
    QCOMPARE((*db)->lastInsertRowId(), qint64(1));

    auto select = (*db)->prepare("SELECT s, b, i, r, n FROM t");
    QVERIFY(select.ok());
    auto row = select->step();
    QVERIFY(row.ok() && *row);
    QCOMPARE(select->text(0), text);
    QCOMPARE(select->blob(1), blob);
    QCOMPARE(select->int64(2), qint64(1) << 60);
    QCOMPARE(select->real(3), 0.25);
    QVERIFY(select->isNull(4));
    QVERIFY(!select->isNull(0));
    row = select->step();
    QVERIFY(row.ok() && !*row);

    QVERIFY(!(*db)->prepare("SELECT nonsense FROM nowhere").ok());
    static const char countSql[] = "SELECT count(*) FROM t";
    Store::Statement *cached = (*db)->cached(countSql);
    QVERIFY(cached);
    QCOMPARE((*db)->cached(countSql), cached); // prepared once per connection
}

void TestStore::dataSizeGrows()
{
    auto store = openStore();
    QVERIFY(store);
    const qint64 before = store->dataSizeBytes();
    QVERIFY(before > 0);
    QVERIFY(
        store->write([](Database &db) { return insertSetting(db, QStringLiteral("big"), QByteArray(256 * 1024, 'x')); })
            .ok());
    QVERIFY(store->dataSizeBytes() >= before + 256 * 1024);
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
