#pragma once

#include <QString>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "../core/config.h"
#include "sqlite.h"

namespace Outpost::Store {

// The data directory's two SQLite files: `data.db` (accounts, settings, later collections) and
// `logs.db` (audit and request logs), kept apart so that logging never contends with data writes.
//
// Threads: every method is thread-safe. Writes are serialised on one writer connection per file;
// each network thread owns a reader from openReader(); other threads borrow pooled readers.
// write()/read() block (a durable commit waits for fsync): never call them on a network thread.
class Store
{
public:
    struct Options
    {
        QString dataDir;
        Durability durability = Durability::Full;
    };

    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // Creates the directory (mode 0700) and files if needed and runs the migrations of both files.
    static Result<std::unique_ptr<Store>> open(const Options &options);

    // Runs `fn` inside one BEGIN IMMEDIATE transaction on the writer of data.db; commits when `fn`
    // succeeds, rolls back when it fails.
    Status write(const std::function<Status(Database &)> &fn);
    // The same on logs.db.
    Status writeLog(const std::function<Status(Database &)> &fn);
    // Runs `fn` on a pooled read-only connection to data.db.
    Status read(const std::function<Status(Database &)> &fn);

    // A read-only connection for the calling thread to own (one per network thread).
    Result<std::unique_ptr<Database>> openReader() const;

    QString dataDir() const { return m_options.dataDir; }
    QString dataPath() const;
    QString logsPath() const;
    // Bytes on disk of data.db including its WAL.
    qint64 dataSizeBytes() const;

private:
    explicit Store(Options options);
    Status runInTransaction(std::mutex &mutex, Database &db, const std::function<Status(Database &)> &fn);

    Options m_options;
    std::mutex m_writeMutex;
    std::unique_ptr<Database> m_writer;
    std::mutex m_logMutex;
    std::unique_ptr<Database> m_logWriter;
    std::mutex m_poolMutex;
    std::vector<std::unique_ptr<Database>> m_readers;
};

} // namespace Outpost::Store
