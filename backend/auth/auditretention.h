#pragma once

#include "../store/logretention.h"

namespace Outpost::Auth {

// Keeps logs.db's audit_log to the last `days` days (Config::auditRetentionDays; 0 keeps every
// entry): deletes older entries at start() and then once a day, a day as the clock counts it. A
// Store::LogRetention with the audit log's policy; its thread rules apply.
class AuditRetention final : public Store::LogRetention
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditRetention)

public:
    static constexpr qint64 kDayMs = Store::RetentionPolicy::kDayMs;

    AuditRetention(Store::Store &store, const Clock &clock, int days, QThreadPool *pool, QObject *parent = nullptr);

    // Deletes the entries older than `days` days before the clock's now, and returns how many.
    // Blocks (a logs.db write).
    Result<qint64> prune() { return pruneByAge(); }
};

} // namespace Outpost::Auth
