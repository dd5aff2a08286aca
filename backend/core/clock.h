#pragma once

#include <QDateTime>
#include <QTimeZone>
#include <atomic>

namespace Outpost {

// Wall-clock time, injectable so tests can move time without sleeping (token expiry, lockouts).
// Implementations are thread-safe.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual qint64 nowMs() const = 0;
    qint64 nowSeconds() const { return nowMs() / 1000; }
    QDateTime now() const { return QDateTime::fromMSecsSinceEpoch(nowMs(), Qt::UTC); }
};

class SystemClock final : public Clock
{
public:
    qint64 nowMs() const override { return QDateTime::currentMSecsSinceEpoch(); }
};

// A clock that only moves when told to.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 startMs = 1'700'000'000'000)
        : m_ms(startMs)
    {
    }
    qint64 nowMs() const override { return m_ms.load(); }
    void advanceMs(qint64 ms) { m_ms += ms; }
    void setMs(qint64 ms) { m_ms = ms; }

private:
    std::atomic<qint64> m_ms;
};

} // namespace Outpost
