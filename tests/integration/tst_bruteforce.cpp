// Brute-force protection of the password login over HTTP: the lock after five failures (429,
// Retry-After, problem+json, no password check), its end on the fixture's ManualClock, unknown
// accounts treated like wrong passwords, and which address counts: the peer, or with trusted
// proxies the client X-Forwarded-For names. The throttle's rules in detail are tst_loginthrottle's.
#include <QtTest>

#include "apifixture.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Testing;

namespace {

const QString kWrong = QStringLiteral("not the password");
const QString kNobody = QStringLiteral("nobody@example.com");

HttpResponse login(TestServer &server, const QString &identity, const QString &password,
                   const QByteArray &forwarded = {})
{
    HeaderList headers;
    if (!forwarded.isEmpty())
        headers.append({"X-Forwarded-For", forwarded});
    return server.roundTrip(jsonRequest(
        "/api/collections/_superusers/auth-with-password",
        QJsonObject {{QStringLiteral("identity"), identity}, {QStringLiteral("password"), password}}, headers));
}

// Five failed logins, each answered 400; false (with a warning) otherwise.
bool failFiveTimes(TestServer &server, const QString &identity, const QByteArray &forwarded = {})
{
    for (int i = 0; i < 5; ++i) {
        const HttpResponse r = login(server, identity, kWrong, forwarded);
        if (!isProblem(r, 400)) {
            qWarning("failure %d: %s", i + 1, summary(r).constData());
            return false;
        }
    }
    return true;
}

bool isLocked(const HttpResponse &r, const QByteArray &retryAfter)
{
    if (isProblem(r, 429) && r.header("Retry-After") == retryAfter)
        return true;
    qWarning("expected 429 with Retry-After %s, got %s (Retry-After %s)", retryAfter.constData(),
             summary(r).constData(), r.header("Retry-After").constData());
    return false;
}

// What the audit log answers `sql` with (one row, one column), as text.
QString audit(Server &server, const char *sql)
{
    QString value;
    server.store().auditLog().flush(); // entries are written by the log's own thread
    const Status s = server.store().writeLog([&](Store::Database &db) -> Status {
        auto select = db.prepare(sql);
        if (!select)
            return select.error();
        auto row = select->step();
        value = row && *row ? select->text(0) : QString();
        return row ? Status {} : row.error();
    });
    if (!s)
        qWarning("audit log: %s", qPrintable(s.error().message));
    return value;
}

int auditedLogins(Server &server)
{
    return audit(server, "SELECT count(*) FROM audit_log WHERE action = 'auth.login'").toInt();
}

// The last three login entries, newest first: "address/success ...".
QString lastLogins(Server &server)
{
    return audit(server,
                 "SELECT group_concat(address || '/' || success, ' ') FROM (SELECT address, success "
                 "FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 3)");
}

} // namespace

class TestBruteForce : public QObject
{
    Q_OBJECT

private slots:
    void wrongPasswordsLock();
    void unknownAccountCountsTheSame();
    void lockedAttemptsAreNotChecked();
    void forwardedForIgnoredWithoutTrustedProxies();
    void trustedProxyNamesTheClient();
};

void TestBruteForce::wrongPasswordsLock()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    QVERIFY(failFiveTimes(api.server(), kSuperuserEmail));

    const HttpResponse locked = login(api.server(), kSuperuserEmail, kWrong);
    QVERIFY(isLocked(locked, "60"));
    QVERIFY(locked.header("Content-Type").startsWith("application/problem+json"));
    QCOMPARE(locked.json().value(u"status").toInt(), 429);
    // The right password does not get through either: the lock is on the attempts, not the guess.
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kSuperuserPassword), "60"));

    api.clock().advanceMs(30'000);
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kSuperuserPassword), "30"));
    api.clock().advanceMs(30'000);
    const HttpResponse ok = login(api.server(), kSuperuserEmail, kSuperuserPassword);
    QCOMPARE(ok.status, 200);
    QVERIFY(!ok.json().value(u"token").toString().isEmpty());
    // The success reset the count: five more failures before the next lock.
    QVERIFY(failFiveTimes(api.server(), kSuperuserEmail));
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kWrong), "60"));
}

void TestBruteForce::unknownAccountCountsTheSame()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    const HttpResponse wrong = login(api.server(), kSuperuserEmail, kWrong);
    for (int i = 0; i < 5; ++i) {
        const HttpResponse unknown = login(api.server(), kNobody, kWrong);
        QCOMPARE(unknown.status, 400);
        QCOMPARE(unknown.body, wrong.body); // the same answer
        QCOMPARE(unknown.header("Content-Type"), wrong.header("Content-Type"));
    }
    const HttpResponse locked = login(api.server(), kNobody, kWrong);
    QVERIFY(isLocked(locked, "60"));
    // And the same refusal as for a real account.
    for (int i = 0; i < 4; ++i) // the first of five was above
        QCOMPARE(login(api.server(), kSuperuserEmail, kWrong).status, 400);
    const HttpResponse realLocked = login(api.server(), kSuperuserEmail, kWrong);
    QVERIFY(isLocked(realLocked, "60"));
    QCOMPARE(realLocked.body, locked.body);
}

void TestBruteForce::lockedAttemptsAreNotChecked()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    QVERIFY(failFiveTimes(api.server(), kSuperuserEmail));
    const int audited = auditedLogins(api.server().server());
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kSuperuserPassword), "60"));
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kWrong), "60"));
    QCOMPARE(auditedLogins(api.server().server()), audited); // refused before login() ran
    // Another account from the same address is not locked by these five.
    QCOMPARE(login(api.server(), kNobody, kWrong).status, 400);
}

void TestBruteForce::forwardedForIgnoredWithoutTrustedProxies()
{
    ApiFixture api;
    QVERIFY2(api.start(), qPrintable(api.errorString()));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(login(api.server(), kSuperuserEmail, kWrong, "203.0.113." + QByteArray::number(i)).status, 400);
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kWrong, "203.0.113.99"), "60"));
    QVERIFY(lastLogins(api.server().server()).startsWith(QStringLiteral("127.0.0.1/0 ")));
}

void TestBruteForce::trustedProxyNamesTheClient()
{
    ApiFixture api;
    api.server().setTrustedProxies({QHostAddress::parseSubnet(QStringLiteral("127.0.0.1/32"))});
    QVERIFY2(api.start(), qPrintable(api.errorString()));

    QVERIFY(failFiveTimes(api.server(), kSuperuserEmail, "203.0.113.1"));
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kSuperuserPassword, "203.0.113.1"), "60"));
    // A proxy's own entry further right does not hide the client.
    QVERIFY(isLocked(login(api.server(), kSuperuserEmail, kWrong, "203.0.113.1, 127.0.0.1"), "60"));
    // Another forwarded client is counted on its own.
    QCOMPARE(login(api.server(), kSuperuserEmail, kWrong, "203.0.113.2").status, 400);
    QCOMPARE(login(api.server(), kSuperuserEmail, kSuperuserPassword, "203.0.113.2").status, 200);
    // Without the header the client is the proxy itself, which has not failed.
    QCOMPARE(login(api.server(), kSuperuserEmail, kSuperuserPassword).status, 200);

    QCOMPARE(lastLogins(api.server().server()), QStringLiteral("127.0.0.1/1 203.0.113.2/1 203.0.113.2/0"));
}

QTEST_GUILESS_MAIN(TestBruteForce)
#include "tst_bruteforce.moc"
