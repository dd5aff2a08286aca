#pragma once

#include <QAbstractHttpServer>
#include <atomic>
#include <memory>

#include "limits.h"
#include "ratelimiter.h"
#include "router.h"

namespace Outpost::Store {
class Database;
}

namespace Outpost::Http {

struct Exchange;

// One network thread's HTTP server: Qt HTTP Server's connection handling and parser, fed by our
// Connection guards, dispatching to the shared Router. Each network thread owns one Engine and one
// read connection to the store.
//
// Thread: create, use and destroy on its network thread.
class Engine final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    // `trustedProxies`: whose X-Forwarded-For names the client (Request::client).
    // `limiter` (may be null: no rate limits) is shared by every engine.
    Engine(const Router &router, const ResponseObserver &observer, std::unique_ptr<Store::Database> reader,
           QList<QPair<QHostAddress, int>> trustedProxies, RateLimiter *limiter, QObject *parent = nullptr);
    ~Engine() override;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    // Takes a token for the matched route's group; the 429 answer when there is none left.
    std::optional<Response> applyRateLimit(const Request &request, Exchange &exchange, int route) const;

    const Router &m_router;
    const ResponseObserver &m_observer;
    std::unique_ptr<Store::Database> m_reader;
    const QList<QPair<QHostAddress, int>> m_trustedProxies;
    RateLimiter *m_limiter;
    std::vector<std::optional<RateGroup>> m_rateGroups; // by Router route index
};

} // namespace Outpost::Http
