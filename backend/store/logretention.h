#pragma once

#include <QObject>
#include <QTimer>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "../core/clock.h"
#include "../core/result.h"

class QThreadPool;

namespace Outpost::Store {

class Database;
class Store;

// How long and how large one table of logs.db may grow. The table needs an INTEGER PRIMARY KEY
// `id` that grows with time and an indexed `time` column.
struct RetentionPolicy
{
    static constexpr qint64 kDayMs = 24 * 60 * 60 * 1000;
    enum class TimeFormat : quint8 {
        PocketBaseText, // "2006-01-02 15:04:05.000Z" (UTC), so that text order is time order
        UnixMs,
    };

    const char *table = ""; // fixed text, never from a request
    TimeFormat timeFormat = TimeFormat::UnixMs;
    int maxAgeDays = 0; // rows older than this many days are deleted; 0: no age limit
    qint64 maxBytes = 0; // the table and its indexes are kept below this; 0: no size limit
    qint64 ageIntervalMs = kDayMs; // between two age prunes
    qint64 sizeIntervalMs = 10'000; // between two size checks (a cheap estimate, see pruneBySize)
    int timerMs = 60 * 60 * 1000; // how often the timer asks whether a prune is due
    // Whether start() prunes by age on the calling thread (the rows are gone when it returns) or
    // queues that on the pool too (a large backlog does not hold up the start).
    bool startBlocks = true;
};

// Keeps a log table of logs.db within its policy: deletes rows older than `maxAgeDays` (as the
// clock counts days) and, when the table's pages (SQLite's dbstat, its indexes included) take more
// than `maxBytes`, the oldest rows until they take at most kTrimTo of it. Every delete runs in
// batches of kDeleteBatch rows, one logs.db transaction each, so the log writers are never held up
// for long. The size check runs every `sizeIntervalMs` from a cheap estimate (rows between the
// lowest and highest id × bytes per row last measured) and measures exactly only near the limit, so
// a table may pass its limit by what is written within one interval.
//
// Thread: create, start() and destroy on a thread with an event loop (the timer's). The timer's
// prunes run on `pool` and touch only the store, which must outlive them (Server waits for the pool
// before it closes the store). prune*() block (logs.db writes): never on a network thread.
class LogRetention : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogRetention)

public:
    static constexpr qint64 kDeleteBatch = 5000;
    static constexpr double kTrimTo = 0.9;

    LogRetention(Store &store, const Clock &clock, RetentionPolicy policy, QThreadPool *pool,
                 QObject *parent = nullptr);
    // Waits for the prunes it queued on the pool.
    ~LogRetention() override;

    // Prunes by age now (on the calling thread unless the policy says otherwise) and queues a size
    // check, then starts the timer; nothing when the policy has no limit.
    void start();
    // Deletes the rows older than `maxAgeDays` before the clock's now; returns how many.
    Result<qint64> pruneByAge();
    // Measures the table; when it is over `maxBytes`, deletes the oldest rows until it is at most
    // kTrimTo of it. Returns how many rows it deleted.
    Result<qint64> pruneBySize();
    // What the timer runs: queues on the pool an age prune when `ageIntervalMs` has passed since the
    // last, and a size check when `sizeIntervalMs` has (unless the last is still running). True
    // when it queued something.
    bool pruneIfDue();

    const RetentionPolicy &policy() const { return m_policy; }
    // Bytes of the pages `table` and its indexes take in `db` (dbstat; when SQLite lacks it, an
    // estimate from the row count).
    static Result<qint64> tableBytes(Database &db, const char *table);

private:
    Result<qint64> deleteOlderThan(qint64 cutoffMs);
    Result<qint64> deleteOldest(qint64 rows);
    Result<qint64> rowSpan(); // highest id - lowest id + 1, or 0 when empty
    void checkSize(); // on the pool
    void runOnPool(std::function<void()> job);

    Store &m_store;
    const Clock &m_clock;
    const RetentionPolicy m_policy;
    QThreadPool *m_pool;
    qint64 m_lastAgeMs = 0;
    qint64 m_lastSizeMs = 0;
    std::atomic<bool> m_sizeRunning {false};
    std::atomic<qint64> m_bytesPerRow {0}; // from the last exact measure; 0: none yet
    std::atomic<qint64> m_lastMeasureMs {0};
    std::mutex m_jobsMutex;
    std::condition_variable m_jobsDone;
    int m_jobs = 0; // queued on the pool and not finished; guarded by m_jobsMutex
    QTimer m_timer;
};

} // namespace Outpost::Store
