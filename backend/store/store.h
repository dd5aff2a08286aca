#pragma once

#include <QString>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../core/config.h"
#include "auditlog.h"
#include "sqlite.h"

namespace Outpost::Store {

// The data directory's two SQLite files: `data.db` (accounts, settings, later collections) and
// `logs.db` (audit and request logs), kept apart so that logging never contends with data writes.
//
// Threads: every method is thread-safe. data.db's writer connection belongs to one writer thread
// that runs every write()/submitWrite() job, in groups that share one transaction and one fsync.
// logs.db's writer is serialised by a mutex. Each network thread owns a reader from openReader();
// other threads borrow pooled readers. write()/writeLog()/read() block (a durable commit waits for
// fsync): never call them on a network thread; submitWrite() never blocks.
class Store
{
public:
    struct Options
    {
        QString dataDir;
        Durability durability = Durability::Full;
    };

    // The most jobs the writer runs in one group (one transaction): bounds a group's latency.
    static constexpr int maxWriteGroupSize = 512;

    // Runs every job already queued (their `done`s are called), stops the writer thread, writes the
    // audit entries queued (those the `done`s appended too), closes the files. Must not run on the
    // writer thread (from a job's fn or done).
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // Creates the directory (mode 0700) and files if needed and runs the migrations of both files.
    static Result<std::unique_ptr<Store>> open(const Options &options);

    // Queues `fn` for data.db's writer. The writer thread runs queued jobs together: one
    // BEGIN IMMEDIATE, each job inside its own SAVEPOINT (a failing job rolls back only its own
    // changes; the others still commit), then one COMMIT — one fsync for the whole group. Jobs run
    // in the order they were queued, and each sees the changes of the jobs before it.
    // `done` runs on the writer thread after the commit with the job's own status, or with the
    // commit's error if the commit failed (then every job of the group failed and nothing was stored).
    // A job whose fn failed always gets fn's error. When a job's SQL makes SQLite abandon the whole
    // transaction (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, OR ROLLBACK), that job gets its error,
    // every other job of its group gets Unavailable, and nothing of the group is stored; jobs are
    // never run twice. After shutdown began, `done` gets Unavailable at once, on the calling thread.
    // Never blocks the caller: safe on network threads. fn and done must not call write() (it
    // returns Internal there) nor wait for another job; they may call submitWrite(). fn must not
    // BEGIN, COMMIT, ROLLBACK or RELEASE what it did not open itself. `done` may be empty; it should
    // only hand the result on (e.g. post it to a network thread): the next group waits for it.
    void submitWrite(std::function<Status(Database &)> fn, std::function<void(Status)> done);
    // Runs `fn` as a submitWrite() job (sharing a group with others) and waits for it: returns fn's
    // error (everything fn did is rolled back), or the group's error, or success once fn's changes
    // are committed. Blocks; on the writer thread (inside a job's fn or done) it returns Internal.
    Status write(const std::function<Status(Database &)> &fn);
    // Runs `fn` inside one BEGIN IMMEDIATE transaction on the writer of logs.db; commits when `fn`
    // succeeds, rolls back when it fails.
    Status writeLog(const std::function<Status(Database &)> &fn);
    // Runs `fn` on a pooled read-only connection to data.db.
    Status read(const std::function<Status(Database &)> &fn);
    // Runs `fn` on a pooled read-only connection to logs.db. Blocks like read().
    Status readLog(const std::function<Status(Database &)> &fn);

    // logs.db's audit trail: every audit entry goes through it (see AuditLog). Lives as long as
    // the store; append() is safe anywhere, also inside write jobs and their `done`s.
    AuditLog &auditLog() { return *m_auditLog; }

    // A read-only connection for the calling thread to own (one per network thread).
    Result<std::unique_ptr<Database>> openReader() const;

    QString dataDir() const { return m_options.dataDir; }
    QString dataPath() const;
    QString logsPath() const;
    // Bytes on disk of data.db including its WAL.
    qint64 dataSizeBytes() const;
    // Groups (write transactions on data.db) the writer has run since open(); counted before the
    // group's `done`s are called. For tests and metrics.
    quint64 writeGroupCount() const { return m_writeGroups.load(std::memory_order_relaxed); }

private:
    struct WriteJob
    {
        std::function<Status(Database &)> fn;
        std::function<void(Status)> done;
        qint64 queuedNs = 0; // monotonicNs() at submitWrite(), for the request's store time
    };

    explicit Store(Options options);
    Status runInTransaction(std::mutex &mutex, Database &db, const std::function<Status(Database &)> &fn);
    // Runs `fn` on a connection to `path` taken from `pool` (guarded by m_poolMutex), opened if
    // the pool is empty, and puts it back afterwards.
    Status borrowReader(std::vector<std::unique_ptr<Database>> &pool, const QString &path,
                        const std::function<Status(Database &)> &fn);
    // The writer thread's loop and its steps; they alone touch m_writer once open() has returned.
    void runWriter();
    void runGroup(std::vector<WriteJob> &group);
    Status runJobs(std::vector<WriteJob> &group, std::vector<Status> &results);

    Options m_options;
    std::unique_ptr<Database> m_writer;
    std::mutex m_queueMutex;
    std::condition_variable m_queueReady;
    std::deque<WriteJob> m_queue; // guarded by m_queueMutex
    bool m_stopping = false; // guarded by m_queueMutex
    std::atomic<quint64> m_writeGroups {0};
    std::thread m_writerThread;
    std::mutex m_logMutex;
    std::unique_ptr<Database> m_logWriter;
    std::unique_ptr<AuditLog> m_auditLog; // writes through writeLog(); ~Store ends it before the files close
    std::mutex m_poolMutex;
    std::vector<std::unique_ptr<Database>> m_readers; // data.db
    std::vector<std::unique_ptr<Database>> m_logReaders; // logs.db
};

} // namespace Outpost::Store
