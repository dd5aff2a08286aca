#pragma once

#include <QtGlobal>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "../core/result.h"

class QLoggingCategory;

namespace Outpost::Store {

struct QueuedLogOptions
{
    const char *name = "log"; // in warnings: "audit queue full …", "dropped 2 request log entries: …"
    const QLoggingCategory &(*category)() = nullptr; // a Q_LOGGING_CATEGORY function; required
    qsizetype capacity = 50'000; // entries waiting, at most
    qsizetype maxBatch = 1000; // entries per call of the writer (per transaction)
    int lingerMs = 20;
    const char *threadName = nullptr; // the thread's name, at most 15 characters; static storage
};

namespace QueuedLogDetail {
// The non-template parts of QueuedLog (queuedlog.cpp).
void prepareThread(const QueuedLogOptions &options); // names the thread, schedules it as a batch job
Status callWriter(const std::function<Status()> &write); // exceptions become Internal errors
void warnRefused(const QueuedLogOptions &options, quint64 count, bool overflowStarted, bool stopped);
void warnFailed(const QueuedLogOptions &options, quint64 count, const QString &why);
void warnDrained(const QueuedLogOptions &options, quint64 dropped);
} // namespace QueuedLogDetail

// A bounded queue in front of a log table, written by a thread of its own in batches (the audit log
// and the request log each have one). append() queues entries and returns at once; the thread hands
// them to `writer` in batches of at most `maxBatch`, one call (one transaction) each. Once woken by
// an entry, the thread waits up to `lingerMs` for more (unless `maxBatch` are queued or flush()
// asks), so that a steady stream makes a few large transactions rather than many small ones.
//
// Bounded: at most `capacity` entries wait; when the queue is full, append() drops what it was
// given and counts it (droppedCount()), warning once per overflow (and once more, with the total,
// when the queue has drained). A batch the writer fails is dropped and counted the same way. The
// thread takes the whole queue at once (a swap, so that appenders never wait for it to copy), so
// at most 2 × `capacity` entries are held in all. The destructor writes everything queued.
//
// Threads: every method is thread-safe. append() takes one short lock, allocates nothing once the
// queue's buffers have grown, and wakes the thread only for the first entry of a batch and when a
// batch is full: fine on network threads. flush() blocks: never call it on a network thread.
template <typename Entry> class QueuedLog
{
public:
    using Writer = std::function<Status(const std::vector<Entry> &)>;

    QueuedLog(Writer writer, QueuedLogOptions options)
        : m_writer(std::move(writer))
        , m_options(options)
    {
        m_options.capacity = qMax<qsizetype>(1, m_options.capacity);
        m_options.maxBatch = qMax<qsizetype>(1, m_options.maxBatch);
        m_queue.reserve(size_t(qMin(m_options.capacity, m_options.maxBatch)));
        m_thread = std::thread([this] { run(); });
    }
    // Writes everything queued, then stops the thread. Later append()s are dropped and counted.
    ~QueuedLog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    QueuedLog(const QueuedLog &) = delete;
    QueuedLog &operator=(const QueuedLog &) = delete;

    // False when the entry was dropped.
    bool append(Entry &&entry)
    {
        Refusal refusal;
        {
            std::lock_guard lock(m_mutex);
            if (admitLocked(1, refusal)) {
                m_queue.push_back(std::move(entry));
                return true;
            }
        }
        refuse(1, refusal);
        return false;
    }
    // All or, when they do not fit, none of them.
    bool append(std::vector<Entry> &&entries)
    {
        if (entries.empty())
            return true;
        Refusal refusal;
        {
            std::lock_guard lock(m_mutex);
            if (admitLocked(std::ssize(entries), refusal)) {
                std::move(entries.begin(), entries.end(), std::back_inserter(m_queue));
                return true;
            }
        }
        refuse(quint64(entries.size()), refusal);
        return false;
    }
    // Returns once every entry appended before the call is written (or dropped). Blocks.
    void flush()
    {
        std::unique_lock lock(m_mutex);
        const quint64 target = m_accepted;
        ++m_flushing;
        m_wake.notify_one(); // cut the linger short
        m_progress.wait(lock, [&] { return m_done >= target; });
        --m_flushing;
    }

    // Entries lost since construction: the queue was full, the log had stopped, or a write failed.
    quint64 droppedCount() const { return m_dropped.load(std::memory_order_relaxed); }
    // Entries the writer stored (it returned success) since construction.
    quint64 writtenCount() const { return m_written.load(std::memory_order_relaxed); }
    qsizetype capacity() const { return m_options.capacity; }

private:
    struct Refusal
    {
        bool overflowStarted = false;
        bool stopped = false;
    };

    bool admitLocked(qsizetype count, Refusal &refusal)
    {
        const qsizetype queued = std::ssize(m_queue);
        if (!m_stopping && queued + count <= m_options.capacity) {
            m_accepted += quint64(count);
            // The thread waits for the first entry, then lingers until a batch is full: no wake-up
            // (and no futex call on the appender's thread) for the entries in between.
            if (queued == 0 || (queued < m_options.maxBatch && queued + count >= m_options.maxBatch))
                m_wake.notify_one();
            return true;
        }
        refusal.stopped = m_stopping;
        if (!m_stopping) {
            m_overflowDropped += quint64(count);
            refusal.overflowStarted = !m_overflowing;
            m_overflowing = true;
        }
        return false;
    }

    void refuse(quint64 count, Refusal refusal)
    {
        m_dropped.fetch_add(count, std::memory_order_relaxed);
        QueuedLogDetail::warnRefused(m_options, count, refusal.overflowStarted, refusal.stopped);
    }

    void write(const std::vector<Entry> &batch)
    {
        const Status status = QueuedLogDetail::callWriter([&] { return m_writer(batch); });
        if (status) {
            m_written.fetch_add(quint64(batch.size()), std::memory_order_relaxed);
        } else {
            m_dropped.fetch_add(quint64(batch.size()), std::memory_order_relaxed);
            QueuedLogDetail::warnFailed(m_options, quint64(batch.size()), status.error().message);
        }
    }

    void run()
    {
        QueuedLogDetail::prepareThread(m_options);
        std::vector<Entry> taken;
        std::vector<Entry> chunk;
        for (;;) {
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty())
                    return; // stopping, and everything queued has been written
                m_wake.wait_for(lock, std::chrono::milliseconds(m_options.lingerMs), [this] {
                    return m_stopping || m_flushing > 0 || std::ssize(m_queue) >= m_options.maxBatch;
                });
                taken.swap(m_queue); // the queue keeps the emptied buffer of the last round
            }
            const qsizetype total = std::ssize(taken);
            if (total <= m_options.maxBatch) {
                write(taken);
            } else {
                for (auto it = taken.begin(); it != taken.end();) {
                    const auto end = it + std::min<std::ptrdiff_t>(taken.end() - it, m_options.maxBatch);
                    chunk.assign(std::make_move_iterator(it), std::make_move_iterator(end));
                    write(chunk);
                    chunk.clear();
                    it = end;
                }
            }
            taken.clear();
            finishRound(quint64(total));
        }
    }

    void finishRound(quint64 count)
    {
        quint64 overflowDropped = 0;
        {
            std::lock_guard lock(m_mutex);
            if (m_overflowing && m_queue.empty()) {
                overflowDropped = m_overflowDropped;
                m_overflowing = false;
                m_overflowDropped = 0;
            }
        }
        // Before flush() returns: whoever waited for the queue sees the report too.
        if (overflowDropped > 0)
            QueuedLogDetail::warnDrained(m_options, overflowDropped);
        {
            std::lock_guard lock(m_mutex);
            m_done += count;
        }
        m_progress.notify_all();
    }

    Writer m_writer;
    QueuedLogOptions m_options;
    std::mutex m_mutex;
    std::condition_variable m_wake; // the thread: entries queued, a flush, or stopping
    std::condition_variable m_progress; // flush(): m_done advanced
    std::vector<Entry> m_queue; // guarded by m_mutex
    quint64 m_accepted = 0; // entries ever queued; guarded by m_mutex
    quint64 m_done = 0; // of those, written or dropped by the thread; guarded by m_mutex
    bool m_stopping = false; // guarded by m_mutex
    int m_flushing = 0; // flush() calls waiting; guarded by m_mutex
    bool m_overflowing = false; // dropping since the last warning; guarded by m_mutex
    quint64 m_overflowDropped = 0; // dropped in the current overflow; guarded by m_mutex
    std::atomic<quint64> m_dropped {0};
    std::atomic<quint64> m_written {0};
    std::thread m_thread; // last: starts after everything it uses
};

} // namespace Outpost::Store
