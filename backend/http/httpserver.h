#pragma once

#include <QHostAddress>
#include <QSslConfiguration>
#include <QStringList>
#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "../core/result.h"
#include "bodylimits.h"
#include "limits.h"
#include "router.h"

class QThread;

namespace Outpost::Store {
class Store;
}

namespace Outpost::Http {

class Engine;
class RateLimiter;
struct GuardConfig;

// The HTTP front end: N network threads, each with its own Engine on its own SO_REUSEPORT socket
// of the same address, sharing one Router. Measured on 2 cores this beats one thread by 15-20% and
// matches tuned nginx (docs/BENCHMARKS.md).
//
// Thread: construct, start() and stop() from one controlling thread (the main thread).
class HttpServer
{
public:
    struct Options
    {
        QHostAddress host = QHostAddress::LocalHost;
        quint16 port = 0; // 0: any free port, see port()
        int threads = 2;
        Limits limits;
        std::optional<QSslConfiguration> tls;
        QList<QPair<QHostAddress, int>> trustedProxies; // see Request::client
        RateLimiter *rateLimiter = nullptr; // not owned; null: no rate limits
        // Routes whose bodies get another limit than limits.maxBodyBytes (standardRouteBodyLimits());
        // each must name a route of the router, or start() fails.
        QList<RouteBodyLimit> routeBodyLimits;
        QStringList corsOrigins; // see Cors; empty: no CORS
        QStringList allowedHosts; // see HostCheck
    };

    HttpServer(const Router &router, ResponseObserver observer, Store::Store &store, Options options);
    ~HttpServer();

    // Binds and starts serving. Unavailable when the address is taken or cannot be bound.
    Status start();
    quint16 port() const { return m_port; }
    int inflight() const { return m_inflight.load(); }
    // Open client connections (those being refused for a connection limit included). Any thread.
    int connections() const;

    // Graceful stop: stop accepting, let in-flight requests finish (up to `drainMs`), then close
    // every connection and join the threads. Idempotent.
    void stop(int drainMs = 10'000);

    // Called with the status of every request the guard refuses before routing (any thread).
    void setRejectionObserver(std::function<void(int)> observer) { m_rejected = std::move(observer); }

private:
    struct Worker;
    const Router &m_router;
    ResponseObserver m_observer;
    std::function<void(int)> m_rejected;
    Store::Store &m_store;
    Options m_options;
    quint16 m_port = 0;
    std::atomic<int> m_inflight {0};
    std::unique_ptr<GuardConfig> m_guard; // from start(); outlives the workers' connections
    std::vector<std::unique_ptr<Worker>> m_workers;
};

} // namespace Outpost::Http
