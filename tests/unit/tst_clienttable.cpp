// Http::ClientTable: the counts behind the connection and in-flight limits per client.
#include <QtTest>
#include <atomic>
#include <thread>
#include <vector>

#include "http/clienttable.h"

using namespace Outpost::Http;

namespace {

Limits limits(int total, int perClient, int inflight)
{
    Limits l;
    l.maxConnections = total;
    l.maxConnectionsPerClient = perClient;
    l.maxInflightPerClient = inflight;
    return l;
}

} // namespace

class TestClientTable : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void perClientConnections();
    void totalConnections();
    void ipv6CountsPerSlash64();
    void ipv4MappedIsIpv4();
    void exemptPeersCountOnlyInTotal();
    void inflightPerClient();
    void entriesGoWhenTheLastConnectionCloses();
    void derivedMaximumWhenZero();
    void concurrentUseEndsAtZero();
};

void TestClientTable::perClientConnections()
{
    ClientTable table(limits(100, 2, 10), {});
    const QHostAddress a(QStringLiteral("192.0.2.1"));
    const QHostAddress b(QStringLiteral("192.0.2.2"));
    ClientTable::Client *c1 = nullptr, *c2 = nullptr, *c3 = nullptr, *other = nullptr;
    QCOMPARE(table.open(a, &c1), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(a, &c2), ClientTable::Admission::Admitted);
    QCOMPARE(c1, c2); // one entry per client
    QCOMPARE(table.open(a, &c3), ClientTable::Admission::ClientBusy);
    QCOMPARE(table.open(b, &other), ClientTable::Admission::Admitted); // another client is not affected
    QCOMPARE(table.connections(), 4); // refused ones hold a descriptor until closed
    table.close(c3);
    table.close(c2);
    ClientTable::Client *again = nullptr;
    QCOMPARE(table.open(a, &again), ClientTable::Admission::Admitted);
    for (ClientTable::Client *c : {c1, again, other})
        table.close(c);
    QCOMPARE(table.connections(), 0);
}

void TestClientTable::totalConnections()
{
    ClientTable table(limits(2, 10, 10), {});
    ClientTable::Client *c[3] = {};
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.1")), &c[0]), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.2")), &c[1]), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.3")), &c[2]), ClientTable::Admission::ServerBusy);
    QCOMPARE(table.maxConnections(), 2);
    for (ClientTable::Client *client : c)
        table.close(client);
    QCOMPARE(table.connections(), 0);
    QCOMPARE(table.clientCount(), 0);
}

void TestClientTable::ipv6CountsPerSlash64()
{
    ClientTable table(limits(100, 2, 10), {});
    ClientTable::Client *a = nullptr, *b = nullptr, *c = nullptr, *d = nullptr;
    QCOMPARE(table.open(QHostAddress(QStringLiteral("2001:db8:1:2::1")), &a), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("2001:db8:1:2:ffff::9")), &b), ClientTable::Admission::Admitted);
    QCOMPARE(a, b);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("2001:db8:1:2::77")), &c), ClientTable::Admission::ClientBusy);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("2001:db8:1:3::1")), &d), ClientTable::Admission::Admitted);
    QCOMPARE(table.clientCount(), 2);
    for (ClientTable::Client *client : {a, b, c, d})
        table.close(client);
    QCOMPARE(table.clientCount(), 0);
}

void TestClientTable::ipv4MappedIsIpv4()
{
    ClientTable table(limits(100, 1, 10), {});
    ClientTable::Client *a = nullptr, *b = nullptr;
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.7")), &a), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("::ffff:192.0.2.7")), &b), ClientTable::Admission::ClientBusy);
    QCOMPARE(a, b);
    table.close(a);
    table.close(b);
}

void TestClientTable::exemptPeersCountOnlyInTotal()
{
    ClientTable table(limits(100, 1, 1), {QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8"))});
    std::vector<ClientTable::Client *> proxies(5);
    for (auto *&client : proxies) {
        QCOMPARE(table.open(QHostAddress(QStringLiteral("10.1.2.3")), &client), ClientTable::Admission::Admitted);
        QCOMPARE(client, nullptr);
        QVERIFY(table.enter(client));
        QVERIFY(table.enter(client)); // no in-flight limit either
    }
    ClientTable::Client *mapped = nullptr;
    QCOMPARE(table.open(QHostAddress(QStringLiteral("::ffff:10.9.9.9")), &mapped), ClientTable::Admission::Admitted);
    QCOMPARE(mapped, nullptr);
    QCOMPARE(table.connections(), 6);
    QCOMPARE(table.clientCount(), 0);
    for (auto *client : proxies)
        table.close(client);
    table.close(mapped);
    QCOMPARE(table.connections(), 0);
}

void TestClientTable::inflightPerClient()
{
    ClientTable table(limits(100, 10, 2), {});
    ClientTable::Client *a = nullptr, *b = nullptr;
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.1")), &a), ClientTable::Admission::Admitted);
    QCOMPARE(table.open(QHostAddress(QStringLiteral("192.0.2.2")), &b), ClientTable::Admission::Admitted);
    QVERIFY(table.enter(a));
    QVERIFY(table.enter(a));
    QVERIFY(!table.enter(a)); // refused, and not counted
    QVERIFY(table.enter(b));
    table.leave(a);
    QVERIFY(table.enter(a));
    QVERIFY(!table.enter(a));
    table.leave(a);
    table.leave(a);
    table.leave(b);
    table.close(a);
    table.close(b);
}

void TestClientTable::entriesGoWhenTheLastConnectionCloses()
{
    ClientTable table(limits(100'000, 10, 10), {});
    // Many clients come and go: the table holds only those with an open connection.
    for (int round = 0; round < 3; ++round) {
        std::vector<ClientTable::Client *> open;
        for (int i = 0; i < 1000; ++i) {
            ClientTable::Client *c = nullptr;
            QCOMPARE(table.open(QHostAddress(quint32(0xC0000000u + quint32(round * 1000 + i))), &c),
                     ClientTable::Admission::Admitted);
            open.push_back(c);
        }
        QCOMPARE(table.clientCount(), 1000);
        for (ClientTable::Client *c : open)
            table.close(c);
        QCOMPARE(table.clientCount(), 0);
        QCOMPARE(table.connections(), 0);
    }
}

void TestClientTable::derivedMaximumWhenZero()
{
    ClientTable table(limits(0, 10, 10), {});
    QVERIFY(table.maxConnections() >= 16);
}

void TestClientTable::concurrentUseEndsAtZero()
{
    // Four threads on a few shared addresses: every open is closed, every enter left. The counts
    // must end at zero and the table empty, and the per-client maximum must never be exceeded.
    constexpr int kPerClient = 3;
    constexpr int kInflight = 2;
    ClientTable table(limits(1'000'000, kPerClient, kInflight), {});
    std::atomic<int> overLimit {0};
    std::atomic<int> admitted {0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&table, &overLimit, &admitted, t] {
            for (int i = 0; i < 20'000; ++i) {
                const QHostAddress peer(quint32(0xC0000200u + quint32((i + t) % 4)));
                ClientTable::Client *c = nullptr;
                const auto admission = table.open(peer, &c);
                if (admission == ClientTable::Admission::Admitted) {
                    ++admitted;
                    if (table.enter(c)) {
                        if (c->inflight.load() > kInflight)
                            ++overLimit;
                        table.leave(c);
                    }
                }
                table.close(c);
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    QCOMPARE(overLimit.load(), 0);
    QVERIFY(admitted.load() > 0);
    QCOMPARE(table.connections(), 0);
    QCOMPARE(table.clientCount(), 0);
}

QTEST_GUILESS_MAIN(TestClientTable)
#include "tst_clienttable.moc"
