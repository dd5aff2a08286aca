#pragma once

#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <memory>

#include "../core/clock.h"
#include "../core/config.h"
#include "../http/limits.h"
#include "../observe/requeststats.h"

namespace Outpost::Store {
class Store;
class RequestLog;
class LogRetention;
} // namespace Outpost::Store
namespace Outpost::Auth {
class PasswordHasher;
class Jwt;
class Superusers;
class ApiKeys;
class AuditRetention;
class LoginThrottle;
class Sessions;
class AppUsers;
class ClientTokens;
class Accounts;
} // namespace Outpost::Auth
namespace Outpost::Data {
class Collections;
class Records;
} // namespace Outpost::Data
namespace Outpost::Http {
class HttpServer;
class CollectionsController;
class RecordsController;
class TransferController;
class Router;
class HealthController;
class AuthController;
class KeysController;
class LogsController;
class SuperusersController;
class OAuth2Controller;
class MetricsController;
class SettingsController;
class RateLimiter;
class Gate;
} // namespace Outpost::Http

namespace Outpost {

class ServerMetrics;

// The composition root: builds the store, the services and the HTTP front end from a Config, and
// owns their lifecycle. Both executables and the tests create exactly one of these; the console
// reads the services through the accessors (in-process, never through HTTP).
//
// Thread: create, start() and stop() on the main thread. Accessors are safe from any thread once
// start() has succeeded; the services they return document their own thread rules.
class Server final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Server)

public:
    explicit Server(Config config, const Clock *clock = nullptr, QObject *parent = nullptr);
    ~Server() override;

    // Opens (and migrates) the data directory, locks it against a second server, and starts
    // listening. Errors: Unavailable (directory locked or unusable, port taken), Internal.
    Status start();
    // Graceful: stop accepting, finish in-flight requests (up to `drainMs`), close the store.
    void stop(int drainMs = 10'000);
    bool isRunning() const { return m_running; }
    // Request limits and timeouts of the guard; takes effect at the next start().
    void setLimits(const Http::Limits &limits) { m_limits = limits; }

    const Config &config() const { return m_config; }
    const Clock &clock() const { return *m_clock; }
    quint16 port() const;
    QString baseUrl() const; // with the real port, e.g. "http://127.0.0.1:8090"
    qint64 uptimeSeconds() const;

    // Valid between a successful start() and stop().
    Store::Store &store()
    {
        Q_ASSERT(m_store);
        return *m_store;
    }
    Auth::Superusers &superusers()
    {
        Q_ASSERT(m_superusers);
        return *m_superusers;
    }
    Auth::ApiKeys &apiKeys()
    {
        Q_ASSERT(m_apiKeys);
        return *m_apiKeys;
    }
    // Identifies callers and applies route policies; install it on any extra Router a test builds.
    const Http::Gate &gate() const
    {
        Q_ASSERT(m_gate);
        return *m_gate;
    }
    // Every route the server answers, with its policy (for the permission-table test).
    const Http::Router &router() const
    {
        Q_ASSERT(m_router);
        return *m_router;
    }
    Data::Collections &collections()
    {
        Q_ASSERT(m_collections);
        return *m_collections;
    }
    const Data::Records &records() const
    {
        Q_ASSERT(m_records);
        return *m_records;
    }
    const Observe::RequestStats &stats() const { return m_stats; }
    // The request metrics and their time series (GET /metrics); valid between start() and stop().
    ServerMetrics &metrics()
    {
        Q_ASSERT(m_metrics);
        return *m_metrics;
    }
    // The per-caller rate limits in force (valid between start() and stop()).
    Http::RateLimiter &rateLimiter()
    {
        Q_ASSERT(m_rateLimiter);
        return *m_rateLimiter;
    }
    // The request log (every answered request, in logs.db's `requests`); null when the config
    // turned it off. Valid between start() and stop().
    Store::RequestLog *requestLog() { return m_requestLog.get(); }
    QThreadPool *blockingPool() { return &m_blockingPool; }
    QThreadPool *passwordPool() { return &m_passwordPool; }

private:
    Status lockDataDir();

    Config m_config;
    std::unique_ptr<Clock> m_ownClock;
    const Clock *m_clock;
    qint64 m_startedMs = 0;
    std::atomic<bool> m_running {false};
    int m_lockFd = -1;
    Observe::RequestStats m_stats;
    Http::Limits m_limits;
    QThreadPool m_blockingPool;
    QThreadPool m_passwordPool; // password hashing only: its threads run at a lower priority
    std::unique_ptr<Store::Store> m_store;
    std::unique_ptr<Auth::PasswordHasher> m_hasher;
    std::unique_ptr<Auth::Jwt> m_jwt;
    std::unique_ptr<Auth::Sessions> m_sessions;
    std::unique_ptr<Auth::Superusers> m_superusers;
    std::unique_ptr<Auth::ApiKeys> m_apiKeys;
    std::unique_ptr<Data::Collections> m_collections;
    std::unique_ptr<Data::Records> m_records;
    std::unique_ptr<Auth::AppUsers> m_appUsers;
    std::unique_ptr<Auth::ClientTokens> m_clientTokens;
    std::unique_ptr<Auth::Accounts> m_accounts;
    std::unique_ptr<Http::Gate> m_gate;
    std::unique_ptr<Http::Router> m_router;
    std::unique_ptr<Http::HealthController> m_health;
    std::unique_ptr<Auth::LoginThrottle> m_loginThrottle;
    std::unique_ptr<Http::AuthController> m_auth;
    std::unique_ptr<Http::CollectionsController> m_collectionsApi;
    std::unique_ptr<Http::RecordsController> m_recordsApi;
    std::unique_ptr<Http::TransferController> m_transferApi;
    std::unique_ptr<Http::KeysController> m_keysApi;
    std::unique_ptr<Http::LogsController> m_logsApi;
    std::unique_ptr<Http::SuperusersController> m_superusersApi;
    std::unique_ptr<Http::OAuth2Controller> m_oauth2;
    std::unique_ptr<Http::MetricsController> m_metricsApi;
    std::unique_ptr<Http::RateLimiter> m_rateLimiter;
    std::unique_ptr<Http::SettingsController> m_settingsApi;
    std::unique_ptr<ServerMetrics> m_metrics;
    std::unique_ptr<Auth::AuditRetention> m_auditRetention;
    std::unique_ptr<Store::RequestLog> m_requestLog; // fed by the network threads' observer
    std::unique_ptr<Store::LogRetention> m_requestRetention;
    std::unique_ptr<Http::HttpServer> m_http;
};

} // namespace Outpost
