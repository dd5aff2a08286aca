#pragma once

#include <QString>
#include <array>

#include "result.h"

namespace Outpost {

// The route groups a rate limit applies to. Every route belongs to one (Http::rateGroupOf):
//   auth    logins, token refresh and exchange, logout: far stricter, they cost a password hash
//   read    listing and viewing records, exports
//   write   creating, changing and deleting records, batches, imports
//   admin   everything that needs a management permission (collections, keys, accounts, logs,
//           metrics, settings)
// The health check belongs to none and is never limited, so that probes keep working.
enum class RateGroup : quint8 { Auth, Read, Write, Admin };
inline constexpr int kRateGroupCount = 4;
QString rateGroupName(RateGroup group); // "auth", "read", "write", "admin"

// One group's limit: a token bucket of `limit` requests that refills at limit/window per second,
// so a caller may burst `limit` requests and then sustain limit/window per second. limit 0: off.
struct RateRule
{
    int limit = 0;
    int windowSeconds = 0;

    bool enabled() const { return limit > 0 && windowSeconds > 0; }
    friend bool operator==(const RateRule &a, const RateRule &b)
    {
        return a.limit == b.limit && a.windowSeconds == b.windowSeconds;
    }
};

// The rule of every group, as the config key `rate_limits` and the admin API write them:
//   "auth:30/60s, read:2000/10s, write:500/10s, admin:600/10s"
// Windows take s, m or h ("1m" = 60 s); a group may be "off"; groups left out are off; the whole
// value "off" disables rate limiting.
struct RateRules
{
    std::array<RateRule, kRateGroupCount> groups {};

    RateRule &operator[](RateGroup group) { return groups[size_t(group)]; }
    const RateRule &operator[](RateGroup group) const { return groups[size_t(group)]; }
    bool anyEnabled() const;
    friend bool operator==(const RateRules &a, const RateRules &b) { return a.groups == b.groups; }

    static RateRules defaults();
    static RateRules off() { return {}; }
    // InvalidArgument with a one-line message naming the bad item.
    static Result<RateRules> parse(const QString &text);
    QString toString() const; // parse(toString()) == *this
};

} // namespace Outpost
