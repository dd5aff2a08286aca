#include "clienttable.h"

#include "../core/config.h"

namespace Outpost::Http {

ClientTable::ClientTable(const Limits &limits, QList<QPair<QHostAddress, int>> exempt)
    : m_maxConnections(limits.maxConnections > 0 ? limits.maxConnections : defaultMaxConnections())
    , m_maxPerClient(limits.maxConnectionsPerClient)
    , m_maxInflight(limits.maxInflightPerClient)
    , m_exempt(std::move(exempt))
{
}

ClientTable::~ClientTable() = default;

size_t ClientTable::KeyHash::operator()(const Key &key) const noexcept
{
    return std::hash<quint64>()(key.high * 0x9e3779b97f4a7c15ULL ^ key.low);
}

ClientTable::Key ClientTable::keyOf(const QHostAddress &peer)
{
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4); // also for ::ffff:a.b.c.d
    if (isV4)
        return Key {0, 0xffff00000000ULL | v4};
    const Q_IPV6ADDR v6 = peer.toIPv6Address();
    quint64 high = 0;
    for (int i = 0; i < 8; ++i)
        high = high << 8 | v6[i];
    return Key {high, 0}; // the /64
}

bool ClientTable::isExempt(const QHostAddress &peer) const
{
    if (m_exempt.isEmpty())
        return false;
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    const QHostAddress address = isV4 ? QHostAddress(v4) : peer;
    for (const auto &subnet : m_exempt)
        if (address.isInSubnet(subnet))
            return true;
    return false;
}

ClientTable::Admission ClientTable::open(const QHostAddress &peer, Client **client)
{
    *client = nullptr;
    const int before = m_total.fetch_add(1, std::memory_order_relaxed);
    Admission admission = before >= m_maxConnections ? Admission::ServerBusy : Admission::Admitted;
    if (isExempt(peer))
        return admission;
    const Key key = keyOf(peer);
    std::lock_guard lock(m_mutex);
    Client &entry = m_clients.try_emplace(key).first->second;
    entry.key = key;
    if (admission == Admission::Admitted && entry.connections >= m_maxPerClient)
        admission = Admission::ClientBusy;
    ++entry.connections;
    *client = &entry;
    return admission;
}

void ClientTable::close(Client *client)
{
    m_total.fetch_sub(1, std::memory_order_relaxed);
    if (!client)
        return;
    std::lock_guard lock(m_mutex);
    if (--client->connections == 0)
        m_clients.erase(client->key);
}

bool ClientTable::enter(Client *client)
{
    if (!client)
        return true;
    if (client->inflight.fetch_add(1, std::memory_order_relaxed) < m_maxInflight)
        return true;
    client->inflight.fetch_sub(1, std::memory_order_relaxed);
    return false;
}

void ClientTable::leave(Client *client)
{
    if (client)
        client->inflight.fetch_sub(1, std::memory_order_relaxed);
}

int ClientTable::clientCount() const
{
    std::lock_guard lock(m_mutex);
    return int(m_clients.size());
}

} // namespace Outpost::Http
