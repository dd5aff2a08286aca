// Rate limiting's logic: the rules' text form (config key and admin API), the token buckets (exact
// under concurrency on a frozen clock, refill, Retry-After, partitions, rule changes, bounded
// memory), the draft-10 header values, and which route group a route belongs to.
#include <QTest>
#include <atomic>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ratelimitrules.h"
#include "http/ratelimiter.h"

using namespace Outpost;
using namespace Outpost::Http;

namespace {

RateRules rules(const char *text)
{
    auto parsed = RateRules::parse(QString::fromLatin1(text));
    if (!parsed)
        qFatal("bad rules in the test: %s", text);
    return *parsed;
}

} // namespace

class TestRateLimiter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rulesRoundTrip();
    void rulesParse_data();
    void rulesParse();
    void rulesRefuse_data();
    void rulesRefuse();
    void exactUnderConcurrency();
    void refillsAtTheRuleRate();
    void partitionsAreIndependent();
    void offGroupIsNotLimited();
    void ruleChangeStartsFull();
    void memoryIsBounded();
    void headerValues();
    void partitionOfCallers();
    void routeGroups();
};

void TestRateLimiter::rulesRoundTrip()
{
    const RateRules defaults = RateRules::defaults();
    QVERIFY(defaults.anyEnabled());
    auto parsed = RateRules::parse(defaults.toString());
    QVERIFY(parsed.ok());
    QVERIFY(*parsed == defaults);
    QCOMPARE(RateRules::off().toString(), QStringLiteral("off"));
    QVERIFY(rules("off") == RateRules::off());
    QCOMPARE(rules("read:10/1m").toString(), QStringLiteral("auth:off, read:10/60s, write:off, admin:off"));
}

void TestRateLimiter::rulesParse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("authLimit");
    QTest::addColumn<int>("authWindow");
    QTest::addColumn<int>("readLimit");
    QTest::addColumn<int>("readWindow");
    QTest::newRow("seconds") << "auth:5/60s, read:100/10s" << 5 << 60 << 100 << 10;
    QTest::newRow("minutes and hours") << "auth:5/2m read:100/1h" << 5 << 120 << 100 << 3600;
    QTest::newRow("bare seconds, upper case") << "AUTH:7/30" << 7 << 30 << 0 << 0;
    QTest::newRow("group off") << "auth:off,read:1/1s" << 0 << 0 << 1 << 1;
}

void TestRateLimiter::rulesParse()
{
    QFETCH(QString, text);
    QFETCH(int, authLimit);
    QFETCH(int, authWindow);
    QFETCH(int, readLimit);
    QFETCH(int, readWindow);
    auto parsed = RateRules::parse(text);
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    QCOMPARE((*parsed)[RateGroup::Auth].limit, authLimit);
    QCOMPARE((*parsed)[RateGroup::Auth].windowSeconds, authWindow);
    QCOMPARE((*parsed)[RateGroup::Read].limit, readLimit);
    QCOMPARE((*parsed)[RateGroup::Read].windowSeconds, readWindow);
    QVERIFY(!(*parsed)[RateGroup::Write].enabled());
}

void TestRateLimiter::rulesRefuse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("empty") << ""
                           << "empty";
    QTest::newRow("unknown group") << "reads:10/1s"
                                   << "reads";
    QTest::newRow("twice") << "read:10/1s read:5/1s"
                           << "twice";
    QTest::newRow("zero limit") << "read:0/1s"
                                << "limit 0";
    QTest::newRow("zero window") << "read:10/0s"
                                 << "window 0";
    QTest::newRow("over a day") << "read:10/25h"
                                << "24 h";
    QTest::newRow("garbage") << "read=10"
                             << "read=10";
    QTest::newRow("negative") << "read:-1/1s"
                              << "read:-1/1s";
}

void TestRateLimiter::rulesRefuse()
{
    QFETCH(QString, text);
    QFETCH(QString, mentions);
    auto parsed = RateRules::parse(text);
    QVERIFY(!parsed.ok());
    QCOMPARE(parsed.error().code, ErrorCode::InvalidArgument);
    QVERIFY2(parsed.error().message.contains(mentions), qPrintable(parsed.error().message));
}

void TestRateLimiter::exactUnderConcurrency()
{
    // A frozen clock: no refill during the burst, so exactly `limit` of any burst may pass.
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:100/60s"));
    constexpr int kThreads = 8;
    constexpr int kEach = 500;
    std::atomic<int> allowed {0};
    std::atomic<int> refused {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < kEach; ++i) {
                const auto decision = limiter.take(RateGroup::Read, "k:one");
                (decision && decision->allowed ? allowed : refused).fetch_add(1);
            }
        });
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(allowed.load(), 100);
    QCOMPARE(refused.load(), kThreads * kEach - 100);
    QCOMPARE(limiter.refusedCount(RateGroup::Read), quint64(kThreads * kEach - 100));
}

void TestRateLimiter::refillsAtTheRuleRate()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("auth:6/60s"));
    for (int i = 0; i < 6; ++i) {
        const auto d = limiter.take(RateGroup::Auth, "a4:1");
        QVERIFY(d && d->allowed);
        QCOMPARE(d->remaining, 5 - i);
    }
    auto d = limiter.take(RateGroup::Auth, "a4:1");
    QVERIFY(d && !d->allowed);
    QCOMPARE(d->retryAfterSeconds, 10); // one token per 10 s
    QCOMPARE(d->resetSeconds, 60);
    clock.advanceMs(9'999);
    QVERIFY(!limiter.take(RateGroup::Auth, "a4:1")->allowed);
    clock.advanceMs(1);
    d = limiter.take(RateGroup::Auth, "a4:1");
    QVERIFY(d->allowed);
    QCOMPARE(d->remaining, 0);
    clock.advanceMs(600'000); // long idle: full again, never more than the limit
    for (int i = 0; i < 6; ++i)
        QVERIFY(limiter.take(RateGroup::Auth, "a4:1")->allowed);
    QVERIFY(!limiter.take(RateGroup::Auth, "a4:1")->allowed);
}

void TestRateLimiter::partitionsAreIndependent()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:2/60s, write:2/60s"));
    for (int i = 0; i < 2; ++i)
        QVERIFY(limiter.take(RateGroup::Read, "k:a")->allowed);
    QVERIFY(!limiter.take(RateGroup::Read, "k:a")->allowed);
    QVERIFY(limiter.take(RateGroup::Read, "k:b")->allowed); // another caller
    QVERIFY(limiter.take(RateGroup::Write, "k:a")->allowed); // another group
}

void TestRateLimiter::offGroupIsNotLimited()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:1/60s"));
    QVERIFY(!limiter.take(RateGroup::Admin, "k:a").has_value());
    RateLimiter none(clock, RateRules::off());
    for (int i = 0; i < 10; ++i)
        QVERIFY(!none.take(RateGroup::Read, "k:a").has_value());
    QCOMPARE(none.bucketCount(), 0);
}

void TestRateLimiter::ruleChangeStartsFull()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:1/60s"));
    QVERIFY(limiter.take(RateGroup::Read, "k:a")->allowed);
    QVERIFY(!limiter.take(RateGroup::Read, "k:a")->allowed);
    limiter.setRules(rules("read:3/60s"));
    QVERIFY(limiter.rules() == rules("read:3/60s"));
    for (int i = 0; i < 3; ++i)
        QVERIFY(limiter.take(RateGroup::Read, "k:a")->allowed);
    QVERIFY(!limiter.take(RateGroup::Read, "k:a")->allowed);
    limiter.setRules(RateRules::off());
    QVERIFY(!limiter.take(RateGroup::Read, "k:a").has_value());
}

void TestRateLimiter::memoryIsBounded()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:10/60s"));
    // Live buckets (each used once, so not yet full again) from far more callers than are kept.
    const qsizetype cap = RateLimiter::kShards * RateLimiter::kMaxBucketsPerShard;
    for (qsizetype i = 0; i < cap * 2; ++i)
        QVERIFY(limiter.take(RateGroup::Read, QByteArray("a4:" + QByteArray::number(i)))->allowed);
    QVERIFY2(limiter.bucketCount() <= cap, qPrintable(QString::number(limiter.bucketCount())));
    // Once they have refilled, they are dropped as new callers arrive.
    clock.advanceMs(60'000);
    for (int i = 0; i < 20'000; ++i)
        limiter.take(RateGroup::Read, QByteArray("fresh:" + QByteArray::number(i)));
    QVERIFY2(limiter.bucketCount() < cap / 2, qPrintable(QString::number(limiter.bucketCount())));
}

void TestRateLimiter::headerValues()
{
    ManualClock clock;
    RateLimiter limiter(clock, rules("read:100/10s"));
    const auto d = limiter.take(RateGroup::Read, "k:a");
    QCOMPARE(RateLimiter::policyHeader(*d), QByteArray("\"read\";q=100;w=10"));
    QCOMPARE(RateLimiter::stateHeader(*d), QByteArray("\"read\";r=99;t=1"));
}

void TestRateLimiter::partitionOfCallers()
{
    // An IPv4-mapped peer counts as the IPv4 client.
    Request mapped;
    mapped.peer = QHostAddress(QStringLiteral("::ffff:192.0.2.7"));
    Request plain;
    plain.client = QHostAddress(QStringLiteral("192.0.2.7"));
    QCOMPARE(RateLimiter::partitionOf(mapped, RateGroup::Read), RateLimiter::partitionOf(plain, RateGroup::Read));
    // IPv6 clients count per /64.
    Request a;
    a.client = QHostAddress(QStringLiteral("2001:db8:1:2::1"));
    Request b;
    b.client = QHostAddress(QStringLiteral("2001:db8:1:2:ffff::9"));
    Request c;
    c.client = QHostAddress(QStringLiteral("2001:db8:1:3::1"));
    QCOMPARE(RateLimiter::partitionOf(a, RateGroup::Read), RateLimiter::partitionOf(b, RateGroup::Read));
    QVERIFY(RateLimiter::partitionOf(a, RateGroup::Read) != RateLimiter::partitionOf(c, RateGroup::Read));
    // Identified callers count as themselves, wherever they come from.
    Request key = a;
    key.caller.kind = Caller::Kind::ApiKey;
    key.caller.id = QStringLiteral("abc");
    Request user = c;
    user.caller.kind = Caller::Kind::User;
    user.caller.collection = QStringLiteral("users");
    user.caller.id = QStringLiteral("abc");
    QCOMPARE(RateLimiter::partitionOf(key, RateGroup::Read), QByteArray("k:abc"));
    QCOMPARE(RateLimiter::partitionOf(user, RateGroup::Write), QByteArray("u:users:abc"));
    // ... except on the auth group, which always counts by address.
    QCOMPARE(RateLimiter::partitionOf(user, RateGroup::Auth), RateLimiter::partitionOf(c, RateGroup::Read));
    QCOMPARE(RateLimiter::partitionOf(key, RateGroup::Auth), RateLimiter::partitionOf(a, RateGroup::Read));
}

void TestRateLimiter::routeGroups()
{
    using P = Auth::Permission;
    QVERIFY(!rateGroupOf(Method::Get, "/api/health", Policy::open()).has_value());
    QCOMPARE(*rateGroupOf(Method::Post, "/api/collections/{collection}/auth-with-password", Policy::open()),
             RateGroup::Auth);
    QCOMPARE(*rateGroupOf(Method::Post, "/api/oauth2/token", Policy::open()), RateGroup::Auth);
    QCOMPARE(*rateGroupOf(Method::Get, "/api/collections/{c}/records", Policy::rules(P::RecordsRead)), RateGroup::Read);
    QCOMPARE(*rateGroupOf(Method::Post, "/api/batch", Policy::rules(P::RecordsWrite)), RateGroup::Write);
    QCOMPARE(*rateGroupOf(Method::Get, "/api/collections/{c}/export", Policy::needs(P::RecordsRead)), RateGroup::Read);
    QCOMPARE(*rateGroupOf(Method::Get, "/api/keys", Policy::needs(P::KeysManage)), RateGroup::Admin);
    QCOMPARE(*rateGroupOf(Method::Get, "/metrics", Policy::needs(P::MetricsRead)), RateGroup::Admin);
}

QTEST_GUILESS_MAIN(TestRateLimiter)
#include "tst_ratelimiter.moc"
