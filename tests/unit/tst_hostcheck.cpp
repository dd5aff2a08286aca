// Http::HostCheck: the Host names a server answers, against DNS rebinding.
#include <QtTest>

#include "http/hostcheck.h"
#include "http/requestframer.h"

using namespace Outpost::Http;

class TestHostCheck : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void offOnOtherAddressesWithoutAllowedHosts();
    void hosts_data();
    void hosts();
    void requestWithoutHost();
    void absoluteFormTarget();
};

void TestHostCheck::offOnOtherAddressesWithoutAllowedHosts()
{
    QVERIFY(!HostCheck::create(QHostAddress(QStringLiteral("192.0.2.10")), {}));
    QVERIFY(!HostCheck::create(QHostAddress(QHostAddress::AnyIPv4), {}));
    QVERIFY(HostCheck::create(QHostAddress(QHostAddress::LocalHost), {}));
    QVERIFY(HostCheck::create(QHostAddress(QStringLiteral("127.0.0.2")), {}));
    QVERIFY(HostCheck::create(QHostAddress(QHostAddress::LocalHostIPv6), {}));
    QVERIFY(HostCheck::create(QHostAddress(QStringLiteral("192.0.2.10")), {QStringLiteral("api.example.com")}));
}

void TestHostCheck::hosts_data()
{
    QTest::addColumn<QString>("listen");
    QTest::addColumn<QStringList>("allowed");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<bool>("ok");
    const QString loopback = QStringLiteral("127.0.0.1");
    const QStringList none;
    QTest::newRow("localhost") << loopback << none << QByteArray("localhost") << true;
    QTest::newRow("localhost with port") << loopback << none << QByteArray("localhost:8090") << true;
    QTest::newRow("Localhost") << loopback << none << QByteArray("LocalHost:1") << true;
    QTest::newRow("localhost.") << loopback << none << QByteArray("localhost.") << true;
    QTest::newRow("under .localhost") << loopback << none << QByteArray("my-app.localhost:3000") << true;
    QTest::newRow("127.0.0.1") << loopback << none << QByteArray("127.0.0.1:8090") << true;
    QTest::newRow("127.255.1.2") << loopback << none << QByteArray("127.255.1.2") << true;
    QTest::newRow("[::1]") << loopback << none << QByteArray("[::1]:8090") << true;
    QTest::newRow("[0:0::1]") << loopback << none << QByteArray("[0:0:0:0:0:0:0:1]") << true;
    QTest::newRow("evil name") << loopback << none << QByteArray("evil.example") << false;
    QTest::newRow("rebinding-style name") << loopback << none << QByteArray("127.0.0.1.nip.io:8090") << false;
    QTest::newRow("localhost as a label") << loopback << none << QByteArray("localhost.evil.example") << false;
    QTest::newRow("ends in localhost") << loopback << none << QByteArray("evillocalhost") << false;
    QTest::newRow("other IPv4") << loopback << none << QByteArray("10.0.0.1") << false;
    QTest::newRow("short IPv4 form") << loopback << none << QByteArray("127.1") << false;
    QTest::newRow("octet over 255") << loopback << none << QByteArray("127.0.0.256") << false;
    QTest::newRow("other IPv6") << loopback << none << QByteArray("[2001:db8::1]") << false;
    QTest::newRow("bare IPv6") << loopback << none << QByteArray("::1") << false;
    QTest::newRow("unclosed bracket") << loopback << none << QByteArray("[::1") << false;
    QTest::newRow("port not a number") << loopback << none << QByteArray("localhost:80a") << false;
    QTest::newRow("empty port") << loopback << none << QByteArray("localhost:") << false;
    QTest::newRow("port too long") << loopback << none << QByteArray("localhost:1234567") << false;
    QTest::newRow("two colons") << loopback << none << QByteArray("localhost:80:80") << false;
    QTest::newRow("empty") << loopback << none << QByteArray("") << false;
    QTest::newRow("user info") << loopback << none << QByteArray("evil@localhost") << false;

    const QStringList allowed {QStringLiteral("api.example.com"), QStringLiteral("*.corp.example"),
                               QStringLiteral("192.0.2.99"), QStringLiteral("[2001:db8::5]")};
    QTest::newRow("allowed name") << loopback << allowed << QByteArray("api.example.com:8443") << true;
    QTest::newRow("allowed name, other case") << loopback << allowed << QByteArray("API.EXAMPLE.COM") << true;
    QTest::newRow("under an allowed domain") << loopback << allowed << QByteArray("a.b.corp.example") << true;
    QTest::newRow("the domain itself") << loopback << allowed << QByteArray("corp.example") << false;
    QTest::newRow("suffix without a dot") << loopback << allowed << QByteArray("evilcorp.example") << false;
    QTest::newRow("allowed IPv4") << loopback << allowed << QByteArray("192.0.2.99:80") << true;
    QTest::newRow("allowed IPv6") << loopback << allowed << QByteArray("[2001:db8::5]") << true;
    QTest::newRow("other name") << loopback << allowed << QByteArray("api.example.org") << false;

    const QString remote = QStringLiteral("192.0.2.10");
    QTest::newRow("remote: allowed name") << remote << allowed << QByteArray("api.example.com") << true;
    QTest::newRow("remote: own address") << remote << allowed << QByteArray("192.0.2.10:8090") << true;
    QTest::newRow("remote: localhost") << remote << allowed << QByteArray("localhost") << true;
    QTest::newRow("remote: other address") << remote << allowed << QByteArray("192.0.2.11") << false;
    QTest::newRow("remote: other name") << remote << allowed << QByteArray("evil.example") << false;
    const QString any = QStringLiteral("0.0.0.0");
    QTest::newRow("any: an address") << any << allowed << QByteArray("198.51.100.7:8090") << true;
    QTest::newRow("any: other name") << any << allowed << QByteArray("evil.example") << false;
}

void TestHostCheck::hosts()
{
    QFETCH(QString, listen);
    QFETCH(QStringList, allowed);
    QFETCH(QByteArray, host);
    QFETCH(bool, ok);
    const auto check = HostCheck::create(QHostAddress(listen), allowed);
    QVERIFY(check);
    QCOMPARE(check->allowsHost(host), ok);
}

void TestHostCheck::requestWithoutHost()
{
    const auto check = HostCheck::create(QHostAddress(QHostAddress::LocalHost), {});
    RequestHead head;
    head.target = "/";
    head.minorVersion = 0; // HTTP/1.0 may omit Host; browsers never do
    QVERIFY(check->allows(head));
    head.minorVersion = 1;
    QVERIFY(!check->allows(head)); // the framer refuses it first; the check does not rely on that
}

void TestHostCheck::absoluteFormTarget()
{
    const auto check = HostCheck::create(QHostAddress(QHostAddress::LocalHost), {});
    RequestHead head;
    head.host = "localhost";
    head.target = "http://evil.example:80/api/health";
    QVERIFY(!check->allows(head));
    head.target = "http://localhost:8090/api/health?x=1";
    QVERIFY(check->allows(head));
    head.target = "https://127.0.0.1";
    QVERIFY(check->allows(head));
    head.host = "evil.example";
    QVERIFY(!check->allows(head)); // both must be allowed
}

QTEST_GUILESS_MAIN(TestHostCheck)
#include "tst_hostcheck.moc"
