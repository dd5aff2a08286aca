#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "limits.h"

namespace Outpost::Http {

// Counts the open connections (all together and per client) and each client's requests in flight,
// for Limits::maxConnections, maxConnectionsPerClient and maxInflightPerClient. A client is a peer
// address; IPv6 peers count per /64, since one host usually holds a whole /64. Peers inside
// `exempt` (the trusted proxies, which many clients share) count only towards the total.
//
// A client's entry lives only while it has an open connection and is removed when its last one
// closes: the table never holds more entries than there are connections.
//
// Thread-safe: shared by every network thread. Opening and closing a connection take a mutex;
// entering and leaving a request are one atomic operation each.
class ClientTable
{
    struct Key
    {
        quint64 high = 0;
        quint64 low = 0;
        bool operator==(const Key &other) const { return high == other.high && low == other.low; }
    };

public:
    // One client's counts; opaque to callers, valid from open() to the matching close().
    struct Client
    {
        Key key;
        int connections = 0; // guarded by the table's mutex
        std::atomic<int> inflight {0};
    };
    enum class Admission { Admitted, ServerBusy, ClientBusy };

    ClientTable(const Limits &limits, QList<QPair<QHostAddress, int>> exempt);
    ~ClientTable();
    Q_DISABLE_COPY_MOVE(ClientTable)

    // A new connection from `peer`. It is counted whatever the answer (it holds a descriptor until
    // it is closed): pair every open() with a close(). `*client` is null for an exempt peer.
    // ServerBusy: maxConnections were open already; ClientBusy: this client had its maximum.
    Admission open(const QHostAddress &peer, Client **client);
    void close(Client *client);

    // A request of `client` is handed to a handler: false, counting nothing, when the client has
    // maxInflightPerClient in flight already. Always true for a null client. Pair a true with leave().
    bool enter(Client *client);
    void leave(Client *client);

    int connections() const { return m_total.load(std::memory_order_relaxed); }
    int maxConnections() const { return m_maxConnections; }
    int clientCount() const; // clients with an open connection

private:
    struct KeyHash
    {
        size_t operator()(const Key &key) const noexcept;
    };
    static Key keyOf(const QHostAddress &peer);
    bool isExempt(const QHostAddress &peer) const;

    const int m_maxConnections;
    const int m_maxPerClient;
    const int m_maxInflight;
    const QList<QPair<QHostAddress, int>> m_exempt;
    std::atomic<int> m_total {0};
    mutable std::mutex m_mutex;
    std::unordered_map<Key, Client, KeyHash> m_clients; // node-based: a Client never moves
};

} // namespace Outpost::Http
