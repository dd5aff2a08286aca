#include "ratelimiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../auth/keyformat.h"

namespace Outpost::Http {

std::optional<RateGroup> rateGroupOf(Method method, QByteArrayView pattern, const Policy &policy)
{
    switch (policy.kind) {
    case Policy::Kind::Open:
        if (pattern == "/api/health")
            return std::nullopt;
        return method == Method::Get || method == Method::Head ? RateGroup::Read : RateGroup::Auth;
    case Policy::Kind::Rules:
    case Policy::Kind::Permission:
        break;
    }
    switch (policy.permission) {
    case Auth::Permission::RecordsRead:
        return RateGroup::Read;
    case Auth::Permission::RecordsWrite:
        return RateGroup::Write;
    default:
        return RateGroup::Admin;
    }
}

RateLimiter::RateLimiter(const Clock &clock, RateRules rules)
    : m_clock(clock)
{
    setRules(rules);
}

void RateLimiter::setRules(const RateRules &rules)
{
    for (int g = 0; g < kRateGroupCount; ++g)
        m_rules[size_t(g)].store(pack(rules.groups[size_t(g)]), std::memory_order_relaxed);
}

RateRules RateLimiter::rules() const
{
    RateRules rules;
    for (int g = 0; g < kRateGroupCount; ++g)
        rules.groups[size_t(g)] = unpack(m_rules[size_t(g)].load(std::memory_order_relaxed));
    return rules;
}

double RateLimiter::refilled(const Bucket &bucket, const RateRule &rule, qint64 nowMs)
{
    const qint64 elapsedMs = qMax<qint64>(0, nowMs - bucket.updatedMs);
    const double rate = double(rule.limit) / (double(rule.windowSeconds) * 1000.0); // tokens per ms
    return qMin(double(rule.limit), bucket.tokens + double(elapsedMs) * rate);
}

std::optional<RateLimiter::Decision> RateLimiter::take(RateGroup group, QByteArrayView partition)
{
    const quint64 packed = m_rules[size_t(group)].load(std::memory_order_relaxed);
    const RateRule rule = unpack(packed);
    if (!rule.enabled())
        return std::nullopt;
    QByteArray key;
    key.reserve(partition.size() + 1);
    key.append(char('0' + int(group))).append(partition);
    Shard &shard = m_shards[size_t(qHash(key) % kShards)];
    const qint64 nowMs = m_clock.nowMs();

    Decision decision;
    decision.group = group;
    decision.rule = rule;
    double tokens = 0;
    {
        std::lock_guard lock(shard.mutex);
        auto it = shard.buckets.find(key);
        if (it == shard.buckets.end() || it->rule != packed) {
            if (it == shard.buckets.end()) {
                if (++shard.inserted >= 1024 || shard.buckets.size() >= kMaxBucketsPerShard)
                    sweep(shard, nowMs);
                it = shard.buckets.insert(key, Bucket());
            }
            it->tokens = rule.limit;
            it->rule = packed;
        } else {
            it->tokens = refilled(*it, rule, nowMs);
        }
        it->updatedMs = nowMs;
        decision.allowed = it->tokens >= 1.0;
        if (decision.allowed)
            it->tokens -= 1.0;
        tokens = it->tokens;
    }
    const double msPerToken = double(rule.windowSeconds) * 1000.0 / double(rule.limit);
    decision.remaining = int(std::floor(tokens));
    decision.resetSeconds = int(std::ceil((double(rule.limit) - tokens) * msPerToken / 1000.0));
    if (!decision.allowed) {
        decision.retryAfterSeconds = qMax(1, int(std::ceil((1.0 - tokens) * msPerToken / 1000.0)));
        m_refused[size_t(group)].fetch_add(1, std::memory_order_relaxed);
    }
    return decision;
}

void RateLimiter::sweep(Shard &shard, qint64 nowMs)
{
    shard.inserted = 0;
    // A bucket that has refilled (or whose rule changed) is the same as none.
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
        const quint64 current = m_rules[size_t(it.key().at(0) - '0')].load(std::memory_order_relaxed);
        const RateRule rule = unpack(current);
        if (it->rule != current || !rule.enabled() || refilled(*it, rule, nowMs) >= rule.limit)
            it = shard.buckets.erase(it);
        else
            ++it;
    }
    if (shard.buckets.size() < kMaxBucketsPerShard)
        return;
    // Still full: more live partitions than we keep. Drop the eighth touched longest ago.
    std::vector<qint64> times;
    times.reserve(size_t(shard.buckets.size()));
    for (const Bucket &bucket : std::as_const(shard.buckets))
        times.push_back(bucket.updatedMs);
    const auto nth = times.begin() + qsizetype(times.size() / 8);
    std::nth_element(times.begin(), nth, times.end());
    const qint64 cutoff = *nth;
    for (auto it = shard.buckets.begin(); it != shard.buckets.end();)
        it = it->updatedMs <= cutoff ? shard.buckets.erase(it) : std::next(it);
}

qsizetype RateLimiter::bucketCount() const
{
    qsizetype n = 0;
    for (const Shard &shard : m_shards) {
        std::lock_guard lock(const_cast<std::mutex &>(shard.mutex));
        n += shard.buckets.size();
    }
    return n;
}

QByteArray RateLimiter::partitionOf(const Request &request, RateGroup group)
{
    const Caller &caller = request.caller;
    switch (group == RateGroup::Auth ? Caller::Kind::Guest : caller.kind) {
    case Caller::Kind::ApiKey:
        return "k:" + caller.id.toUtf8();
    case Caller::Kind::Superuser:
        return "s:" + caller.id.toUtf8();
    case Caller::Kind::User:
        return "u:" + caller.collection.toUtf8() + ':' + caller.id.toUtf8();
    case Caller::Kind::Guest:
        break;
    }
    const QHostAddress client = Auth::unmappedAddress(request.client.isNull() ? request.peer : request.client);
    if (client.protocol() == QAbstractSocket::IPv6Protocol) {
        Q_IPV6ADDR bytes = client.toIPv6Address();
        return "a6:" + QByteArray(reinterpret_cast<const char *>(bytes.c), 8).toHex(); // the /64
    }
    return "a4:" + QByteArray::number(client.toIPv4Address(), 16);
}

QByteArray RateLimiter::policyHeader(const Decision &decision)
{
    return '"' + rateGroupName(decision.group).toLatin1() + "\";q=" + QByteArray::number(decision.rule.limit)
        + ";w=" + QByteArray::number(decision.rule.windowSeconds);
}

QByteArray RateLimiter::stateHeader(const Decision &decision)
{
    return '"' + rateGroupName(decision.group).toLatin1() + "\";r=" + QByteArray::number(decision.remaining)
        + ";t=" + QByteArray::number(decision.resetSeconds);
}

} // namespace Outpost::Http
