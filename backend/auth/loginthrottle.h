#pragma once

#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QMutex>
#include <QString>

#include "../core/clock.h"

namespace Outpost::Auth {

// Brute-force protection for password logins (OWASP Authentication Cheat Sheet, "Protect Against
// Automated Attacks"), in memory: a restart forgets it.
//
// What is counted. Every attempt that begin() admits counts as a failure at once, before the
// password is checked; succeeded() takes it back. So a burst of parallel guesses cannot all pass the
// check before the first of them is recorded. Unknown accounts count exactly like wrong passwords.
// Three kinds of key, each with its own sliding window (`window`, 15 min):
//   (account, address)  locked after `pairFailures` (5) failures: one address guessing one account
//   address             locked after `addressFailures` (10) failures on any accounts: credential
//                       stuffing from one address. Higher than the pair limit so that one user's
//                       typos do not lock everyone else behind the same NAT or proxy.
//   account             locked after failures from `accountSources` (20) different addresses: a
//                       distributed guess at one account
// The attempt after the limit is refused and starts the lock; refused attempts are not counted.
// A lock lasts `firstLock` (1 min) and doubles with each further lock of the same key, up to
// `maxLock` (1 h); a key forgets its locks after `forgetAfter` (1 day) without failures. A
// success resets its (account, address) key and forgives that pair's failures in the other two
// keys (the owner's own typos), not failures on other accounts or from other addresses. Addresses are counted by IPv4
// address and by IPv6 /64 network (one client commonly holds a whole /64); IPv4-mapped IPv6 addresses count as IPv4.
//
// The trade-off. Locking an account as a whole would let anyone lock its real owner out by
// guessing badly on purpose. So the pair and address locks bind only the guesser's address, and the
// account lock (which needs many addresses to trigger) is bypassed by an address that logged into
// that account successfully within `knownFor` (30 days). A botnet can therefore lock an account
// for its owner only when the owner logs in from a new address while it is under attack; an
// attacker who controls an address the owner used recently (same NAT) is held by the pair and
// address locks instead. Known addresses are only written by successful logins, in their own
// table, so a spray of failures cannot evict them.
//
// Memory: at most `maxKeys` failure keys and `maxKnown` known addresses. When full, expired keys
// go first, then the least recently failed, down to 90% (so the sweep's cost is amortised).
//
// Thread-safe: every method takes one mutex and does O(1) work, except the occasional sweep.
class LoginThrottle
{
public:
    struct Limits
    {
        int pairFailures = 5;
        int addressFailures = 10;
        int accountSources = 20;
        qint64 windowMs = 15 * 60'000;
        qint64 firstLockMs = 60'000;
        qint64 maxLockMs = 3'600'000;
        qint64 forgetAfterMs = 24 * 3'600'000;
        qint64 knownForMs = 30LL * 24 * 3'600'000;
        qsizetype maxKeys = 100'000;
        qsizetype maxKnown = 10'000;
    };

    struct Verdict
    {
        bool allowed = true;
        qint64 retryAfterMs = 0; // when refused: until the longest lock that applies ends
        qint64 retryAfterSeconds() const; // rounded up, at least 1, for the Retry-After header
    };

    explicit LoginThrottle(const Clock &clock);
    LoginThrottle(const Clock &clock, Limits limits);

    // Before checking a password: refused when a lock applies (nothing is counted then); otherwise
    // allowed, and the attempt is counted as a failure until succeeded() says otherwise.
    // `account` is the identity as sent (trimmed and case-folded here).
    Verdict begin(const QString &account, const QHostAddress &address);
    // After a successful login that begin() allowed: resets the pair key, drops the address's
    // failures on this account from the address key and this address's failures from the account
    // key, and remembers the address as known for the account. Locks already running on the
    // address and account keys stay: they were earned by failures elsewhere.
    void succeeded(const QString &account, const QHostAddress &address);

    qsizetype trackedKeys() const; // failure keys held now, for tests and metrics
    // The key an address is counted under: "192.0.2.1", "2001:db8:1:2::/64".
    static QString addressKey(const QHostAddress &address);

private:
    struct Entry
    {
        // (time, tag), oldest first. The tag is a hash of the account for an address key and of
        // the address for an account key (where each address counts once), 0 for a pair key.
        QList<QPair<qint64, size_t>> failures;
        qint64 lastFailureMs = 0;
        qint64 lockedUntilMs = 0;
        int locks = 0;
    };

    void prune(Entry &entry, qint64 now) const;
    // Locks `key` if it holds `limit` failures in the window; the time left on its lock, or 0.
    qint64 lockFor(const QString &key, int limit, qint64 now);
    void countFailure(const QString &key, size_t tag, bool distinct, qint64 now);
    void forgive(const QString &key, size_t tag); // drops the failures tagged `tag`
    bool isKnown(const QString &pairKey, qint64 now) const;
    void makeRoom(qint64 now);

    const Clock &m_clock;
    const Limits m_limits;
    mutable QMutex m_mutex;
    QHash<QString, Entry> m_entries;
    QHash<QString, qint64> m_known; // pair key -> last successful login
};

} // namespace Outpost::Auth
