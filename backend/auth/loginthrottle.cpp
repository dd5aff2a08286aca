#include "loginthrottle.h"

#include <QMutexLocker>
#include <algorithm>
#include <vector>

#include "keyformat.h"

namespace Outpost::Auth {

namespace {

// Keys of the three kinds. An address never contains '\n'; the account, which may, comes last.
QString accountOf(const QString &identity)
{
    return identity.trimmed().toCaseFolded().left(254);
}

QString pairKey(const QString &address, const QString &account)
{
    return u'p' + address + u'\n' + account;
}

QString addressEntryKey(const QString &address)
{
    return u'a' + address;
}

QString accountKey(const QString &account)
{
    return u'u' + account;
}

// What a failure is tagged with: the account for an address key, the address for an account key.
size_t tagOf(const QString &text)
{
    return qHash(text);
}

} // namespace

qint64 LoginThrottle::Verdict::retryAfterSeconds() const
{
    return qMax<qint64>(1, (retryAfterMs + 999) / 1000);
}

LoginThrottle::LoginThrottle(const Clock &clock)
    : LoginThrottle(clock, Limits {})
{
}

LoginThrottle::LoginThrottle(const Clock &clock, Limits limits)
    : m_clock(clock)
    , m_limits(limits)
{
}

QString LoginThrottle::addressKey(const QHostAddress &address)
{
    const QHostAddress plain = unmappedAddress(address);
    if (plain.protocol() != QAbstractSocket::IPv6Protocol)
        return plain.toString();
    // RFC 6177 and common practice hand one end site a /64 or more: counting single IPv6 addresses
    // would give an attacker 2^64 fresh counters.
    Q_IPV6ADDR bytes = plain.toIPv6Address();
    std::fill(std::begin(bytes.c) + 8, std::end(bytes.c), quint8(0));
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

LoginThrottle::Verdict LoginThrottle::begin(const QString &identity, const QHostAddress &address)
{
    const QString account = accountOf(identity);
    const QString from = addressKey(address);
    const QString pair = pairKey(from, account);
    const QString accountWide = accountKey(account);
    const qint64 now = m_clock.nowMs();

    QMutexLocker lock(&m_mutex);
    qint64 wait = qMax(lockFor(pair, m_limits.pairFailures, now),
                       lockFor(addressEntryKey(from), m_limits.addressFailures, now));
    if (!isKnown(pair, now))
        wait = qMax(wait, lockFor(accountWide, m_limits.accountSources, now));
    if (wait > 0)
        return {false, wait};
    countFailure(pair, 0, false, now);
    countFailure(addressEntryKey(from), tagOf(account), false, now);
    countFailure(accountWide, tagOf(from), true, now);
    return {};
}

void LoginThrottle::succeeded(const QString &identity, const QHostAddress &address)
{
    const QString account = accountOf(identity);
    const QString from = addressKey(address);
    const QString pair = pairKey(from, account);
    const qint64 now = m_clock.nowMs();

    QMutexLocker lock(&m_mutex);
    m_entries.remove(pair);
    // The owner's own typos are forgiven, nothing else: the address keeps its failures on other
    // accounts (credential stuffing) and the account its failures from other addresses.
    forgive(addressEntryKey(from), tagOf(account));
    forgive(accountKey(account), tagOf(from));
    if (!m_known.contains(pair) && m_known.size() >= m_limits.maxKnown) {
        m_known.removeIf([&](const auto &item) { return now - item.value() > m_limits.knownForMs; });
        while (m_known.size() >= m_limits.maxKnown)
            m_known.erase(std::min_element(m_known.begin(), m_known.end()));
    }
    m_known.insert(pair, now);
}

qsizetype LoginThrottle::trackedKeys() const
{
    QMutexLocker lock(&m_mutex);
    return m_entries.size();
}

void LoginThrottle::prune(Entry &entry, qint64 now) const
{
    while (!entry.failures.isEmpty() && now - entry.failures.first().first >= m_limits.windowMs)
        entry.failures.removeFirst();
    if (now >= entry.lockedUntilMs && now - entry.lastFailureMs > m_limits.forgetAfterMs)
        entry.locks = 0;
}

qint64 LoginThrottle::lockFor(const QString &key, int limit, qint64 now)
{
    const auto it = m_entries.find(key);
    if (it == m_entries.end())
        return 0;
    Entry &entry = *it;
    if (now < entry.lockedUntilMs)
        return entry.lockedUntilMs - now;
    prune(entry, now);
    if (entry.failures.size() < limit)
        return 0;
    qint64 duration = m_limits.firstLockMs;
    for (int i = 0; i < entry.locks && duration < m_limits.maxLockMs; ++i)
        duration *= 2;
    duration = qMin(duration, m_limits.maxLockMs);
    ++entry.locks;
    entry.failures.clear();
    entry.lockedUntilMs = now + duration;
    return duration;
}

void LoginThrottle::forgive(const QString &key, size_t tag)
{
    if (auto it = m_entries.find(key); it != m_entries.end())
        it->failures.removeIf([tag](const QPair<qint64, size_t> &f) { return f.second == tag; });
}

void LoginThrottle::countFailure(const QString &key, size_t tag, bool distinct, qint64 now)
{
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
        if (m_entries.size() >= m_limits.maxKeys)
            makeRoom(now);
        it = m_entries.insert(key, Entry {});
    }
    Entry &entry = *it;
    // A locked key was refused before it got here unless the account lock was bypassed by a known
    // address: that failure must not add to the next lock.
    if (now < entry.lockedUntilMs)
        return;
    prune(entry, now);
    if (distinct)
        entry.failures.removeIf([tag](const QPair<qint64, size_t> &f) { return f.second == tag; });
    entry.failures.append({now, tag});
    entry.lastFailureMs = now;
    // Known addresses may go on failing past the limit (they skip the account check): stay bounded.
    const int most = std::max({m_limits.pairFailures, m_limits.addressFailures, m_limits.accountSources});
    if (entry.failures.size() > most)
        entry.failures.removeFirst();
}

bool LoginThrottle::isKnown(const QString &pair, qint64 now) const
{
    const auto it = m_known.constFind(pair);
    return it != m_known.cend() && now - *it <= m_limits.knownForMs;
}

// Called with the map full: drops what has expired, then the least recently failed keys, down to
// 90% of the cap, so that a spray from many addresses costs one sort per tenth of the cap.
void LoginThrottle::makeRoom(qint64 now)
{
    m_entries.removeIf([&](const auto &item) {
        const Entry &e = item.value();
        return now >= e.lockedUntilMs
            && (now - e.lastFailureMs > m_limits.forgetAfterMs
                || (e.locks == 0 && now - e.lastFailureMs >= m_limits.windowMs));
    });
    const qsizetype target = m_limits.maxKeys - qMax<qsizetype>(1, m_limits.maxKeys / 10);
    if (m_entries.size() <= target)
        return;
    // Exactly the excess goes, even when many keys share a time (a spray within one millisecond).
    qsizetype excess = m_entries.size() - target;
    const auto stamp = [](const Entry &e) { return qMax(e.lastFailureMs, e.lockedUntilMs); };
    std::vector<qint64> times;
    times.reserve(size_t(m_entries.size()));
    for (const Entry &e : std::as_const(m_entries))
        times.push_back(stamp(e));
    const auto cut = times.begin() + (excess - 1);
    std::nth_element(times.begin(), cut, times.end());
    const qint64 newestDropped = *cut;
    m_entries.removeIf([&](const auto &item) { return stamp(item.value()) < newestDropped && excess-- > 0; });
    m_entries.removeIf([&](const auto &item) { return stamp(item.value()) == newestDropped && excess-- > 0; });
}

} // namespace Outpost::Auth
