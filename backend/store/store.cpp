#include "store.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include "migrations.h"

namespace Outpost::Store {

Store::Store(Options options)
    : m_options(std::move(options))
{
}

Store::~Store() = default;

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

Status Store::write(const std::function<Status(Database &)> &fn)
{
    return runInTransaction(m_writeMutex, *m_writer, fn);
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
    std::unique_ptr<Database> db;
    {
        std::lock_guard lock(m_poolMutex);
        if (!m_readers.empty()) {
            db = std::move(m_readers.back());
            m_readers.pop_back();
        }
    }
    if (!db) {
        auto opened = openReader();
        if (!opened)
            return opened.error();
        db = std::move(opened).value();
    }
    Status result = fn(*db);
    std::lock_guard lock(m_poolMutex);
    m_readers.push_back(std::move(db));
    return result;
}

} // namespace Outpost::Store
