#include "auditretention.h"

namespace Outpost::Auth {

namespace {

Store::RetentionPolicy auditPolicy(int days)
{
    Store::RetentionPolicy policy;
    policy.table = "audit_log";
    policy.timeFormat = Store::RetentionPolicy::TimeFormat::PocketBaseText;
    policy.maxAgeDays = qMax(0, days);
    policy.ageIntervalMs = Store::RetentionPolicy::kDayMs;
    // An hour between checks: a day of the clock is noticed within the hour, and a suspended laptop
    // catches up soon after it wakes, without a timer that has to stay armed for a whole day.
    policy.timerMs = 60 * 60 * 1000;
    return policy;
}

} // namespace

AuditRetention::AuditRetention(Store::Store &store, const Clock &clock, int days, QThreadPool *pool, QObject *parent)
    : Store::LogRetention(store, clock, auditPolicy(days), pool, parent)
{
}

} // namespace Outpost::Auth
