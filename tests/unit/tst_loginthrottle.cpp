#include <QTest>
#include <QThread>
#include <atomic>
#include <memory>
#include <vector>

#include "auth/loginthrottle.h"
#include "core/clock.h"
#include "http/clientaddress.h"

using namespace Outpost;
using Outpost::Auth::LoginThrottle;

namespace {

constexpr qint64 kMinute = 60'000;
const QString kAccount = QStringLiteral("root@example.com");
const QHostAddress kAlice(QStringLiteral("192.0.2.1"));
const QHostAddress kMallory(QStringLiteral("198.51.100.7"));

QHostAddress nth(int i) // a distinct IPv4 address per i
{
    return QHostAddress(quint32(0x0A000000 + i));
}

QString accountNo(int i)
{
    return QStringLiteral("user%1@example.com").arg(i);
}

// `n` attempts that all fail; false if any of them was refused.
bool fail(LoginThrottle &throttle, int n, const QString &account, const QHostAddress &from)
{
    for (int i = 0; i < n; ++i)
        if (!throttle.begin(account, from).allowed)
            return false;
    return true;
}

// Five failures on kAccount from `from`, the attempt that locks, and the wait until the lock ends.
bool lockAndWaitItOut(LoginThrottle &throttle, ManualClock &clock, const QHostAddress &from)
{
    if (!fail(throttle, 5, kAccount, from))
        return false;
    const auto verdict = throttle.begin(kAccount, from);
    clock.advanceMs(verdict.retryAfterMs);
    return !verdict.allowed;
}

LoginThrottle::Limits capped(qsizetype maxKeys)
{
    LoginThrottle::Limits limits;
    limits.maxKeys = maxKeys;
    return limits;
}

// One failure each on `n` fresh accounts from fresh addresses, the clock moving 1 ms every `every`
// attempts; false if one was refused or the throttle ever held more than `cap` keys.
bool spray(LoginThrottle &throttle, ManualClock &clock, int n, int every, qsizetype cap)
{
    for (int i = 0; i < n; ++i) {
        if (!throttle.begin(accountNo(i), nth(i)).allowed || throttle.trackedKeys() > cap)
            return false;
        if (i % every == 0)
            clock.advanceMs(1);
    }
    return true;
}

QList<QPair<QHostAddress, int>> cidrs(const QStringList &texts)
{
    QList<QPair<QHostAddress, int>> out;
    for (const QString &t : texts)
        out.append(QHostAddress::parseSubnet(t));
    return out;
}

} // namespace

class TestLoginThrottle : public QObject
{
    Q_OBJECT

private slots:
    void fiveFailuresLock();
    void lockExpires();
    void locksDouble();
    void lockLevelIsForgottenAfterADay();
    void successResets();
    void successOnTheLastAllowedAttempt();
    void successForgivesOnlyItsOwnAccount();
    void anotherAddressIsNotBlocked();
    void addressLockCoversEveryAccount();
    void accountNamesAreCaseFolded();
    void manyAddressesLockTheAccount();
    void knownAddressBypassesTheAccountLock();
    void knownAddressExpires();
    void windowSlides();
    void memoryIsCapped();
    void capKeepsRecentLocks();
    void knownAddressesSurviveASpray();
    void concurrentAttemptsAreCountedUpFront();
    void threadsRecording();
    void retryAfterSeconds_data();
    void retryAfterSeconds();
    void addressKey_data();
    void addressKey();
    void clientAddress_data();
    void clientAddress();
};

void TestLoginThrottle::fiveFailuresLock()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 5, kAccount, kMallory));
    const auto verdict = throttle.begin(kAccount, kMallory);
    QVERIFY(!verdict.allowed);
    QCOMPARE(verdict.retryAfterMs, kMinute);
    QCOMPARE(verdict.retryAfterSeconds(), 60);
    clock.advanceMs(20'500);
    const auto later = throttle.begin(kAccount, kMallory);
    QVERIFY(!later.allowed);
    QCOMPARE(later.retryAfterMs, 39'500);
    QCOMPARE(later.retryAfterSeconds(), 40); // rounded up
}

void TestLoginThrottle::lockExpires()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 5, kAccount, kMallory));
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
    clock.advanceMs(kMinute - 1);
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
    clock.advanceMs(1);
    QVERIFY(throttle.begin(kAccount, kMallory).allowed);
}

void TestLoginThrottle::locksDouble()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    const qint64 expected[] = {1, 2, 4, 8, 16, 32, 60, 60}; // minutes, capped at an hour
    for (qint64 minutes : expected) {
        QVERIFY(fail(throttle, 5, kAccount, kMallory));
        const auto verdict = throttle.begin(kAccount, kMallory);
        QVERIFY(!verdict.allowed);
        QCOMPARE(verdict.retryAfterMs, minutes * kMinute);
        clock.advanceMs(verdict.retryAfterMs);
    }
}

void TestLoginThrottle::lockLevelIsForgottenAfterADay()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    for (int i = 0; i < 3; ++i)
        QVERIFY(lockAndWaitItOut(throttle, clock, kMallory));
    clock.advanceMs(24 * 60 * kMinute + 1);
    QVERIFY(fail(throttle, 5, kAccount, kMallory));
    QCOMPARE(throttle.begin(kAccount, kMallory).retryAfterMs, kMinute);
}

void TestLoginThrottle::successResets()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(lockAndWaitItOut(throttle, clock, kAlice)); // the next lock would be 2 min
    QVERIFY(fail(throttle, 3, kAccount, kAlice));
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
    throttle.succeeded(kAccount, kAlice);
    // The count and the lock level start again.
    QVERIFY(fail(throttle, 5, kAccount, kAlice));
    QCOMPARE(throttle.begin(kAccount, kAlice).retryAfterMs, kMinute);
}

void TestLoginThrottle::successOnTheLastAllowedAttempt()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 4, kAccount, kAlice));
    QVERIFY(throttle.begin(kAccount, kAlice).allowed); // the fifth: counted up front...
    throttle.succeeded(kAccount, kAlice); // ...and taken back
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
}

void TestLoginThrottle::successForgivesOnlyItsOwnAccount()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    for (int i = 0; i < 9; ++i) // stuffing from Mallory's address
        QVERIFY(fail(throttle, 1, accountNo(i), kMallory));
    QVERIFY(throttle.begin(kAccount, kMallory).allowed); // his own account, the tenth
    throttle.succeeded(kAccount, kMallory);
    QVERIFY(throttle.begin(accountNo(9), kMallory).allowed); // the nine still count: a tenth
    QVERIFY(!throttle.begin(accountNo(10), kMallory).allowed);
}

void TestLoginThrottle::anotherAddressIsNotBlocked()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 5, kAccount, kMallory));
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
    const auto alice = throttle.begin(kAccount, kAlice);
    QVERIFY(alice.allowed);
    throttle.succeeded(kAccount, kAlice);
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed); // Alice's success frees only Alice
}

void TestLoginThrottle::addressLockCoversEveryAccount()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    for (int i = 0; i < 10; ++i)
        QVERIFY(fail(throttle, 1, accountNo(i), kMallory));
    const auto verdict = throttle.begin(accountNo(99), kMallory);
    QVERIFY(!verdict.allowed);
    QCOMPARE(verdict.retryAfterMs, kMinute);
    QVERIFY(throttle.begin(accountNo(99), kAlice).allowed);
}

void TestLoginThrottle::accountNamesAreCaseFolded()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 2, QStringLiteral("Root@Example.com"), kMallory));
    QVERIFY(fail(throttle, 3, QStringLiteral("  root@example.COM "), kMallory));
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
}

void TestLoginThrottle::manyAddressesLockTheAccount()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    for (int i = 0; i < 19; ++i)
        QVERIFY(fail(throttle, 2, kAccount, nth(i))); // the same address twice counts once
    QVERIFY(fail(throttle, 1, kAccount, nth(19)));
    const auto verdict = throttle.begin(kAccount, nth(20));
    QVERIFY(!verdict.allowed);
    QCOMPARE(verdict.retryAfterMs, kMinute);
    QVERIFY(!throttle.begin(kAccount, kAlice).allowed); // a new address of the owner's, too
    QVERIFY(throttle.begin(accountNo(1), nth(20)).allowed); // other accounts are untouched
    clock.advanceMs(kMinute);
    QVERIFY(throttle.begin(kAccount, nth(21)).allowed);
}

void TestLoginThrottle::knownAddressBypassesTheAccountLock()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
    throttle.succeeded(kAccount, kAlice);
    clock.advanceMs(10 * 24 * 60 * kMinute);
    for (int i = 0; i < 20; ++i)
        QVERIFY(fail(throttle, 1, kAccount, nth(i)));
    QVERIFY(!throttle.begin(kAccount, nth(20)).allowed);
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
    throttle.succeeded(kAccount, kAlice);
    QVERIFY(!throttle.begin(kAccount, nth(21)).allowed); // her success does not lift the lock
    // Known is not a free pass: her own pair lock still applies.
    QVERIFY(fail(throttle, 5, kAccount, kAlice));
    QVERIFY(!throttle.begin(kAccount, kAlice).allowed);
}

void TestLoginThrottle::knownAddressExpires()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
    throttle.succeeded(kAccount, kAlice);
    clock.advanceMs(30LL * 24 * 60 * kMinute + 1);
    for (int i = 0; i < 20; ++i)
        QVERIFY(fail(throttle, 1, kAccount, nth(i)));
    QVERIFY(!throttle.begin(kAccount, kAlice).allowed);
}

void TestLoginThrottle::windowSlides()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    QVERIFY(fail(throttle, 1, kAccount, kMallory));
    clock.advanceMs(10 * kMinute);
    QVERIFY(fail(throttle, 4, kAccount, kMallory));
    clock.advanceMs(5 * kMinute - 1);
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed); // five within 15 minutes

    ManualClock clock2;
    LoginThrottle slid(clock2);
    QVERIFY(fail(slid, 1, kAccount, kMallory));
    clock2.advanceMs(10 * kMinute);
    QVERIFY(fail(slid, 4, kAccount, kMallory));
    clock2.advanceMs(5 * kMinute);
    QVERIFY(slid.begin(kAccount, kMallory).allowed); // the first is out: four in the window, then five
    QVERIFY(!slid.begin(kAccount, kMallory).allowed);
}

void TestLoginThrottle::memoryIsCapped()
{
    ManualClock clock;
    LoginThrottle throttle(clock, capped(300));
    QVERIFY(spray(throttle, clock, 5000, 7, 300)); // many keys share each millisecond
    QVERIFY(throttle.trackedKeys() > 150);
}

void TestLoginThrottle::capKeepsRecentLocks()
{
    ManualClock clock;
    LoginThrottle throttle(clock, capped(100));
    QVERIFY(fail(throttle, 5, kAccount, kMallory));
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
    clock.advanceMs(1000);
    QVERIFY(spray(throttle, clock, 1000, 1, 100)); // meant to push the lock out
    QVERIFY(!throttle.begin(kAccount, kMallory).allowed);
}

void TestLoginThrottle::knownAddressesSurviveASpray()
{
    ManualClock clock;
    LoginThrottle throttle(clock, capped(100));
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
    throttle.succeeded(kAccount, kAlice);
    QVERIFY(spray(throttle, clock, 1000, 1, 100));
    for (int i = 0; i < 20; ++i) {
        QVERIFY(fail(throttle, 1, kAccount, nth(i)));
        clock.advanceMs(1);
    }
    QVERIFY(!throttle.begin(kAccount, nth(5000)).allowed);
    QVERIFY(throttle.begin(kAccount, kAlice).allowed);
}

void TestLoginThrottle::concurrentAttemptsAreCountedUpFront()
{
    ManualClock clock;
    LoginThrottle throttle(clock);
    int allowed = 0;
    for (int i = 0; i < 50; ++i) // fifty requests in flight before any password check finishes
        allowed += throttle.begin(kAccount, kMallory).allowed ? 1 : 0;
    QCOMPARE(allowed, 5);
}

void TestLoginThrottle::threadsRecording()
{
    ManualClock clock;
    LoginThrottle::Limits limits;
    limits.maxKeys = 500;
    LoginThrottle throttle(clock, limits);
    std::atomic<int> sharedAllowed {0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back(QThread::create([&, t] {
            for (int i = 0; i < 2000; ++i) {
                const QHostAddress from = nth(t * 100'000 + i);
                if (throttle.begin(accountNo(i % 50), from).allowed && i % 3 == 0)
                    throttle.succeeded(accountNo(i % 50), from);
                if (throttle.begin(kAccount, kMallory).allowed)
                    ++sharedAllowed;
                clock.advanceMs(1);
                (void)throttle.trackedKeys();
            }
        }));
        threads.back()->start();
    }
    for (auto &thread : threads)
        QVERIFY(thread->wait(60'000));
    QVERIFY(throttle.trackedKeys() <= limits.maxKeys);
    // 16 s of clock in all: Mallory gets his five, then one lock of a minute.
    QCOMPARE(sharedAllowed.load(), 5);
}

void TestLoginThrottle::retryAfterSeconds_data()
{
    QTest::addColumn<qint64>("ms");
    QTest::addColumn<qint64>("seconds");
    QTest::newRow("under a second") << qint64(1) << qint64(1);
    QTest::newRow("exact") << qint64(60'000) << qint64(60);
    QTest::newRow("rounded up") << qint64(59'001) << qint64(60);
    QTest::newRow("zero") << qint64(0) << qint64(1);
}

void TestLoginThrottle::retryAfterSeconds()
{
    QFETCH(qint64, ms);
    QFETCH(qint64, seconds);
    QCOMPARE((LoginThrottle::Verdict {false, ms}.retryAfterSeconds()), seconds);
}

void TestLoginThrottle::addressKey_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("key");
    QTest::newRow("IPv4") << QStringLiteral("192.0.2.1") << QStringLiteral("192.0.2.1");
    QTest::newRow("IPv4-mapped") << QStringLiteral("::ffff:192.0.2.1") << QStringLiteral("192.0.2.1");
    QTest::newRow("IPv6 /64") << QStringLiteral("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
                              << QStringLiteral("2001:db8:1:2::/64");
    QTest::newRow("same /64") << QStringLiteral("2001:db8:1:2::1") << QStringLiteral("2001:db8:1:2::/64");
    QTest::newRow("loopback") << QStringLiteral("::1") << QStringLiteral("::/64");
}

void TestLoginThrottle::addressKey()
{
    QFETCH(QString, address);
    QFETCH(QString, key);
    QCOMPARE(LoginThrottle::addressKey(QHostAddress(address)), key);
}

void TestLoginThrottle::clientAddress_data()
{
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QStringList>("trusted");
    QTest::addColumn<QList<QByteArray>>("forwarded"); // one X-Forwarded-For field each
    QTest::addColumn<QString>("client");

    const QStringList none;
    const QStringList proxy {QStringLiteral("10.0.0.0/8")};
    QTest::newRow("no proxies: header ignored")
        << QStringLiteral("192.0.2.1") << none << QList<QByteArray> {"203.0.113.9"} << QStringLiteral("192.0.2.1");
    QTest::newRow("untrusted peer: header ignored")
        << QStringLiteral("192.0.2.1") << proxy << QList<QByteArray> {"203.0.113.9"} << QStringLiteral("192.0.2.1");
    QTest::newRow("trusted peer, no header")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {} << QStringLiteral("10.0.0.1");
    QTest::newRow("trusted peer") << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"203.0.113.9"}
                                  << QStringLiteral("203.0.113.9");
    QTest::newRow("rightmost untrusted wins")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"1.1.1.1, 203.0.113.9, 10.0.0.2"}
        << QStringLiteral("203.0.113.9");
    QTest::newRow("several fields in order")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"1.1.1.1", "203.0.113.9 , 10.0.0.2"}
        << QStringLiteral("203.0.113.9");
    QTest::newRow("all trusted: leftmost")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"10.0.0.3,10.0.0.2"} << QStringLiteral("10.0.0.3");
    QTest::newRow("garbage stops at the proxy")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"1.1.1.1, unknown"} << QStringLiteral("10.0.0.1");
    QTest::newRow("garbage further left is never reached")
        << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"x, 203.0.113.9"} << QStringLiteral("203.0.113.9");
    QTest::newRow("port") << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"203.0.113.9:4711"}
                          << QStringLiteral("203.0.113.9");
    QTest::newRow("IPv6 with port") << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"[2001:db8::7]:4711"}
                                    << QStringLiteral("2001:db8::7");
    QTest::newRow("bare IPv6") << QStringLiteral("10.0.0.1") << proxy << QList<QByteArray> {"2001:db8::7"}
                               << QStringLiteral("2001:db8::7");
    QTest::newRow("mapped peer") << QStringLiteral("::ffff:10.0.0.1") << proxy << QList<QByteArray> {"203.0.113.9"}
                                 << QStringLiteral("203.0.113.9");
    QTest::newRow("mapped peer, no proxies")
        << QStringLiteral("::ffff:192.0.2.1") << none << QList<QByteArray> {} << QStringLiteral("192.0.2.1");
}

void TestLoginThrottle::clientAddress()
{
    QFETCH(QString, peer);
    QFETCH(QStringList, trusted);
    QFETCH(QList<QByteArray>, forwarded);
    QFETCH(QString, client);

    Http::Request request;
    request.peer = QHostAddress(peer);
    request.headers.append(qMakePair(QByteArray("Host"), QByteArray("example.com")));
    for (const QByteArray &value : forwarded)
        request.headers.append(qMakePair(QByteArray("X-Forwarded-For"), value));
    QCOMPARE(Http::clientAddress(request, cidrs(trusted)).toString(), client);
}

QTEST_GUILESS_MAIN(TestLoginThrottle)
#include "tst_loginthrottle.moc"
