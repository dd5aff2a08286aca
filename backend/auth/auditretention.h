#pragma once

#include <QObject>
#include <QTimer>

#include "../core/clock.h"
#include "../core/result.h"

class QThreadPool;

namespace Outpost::Store {
class Store;
}

namespace Outpost::Auth {

// Keeps logs.db's audit_log to the last `days` days (Config::auditRetentionDays; 0 keeps every
// entry): deletes older entries at start() and then once a day, a day as the clock counts it.
//
// Thread: create, start() and destroy on a thread with an event loop (the timer's). The timer's
// deletes run on `pool` and touch only the store, which must outlive them (Server waits for the
// pool before it closes the store).
class AuditRetention final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditRetention)

public:
    static constexpr qint64 kDayMs = 24 * 60 * 60 * 1000;

    AuditRetention(Store::Store &store, const Clock &clock, int days, QThreadPool *pool, QObject *parent = nullptr);

    // Prunes now, on the calling thread, then checks every hour whether a prune is due.
    void start();
    // Deletes the entries older than `days` days before the clock's now, and returns how many.
    // Blocks (a logs.db write).
    Result<qint64> prune();
    // What the timer runs: when a day has passed since the last prune, queues one on the pool and
    // returns true.
    bool pruneIfDue();

private:
    Store::Store &m_store;
    const Clock &m_clock;
    int m_days;
    QThreadPool *m_pool;
    qint64 m_lastPruneMs = 0;
    QTimer m_timer;
};

} // namespace Outpost::Auth
