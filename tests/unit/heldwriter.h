#pragma once

#include <QList>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "core/result.h"

// A batch writer for a QueuedLog (the audit log, the request log) that records the batches it gets,
// each entry as the number `numberOf` reads from it, and, until open()ed, holds the log's thread in
// its first call: so that a test can fill the queue while the thread is busy.
template <typename Entry> class HeldWriter
{
public:
    explicit HeldWriter(std::function<int(const Entry &)> numberOf)
        : m_numberOf(std::move(numberOf))
    {
    }

    Outpost::Status write(const std::vector<Entry> &batch)
    {
        std::unique_lock lock(m_mutex);
        m_entered = true;
        m_changed.notify_all();
        m_changed.wait(lock, [this] { return m_open; });
        QList<int> numbers;
        for (const Entry &e : batch)
            numbers.append(m_numberOf(e));
        m_batches.append(numbers);
        return {};
    }
    // Returns once the log's thread is held in write().
    void waitEntered()
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return m_entered; });
    }
    void open()
    {
        std::lock_guard lock(m_mutex);
        m_open = true;
        m_changed.notify_all();
    }
    QList<QList<int>> batches()
    {
        std::lock_guard lock(m_mutex);
        return m_batches;
    }

private:
    std::function<int(const Entry &)> m_numberOf;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_entered = false;
    bool m_open = false;
    QList<QList<int>> m_batches;
};
