#include "auditretention.h"

#include <QLoggingCategory>
#include <QThreadPool>

#include "../store/store.h"
#include "superusers.h"

namespace Outpost::Auth {

namespace {

Q_LOGGING_CATEGORY(lcRetention, "outpost.auth.retention")

// An hour between checks: a day of the clock is noticed within the hour, and a suspended laptop
// catches up soon after it wakes, without a timer that has to stay armed for a whole day.
constexpr int kCheckIntervalMs = 60 * 60 * 1000;

// The times are PocketBase's fixed-width UTC text, so that text order is time order.
Result<qint64> deleteBefore(Store::Store &store, const QString &cutoff)
{
    qint64 removed = 0;
    const Status s = store.writeLog([&](Store::Database &db) -> Status {
        auto remove = db.prepare("DELETE FROM audit_log WHERE time < ?");
        if (!remove)
            return remove.error();
        if (auto run = remove->bind(1, cutoff).run(); !run)
            return run;
        removed = db.changes();
        return {};
    });
    if (!s)
        return s.error();
    if (removed > 0)
        qCInfo(lcRetention) << "deleted" << removed << "audit entries older than" << cutoff;
    return removed;
}

} // namespace

AuditRetention::AuditRetention(Store::Store &store, const Clock &clock, int days, QThreadPool *pool, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_clock(clock)
    , m_days(days)
    , m_pool(pool)
{
    m_timer.setInterval(kCheckIntervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { pruneIfDue(); });
}

void AuditRetention::start()
{
    if (m_days <= 0)
        return;
    if (auto pruned = prune(); !pruned)
        qCWarning(lcRetention) << "audit log pruning failed:" << pruned.error().message;
    m_timer.start();
}

Result<qint64> AuditRetention::prune()
{
    m_lastPruneMs = m_clock.nowMs();
    if (m_days <= 0)
        return qint64(0);
    return deleteBefore(m_store, Superusers::timestamp(m_lastPruneMs - m_days * kDayMs));
}

bool AuditRetention::pruneIfDue()
{
    const qint64 now = m_clock.nowMs();
    if (m_days <= 0 || now - m_lastPruneMs < kDayMs)
        return false;
    m_lastPruneMs = now;
    m_pool->start([&store = m_store, cutoff = Superusers::timestamp(now - m_days * kDayMs)] {
        if (auto pruned = deleteBefore(store, cutoff); !pruned)
            qCWarning(lcRetention) << "audit log pruning failed:" << pruned.error().message;
    });
    return true;
}

} // namespace Outpost::Auth
