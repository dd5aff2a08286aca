#pragma once

#include <QtGlobal>
#include <array>
#include <atomic>

namespace Outpost::Observe {

// Request counters, updated by every network thread without locks (relaxed atomics: each counter
// is exact, a snapshot of several is only approximately simultaneous) and read by the console.
class RequestStats
{
public:
    void record(int status)
    {
        m_total.fetch_add(1, std::memory_order_relaxed);
        const int cls = status / 100;
        if (cls >= 1 && cls <= 5)
            m_byClass[size_t(cls - 1)].fetch_add(1, std::memory_order_relaxed);
    }
    void recordRejected(int status)
    {
        m_rejected.fetch_add(1, std::memory_order_relaxed);
        record(status);
    }

    quint64 total() const { return m_total.load(std::memory_order_relaxed); }
    // Requests answered with status class `cls` (1-5, e.g. 4 for 4xx).
    quint64 byClass(int cls) const { return m_byClass[size_t(qBound(1, cls, 5) - 1)].load(std::memory_order_relaxed); }
    // Requests the guard refused before routing (malformed, too large, too slow).
    quint64 rejected() const { return m_rejected.load(std::memory_order_relaxed); }

private:
    std::atomic<quint64> m_total {0};
    std::atomic<quint64> m_rejected {0};
    std::array<std::atomic<quint64>, 5> m_byClass {};
};

} // namespace Outpost::Observe
