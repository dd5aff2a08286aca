#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <array>
#include <atomic>
#include <mutex>
#include <optional>

#include "../core/clock.h"
#include "../core/ratelimitrules.h"
#include "router.h"

namespace Outpost::Http {

// The group a route belongs to, from its method, pattern and policy (see RateGroup): open routes
// that change state are auth (logins, token exchange), open reads are read; rules() and needs()
// routes go by their permission. nullopt for the health check, which is never limited.
std::optional<RateGroup> rateGroupOf(Method method, QByteArrayView pattern, const Policy &policy);

// Token buckets per route group and caller, shared by every network thread.
//
// A caller is its API key, its user or superuser account, or, for anonymous callers (and callers
// whose credentials were refused, and every caller of the auth group), its client address; IPv6 clients count per /64,
// the block one subscriber usually gets, so that rotating addresses inside it gains nothing. A bucket holds up to the
// rule's limit and refills continuously at limit/window per second.
//
// Exact under concurrency: a bucket is read and taken under its shard's mutex, so of a burst of
// requests on any number of threads within one window, exactly `limit` pass (the test clock makes
// that exact; with the real clock the refill during the burst adds the tokens it should).
//
// Memory is bounded: a full bucket is the same as no bucket, so buckets that have refilled are
// dropped now and then, and when a shard still holds kMaxBucketsPerShard the oldest-touched ones
// go first (a caller whose bucket is evicted starts full again: bounded memory wins over exactness
// for an attacker who creates more partitions than that).
//
// Thread-safe.
class RateLimiter
{
public:
    static constexpr int kShards = 16;
    static constexpr qsizetype kMaxBucketsPerShard = 8192;

    RateLimiter(const Clock &clock, RateRules rules);

    // Replaces the rules (any thread); buckets of groups whose rule changed start full.
    void setRules(const RateRules &rules);
    RateRules rules() const;

    struct Decision
    {
        bool allowed = true;
        RateGroup group = RateGroup::Read;
        RateRule rule;
        int remaining = 0; // whole tokens left after this request
        int resetSeconds = 0; // until the bucket is full again
        int retryAfterSeconds = 0; // when refused: until one token is back
    };
    // Takes one token from the bucket of (`group`, `partition`). nullopt when the group has no limit.
    std::optional<Decision> take(RateGroup group, QByteArrayView partition);

    // The partition of a request to a route of `group`, from its caller (after the gate) and client
    // address. The auth group always counts by address: anyone may sign up, and a token of one's
    // own account must not buy a fresh bucket for guessing another account's password.
    static QByteArray partitionOf(const Request &request, RateGroup group);

    // For GET /metrics: requests refused per group since start.
    quint64 refusedCount(RateGroup group) const { return m_refused[size_t(group)].load(std::memory_order_relaxed); }
    qsizetype bucketCount() const;

    // RFC 9651 structured-field values of draft-ietf-httpapi-ratelimit-headers-10.
    static QByteArray policyHeader(const Decision &decision); // "read";q=2000;w=10
    static QByteArray stateHeader(const Decision &decision); // "read";r=1999;t=1

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 updatedMs = 0;
        quint64 rule = 0; // the packed rule it was filled under; another one makes it stale (full)
    };
    struct Shard
    {
        std::mutex mutex;
        QHash<QByteArray, Bucket> buckets; // key: group byte + partition
        quint32 inserted = 0; // since the last sweep
    };

    static quint64 pack(const RateRule &rule)
    {
        return quint64(quint32(rule.limit)) << 32 | quint32(rule.windowSeconds);
    }
    static RateRule unpack(quint64 packed) { return {int(packed >> 32), int(packed & 0xffffffffu)}; }
    static double refilled(const Bucket &bucket, const RateRule &rule, qint64 nowMs);
    void sweep(Shard &shard, qint64 nowMs);

    const Clock &m_clock;
    // Each group's rule, packed so that take() reads it without a lock.
    std::array<std::atomic<quint64>, kRateGroupCount> m_rules {};
    std::array<Shard, kShards> m_shards;
    std::array<std::atomic<quint64>, kRateGroupCount> m_refused {};
};

} // namespace Outpost::Http
