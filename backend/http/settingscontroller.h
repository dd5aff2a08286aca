#pragma once

#include <QJsonObject>
#include <QMutex>
#include <atomic>

#include "../core/ratelimitrules.h"
#include "router.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Store {
class Store;
}

namespace Outpost::Http {

class RateLimiter;

// Run-time settings (permission settings:manage: owners, admins, keys with that scope):
//   GET    /api/settings/rate-limits   the rules in force, where they come from, the config's rules
//   PUT    /api/settings/rate-limits   {"groups": {"auth": {"limit": 30, "window": 60}, "read": null,
//                                     ...}}: replaces every rule (a group left out or null is off);
//                                     takes effect on the next request and persists in data.db
//   DELETE /api/settings/rate-limits   drops the override: the config's rules again
// Changes are audited (settings.update, the rules before and after).
//
// Thread: the routes run on network threads; writes go to `pool`.
class SettingsController
{
public:
    static constexpr const char *kRateLimitsKey = "rate_limits"; // in data.db's _settings

    SettingsController(RateLimiter &limiter, Store::Store &store, const Clock &clock, RateRules configRules,
                       QThreadPool *pool);

    // Applies the override saved by an earlier run, if any. Call once before serving.
    Status restore();
    void registerRoutes(Router &router);

    // The JSON form of `rules` (also the console's): {"auth": {"limit": 30, "window": 60}, "read": null, ...}
    static QJsonObject groupsJson(const RateRules &rules);
    // Parses groupsJson()'s form; field errors by group name.
    static std::optional<RateRules> parseGroups(const QJsonValue &value, QJsonObject &fieldErrors);

private:
    QJsonObject stateJson() const;
    void put(const Request &request, const Responder &responder);
    void reset(const Request &request, const Responder &responder);
    Status save(const std::optional<RateRules> &rules); // nullopt: delete the override
    void audit(const Request &request, const RateRules &before, const RateRules &after);

    RateLimiter &m_limiter;
    Store::Store &m_store;
    const Clock &m_clock;
    const RateRules m_configRules;
    QThreadPool *m_pool;
    QMutex m_mutex; // serialises changes (held across the store write: never lock it on a network thread)
    std::atomic<bool> m_overridden {false};
};

} // namespace Outpost::Http
