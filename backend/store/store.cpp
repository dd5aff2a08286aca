#include "store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <algorithm>
#include <exception>
#include <future>
#include <iterator>

#include <sqlite3.h>

#include "auditlog.h"
#include "migrations.h"

Q_LOGGING_CATEGORY(lcStore, "outpost.store")

namespace Outpost::Store {

namespace {

// SQLite abandons the whole transaction, not just the statement, on SQLITE_FULL, IOERR, NOMEM and
// BUSY, and on an OR ROLLBACK conflict or RAISE(ROLLBACK) ("Response To Errors Within A Transaction",
// https://www.sqlite.org/lang_transaction.html). Autocommit mode is how it tells.
bool transactionLost(Database &db)
{
    return sqlite3_get_autocommit(db.handle()) != 0;
}

// A deferred foreign key is only checked at COMMIT, where one job's violation would fail the whole
// group; SQLite counts unresolved ones per connection (SQLITE_DBSTATUS_DEFERRED_FKS), and a
// savepoint's rollback restores the count.
bool foreignKeysUnresolved(Database &db)
{
    int current = 0, highwater = 0;
    return sqlite3_db_status(db.handle(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0) == SQLITE_OK
        && current != 0;
}

// The writer thread is no event loop with a route wrapper around it: an exception escaping a job
// would terminate the process, so it becomes that job's error instead.
Status callGuarded(const std::function<Status(Database &)> &fn, Database &db)
{
    try {
        return fn(db);
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, QStringLiteral("write failed: %1").arg(QString::fromUtf8(e.what())));
    } catch (...) {
        return makeError(ErrorCode::Internal, QStringLiteral("write failed: unknown exception"));
    }
}

// One job inside the group's transaction. Its savepoint makes its failure undo only its own changes.
// When even that cannot be undone, the whole transaction is rolled back: the caller sees
// transactionLost() and fails the group rather than commit half a job.
Status runJob(Database &db, const std::function<Status(Database &)> &fn)
{
    // Prepared once per connection: parsing these three statements for every job was a visible
    // share of the writer thread's time under a create storm.
    const auto step = [&db](const char *sql) -> Status {
        Statement *s = db.cached(sql);
        return s ? s->run() : db.lastError(QStringLiteral("prepare"));
    };
    if (auto s = step("SAVEPOINT outpost_job"); !s)
        return s;
    Status status = callGuarded(fn, db);
    if (transactionLost(db))
        return status;
    if (status && foreignKeysUnresolved(db))
        status = makeError(ErrorCode::Conflict, QStringLiteral("FOREIGN KEY constraint failed (deferred)"));
    if (status) {
        status = step("RELEASE outpost_job");
        if (status)
            return status;
    }
    if (!step("ROLLBACK TO outpost_job") || !step("RELEASE outpost_job"))
        (void)db.exec("ROLLBACK");
    return status;
}

void callDone(const std::function<void(Status)> &done, Status status)
{
    if (!done)
        return;
    try {
        done(std::move(status));
    } catch (const std::exception &e) {
        qCWarning(lcStore) << "a write's completion threw:" << e.what();
    } catch (...) {
        qCWarning(lcStore) << "a write's completion threw";
    }
}

} // namespace

Store::Store(Options options)
    : m_options(std::move(options))
{
}

Store::~Store()
{
    {
        std::lock_guard lock(m_queueMutex);
        m_stopping = true;
    }
    m_queueReady.notify_one();
    if (m_writerThread.joinable())
        m_writerThread.join();
    m_auditLog.reset(); // after the writer: the last jobs' `done`s may have audited their changes
}

QString Store::dataPath() const
{
    return m_options.dataDir + QStringLiteral("/data.db");
}

QString Store::logsPath() const
{
    return m_options.dataDir + QStringLiteral("/logs.db");
}

qint64 Store::dataSizeBytes() const
{
    return QFileInfo(dataPath()).size() + QFileInfo(dataPath() + QStringLiteral("-wal")).size();
}

Result<std::unique_ptr<Store>> Store::open(const Options &options)
{
    QDir dir(options.dataDir);
    if (!dir.exists()) {
        if (!QDir().mkpath(options.dataDir))
            return makeError(ErrorCode::Unavailable,
                             QStringLiteral("cannot create data directory %1").arg(options.dataDir));
        // Accounts and secrets live here: owner-only, like ~/.ssh.
        QFile::setPermissions(options.dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    }
    std::unique_ptr<Store> store(new Store(options));

    auto writer = Database::open(store->dataPath(), Database::Mode::ReadWrite);
    if (!writer)
        return writer.error();
    store->m_writer = std::move(writer).value();
    const char *sync = options.durability == Durability::Full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (auto s = store->m_writer->exec(sync); !s)
        return s.error();
    if (auto s = migrate(*store->m_writer, dataMigrations()); !s)
        return s.error();

    auto logWriter = Database::open(store->logsPath(), Database::Mode::ReadWrite);
    if (!logWriter)
        return logWriter.error();
    store->m_logWriter = std::move(logWriter).value();
    // Logs trade the last few entries on power loss for not paying an fsync per entry.
    if (auto s = store->m_logWriter->exec("PRAGMA synchronous=NORMAL"); !s)
        return s.error();
    if (auto s = migrate(*store->m_logWriter, logsMigrations()); !s)
        return s.error();
    store->m_auditLog = std::make_unique<AuditLog>(*store);
    store->m_writerThread = std::thread([s = store.get()] { s->runWriter(); });
    return store;
}

Status Store::runInTransaction(std::mutex &mutex, Database &db, const std::function<Status(Database &)> &fn)
{
    std::lock_guard lock(mutex);
    auto tx = Transaction::begin(db);
    if (!tx)
        return tx.error();
    if (auto s = fn(db); !s)
        return s; // tx rolls back
    return tx->commit();
}

void Store::submitWrite(std::function<Status(Database &)> fn, std::function<void(Status)> done)
{
    Q_ASSERT(fn);
    {
        std::lock_guard lock(m_queueMutex);
        if (!m_stopping) {
            m_queue.push_back({std::move(fn), std::move(done), monotonicNs()});
            // Under the lock: once it is released the job may complete and its done let the
            // owner destroy the store, condition variable included.
            m_queueReady.notify_one();
            return;
        }
    }
    callDone(done, makeError(ErrorCode::Unavailable, QStringLiteral("the store is shutting down")));
}

// write() is an ordinary job, so it shares groups (and fsyncs) with submitWrite() jobs and other
// write() callers; its savepoint keeps its all-or-nothing semantics.
Status Store::write(const std::function<Status(Database &)> &fn)
{
    if (std::this_thread::get_id() == m_writerThread.get_id())
        return makeError(ErrorCode::Internal,
                         QStringLiteral("write() called on the writer thread: it would wait for itself"));
    std::promise<Status> promise;
    std::future<Status> result = promise.get_future();
    const qint64 start = monotonicNs();
    submitWrite([&fn](Database &db) { return fn(db); }, [&promise](Status s) { promise.set_value(std::move(s)); });
    Status status = result.get();
    threadStoreNs() += monotonicNs() - start;
    return status;
}

void Store::runWriter()
{
    std::vector<WriteJob> group;
    group.reserve(maxWriteGroupSize);
    for (;;) {
        {
            std::unique_lock lock(m_queueMutex);
            m_queueReady.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                return; // stopping, and everything queued before has run
            const auto end = m_queue.begin() + std::min<std::ptrdiff_t>(std::ssize(m_queue), maxWriteGroupSize);
            std::move(m_queue.begin(), end, std::back_inserter(group));
            m_queue.erase(m_queue.begin(), end);
        }
        runGroup(group);
        group.clear();
    }
}

void Store::runGroup(std::vector<WriteJob> &group)
{
    std::vector<Status> results(group.size());
    const Status outcome = runJobs(group, results);
    m_writeGroups.fetch_add(1, std::memory_order_relaxed);
    const qint64 committed = monotonicNs();
    for (size_t i = 0; i < group.size(); ++i) {
        threadStoreNs() = committed - group[i].queuedNs; // what the job's request waited for
        callDone(group[i].done, !outcome && results[i] ? outcome : std::move(results[i]));
    }
}

// Returns the group's fate: success when COMMIT succeeded, else the error every job that had
// succeeded must now report instead. `results` gets each job's own status.
Status Store::runJobs(std::vector<WriteJob> &group, std::vector<Status> &results)
{
    Database &db = *m_writer;
    auto tx = Transaction::begin(db);
    if (!tx)
        return tx.error();
    for (size_t i = 0; i < group.size(); ++i) {
        results[i] = runJob(db, group[i].fn);
        if (!transactionLost(db))
            continue;
        Error lost = makeError(
            ErrorCode::Unavailable,
            QStringLiteral("rolled back with its write group: %1")
                .arg(results[i] ? QStringLiteral("a job ended the transaction") : results[i].error().message));
        if (results[i])
            results[i] = makeError(ErrorCode::Internal, QStringLiteral("the write ended its group's transaction"));
        qCWarning(lcStore) << "data.db write group of" << group.size() << "lost:" << lost.message;
        return lost; // tx's ROLLBACK finds nothing to undo
    }
    if (auto s = tx->commit(); !s) {
        qCWarning(lcStore) << "data.db commit of a group of" << group.size() << "failed:" << s.error().message;
        return s;
    }
    return {};
}

Status Store::writeLog(const std::function<Status(Database &)> &fn)
{
    return runInTransaction(m_logMutex, *m_logWriter, fn);
}

Result<std::unique_ptr<Database>> Store::openReader() const
{
    return Database::open(dataPath(), Database::Mode::ReadOnly);
}

Status Store::read(const std::function<Status(Database &)> &fn)
{
    return borrowReader(m_readers, dataPath(), fn);
}

Status Store::readLog(const std::function<Status(Database &)> &fn)
{
    return borrowReader(m_logReaders, logsPath(), fn);
}

Status Store::borrowReader(std::vector<std::unique_ptr<Database>> &pool, const QString &path,
                           const std::function<Status(Database &)> &fn)
{
    std::unique_ptr<Database> db;
    {
        std::lock_guard lock(m_poolMutex);
        if (!pool.empty()) {
            db = std::move(pool.back());
            pool.pop_back();
        }
    }
    if (!db) {
        auto opened = Database::open(path, Database::Mode::ReadOnly);
        if (!opened)
            return opened.error();
        db = std::move(opened).value();
    }
    Status result = fn(*db);
    std::lock_guard lock(m_poolMutex);
    pool.push_back(std::move(db));
    return result;
}

} // namespace Outpost::Store
