#include "server.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslKey>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "../auth/accounts.h"
#include "../auth/apikeys.h"
#include "../auth/appusers.h"
#include "../auth/auditretention.h"
#include "../auth/clienttokens.h"
#include "../auth/jwt.h"
#include "../auth/loginthrottle.h"
#include "../auth/passwordhasher.h"
#include "../auth/sessions.h"
#include "../auth/superusers.h"
#include "../data/collections.h"
#include "../data/records.h"
#include "../http/authcontroller.h"
#include "../http/bodylimits.h"
#include "../http/collectionscontroller.h"
#include "../http/gate.h"
#include "../http/healthcontroller.h"
#include "../http/httpserver.h"
#include "../http/keyscontroller.h"
#include "../http/logscontroller.h"
#include "../http/metricscontroller.h"
#include "../http/oauth2controller.h"
#include "../http/ratelimiter.h"
#include "../http/recordscontroller.h"
#include "../http/router.h"
#include "../http/settingscontroller.h"
#include "../http/superuserscontroller.h"
#include "../http/transfercontroller.h"
#include "../observe/metrics.h"
#include "../store/logretention.h"
#include "../store/requestlog.h"
#include "../store/store.h"
#include "requestlogfeed.h"
#include "servermetrics.h"

namespace Outpost {

namespace {

Result<QSslConfiguration> loadTls(const Config &config)
{
    QFile certFile(config.tlsCertFile);
    QFile keyFile(config.tlsKeyFile);
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly))
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("config: tls_cert/tls_key: cannot read the files"));
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Rsa, QSsl::Pem);
    if (chain.isEmpty())
        return makeError(ErrorCode::InvalidArgument,
                         QStringLiteral("config: tls_cert: \"%1\" holds no PEM certificate").arg(config.tlsCertFile));
    if (key.isNull())
        return makeError(
            ErrorCode::InvalidArgument,
            QStringLiteral("config: tls_key: \"%1\" holds no unencrypted PEM RSA or EC key").arg(config.tlsKeyFile));
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // clients are authenticated by tokens and keys
    return tls;
}

// The guard's limits as configured (setLimits() may replace them, as the tests do).
Http::Limits limitsFor(const Config &config)
{
    Http::Limits limits;
    limits.maxBodyBytes = config.maxBodyBytes;
    limits.maxImportBytes = config.maxImportBytes;
    limits.maxAuthBodyBytes = config.maxAuthBodyBytes;
    limits.headerTimeoutMs = config.headerTimeoutMs;
    limits.bodyTimeoutMs = config.bodyTimeoutMs;
    limits.maxConnections = config.maxConnections;
    limits.maxConnectionsPerClient = config.maxConnectionsPerClient;
    limits.maxInflightPerClient = config.maxInflightPerClient;
    return limits;
}

// PocketBase's default `users` auth collection, created once per data directory: an
// administrator who deletes or renames it does not get it back on the next start.
Status ensureUsersCollection(Store::Store &store, Data::Collections &collections)
{
    bool done = false;
    Status s = store.read([&done](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT 1 FROM _settings WHERE key = 'users.created'");
        if (!select)
            return select.error();
        auto row = select->step();
        if (!row)
            return row.error();
        done = *row;
        return {};
    });
    if (!s || done)
        return s;
    if (!collections.get(QStringLiteral("users"))) {
        const QString own = QStringLiteral("id = @request.auth.id");
        const QJsonObject definition {{QStringLiteral("id"), QStringLiteral("_pb_users_auth_")},
                                      {QStringLiteral("name"), QStringLiteral("users")},
                                      {QStringLiteral("type"), QStringLiteral("auth")},
                                      {QStringLiteral("fields"),
                                       QJsonArray {QJsonObject {{QStringLiteral("name"), QStringLiteral("name")},
                                                                {QStringLiteral("type"), QStringLiteral("text")},
                                                                {QStringLiteral("max"), 255}}}},
                                      {QStringLiteral("listRule"), own},
                                      {QStringLiteral("viewRule"), own},
                                      {QStringLiteral("createRule"), QString()},
                                      {QStringLiteral("updateRule"), own},
                                      {QStringLiteral("deleteRule"), own}};
        if (auto created = collections.create(definition); !created)
            return created.error();
    }
    return store.write([](Store::Database &db) {
        return db.exec("INSERT OR IGNORE INTO _settings(key, value) VALUES ('users.created', X'31')");
    });
}

} // namespace

Server::Server(Config config, const Clock *clock, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_ownClock(clock ? nullptr : std::make_unique<SystemClock>())
    , m_clock(clock ? clock : m_ownClock.get())
    , m_limits(limitsFor(m_config))
{
    // Password hashing takes ~19 MiB and tens of ms each: bound how many run at once.
    m_blockingPool.setMaxThreadCount(qMax(2, m_config.threads));
    m_blockingPool.setObjectName(QStringLiteral("outpost-blocking"));
    // Logins, signups and password changes: Argon2 at nice +10 (see PasswordHasher), apart from the
    // other blocking work, which keeps its priority.
    m_passwordPool.setMaxThreadCount(qMax(2, m_config.threads));
    m_passwordPool.setObjectName(QStringLiteral("outpost-passwords"));
}

Server::~Server()
{
    stop(0);
}

Status Server::lockDataDir()
{
    if (!QDir().mkpath(m_config.dataDir))
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("cannot create data directory %1").arg(m_config.dataDir));
    QFile::setPermissions(m_config.dataDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    const QByteArray path = QFile::encodeName(m_config.dataDir + QStringLiteral("/outpost.lock"));
    m_lockFd = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_lockFd < 0 || ::flock(m_lockFd, LOCK_EX | LOCK_NB) != 0) {
        if (m_lockFd >= 0)
            ::close(m_lockFd);
        m_lockFd = -1;
        return makeError(ErrorCode::Unavailable,
                         QStringLiteral("%1 is in use by another running Outpost server").arg(m_config.dataDir));
    }
    return {};
}

Status Server::start()
{
    if (m_running)
        return {};
    m_startedMs = m_clock->nowMs();
    std::optional<QSslConfiguration> tls;
    if (m_config.tlsEnabled()) {
        auto loaded = loadTls(m_config);
        if (!loaded)
            return loaded.error();
        tls = *loaded;
    }
    // Lock first, so that a second server never migrates a database another one is serving.
    if (auto s = lockDataDir(); !s)
        return s;
    auto store = Store::Store::open({m_config.dataDir, m_config.durability});
    if (!store) {
        stop(0);
        return store.error();
    }
    m_store = std::move(store).value();
    if (m_config.requestLog)
        m_requestLog = std::make_unique<Store::RequestLog>(*m_store);
    auto key = Auth::loadOrCreateSigningKey(*m_store);
    if (!key) {
        stop(0);
        return key.error();
    }
    m_hasher = std::make_unique<Auth::PasswordHasher>();
    m_jwt = std::make_unique<Auth::Jwt>(key->secret, key->keyId, *m_clock);
    m_sessions = std::make_unique<Auth::Sessions>(*m_clock);
    m_superusers = std::make_unique<Auth::Superusers>(*m_store, *m_hasher, *m_jwt, *m_clock, *m_sessions);
    m_apiKeys = std::make_unique<Auth::ApiKeys>(*m_store, *m_clock);
    m_collections = std::make_unique<Data::Collections>(*m_store, *m_clock);
    m_records = std::make_unique<Data::Records>(*m_clock);
    m_appUsers = std::make_unique<Auth::AppUsers>(*m_store, *m_records, *m_hasher, *m_jwt, *m_sessions, *m_clock);
    m_clientTokens = std::make_unique<Auth::ClientTokens>(*m_jwt, *m_apiKeys, *m_clock);
    m_accounts
        = std::make_unique<Auth::Accounts>(*m_superusers, *m_appUsers, *m_sessions, *m_store, *m_collections, *m_clock);
    m_gate = std::make_unique<Http::Gate>(*m_superusers, *m_apiKeys, *m_appUsers, *m_clientTokens, *m_collections);

    m_router = std::make_unique<Http::Router>();
    m_gate->install(*m_router);
    m_health = std::make_unique<Http::HealthController>(*m_clock, m_startedMs);
    m_health->registerRoutes(*m_router);
    m_loginThrottle = std::make_unique<Auth::LoginThrottle>(*m_clock);
    m_auth = std::make_unique<Http::AuthController>(*m_accounts, *m_superusers, *m_appUsers, *m_collections,
                                                    *m_loginThrottle, m_config.trustedProxies, &m_passwordPool);
    m_auth->registerRoutes(*m_router);
    m_oauth2 = std::make_unique<Http::OAuth2Controller>(*m_accounts, *m_apiKeys, *m_clientTokens,
                                                        m_config.trustedProxies, &m_blockingPool);
    m_oauth2->registerRoutes(*m_router);
    m_collectionsApi = std::make_unique<Http::CollectionsController>(*m_collections, *m_clock, &m_blockingPool,
                                                                     m_config.trustedProxies);
    m_collectionsApi->registerRoutes(*m_router);
    // Before the generic records routes, which would otherwise answer for `_superusers`.
    m_superusersApi = std::make_unique<Http::SuperusersController>(*m_superusers, *m_store, *m_clock,
                                                                   m_config.trustedProxies, &m_passwordPool);
    m_superusersApi->registerRoutes(*m_router);
    m_recordsApi
        = std::make_unique<Http::RecordsController>(*m_collections, *m_records, *m_store, *m_clock, *m_appUsers,
                                                    *m_sessions, &m_passwordPool, m_config.trustedProxies);
    m_recordsApi->registerRoutes(*m_router);
    m_transferApi = std::make_unique<Http::TransferController>(*m_collections, *m_records, *m_store, *m_clock,
                                                               &m_blockingPool, m_config.trustedProxies);
    m_transferApi->registerRoutes(*m_router);
    m_keysApi = std::make_unique<Http::KeysController>(*m_apiKeys, &m_blockingPool);
    m_keysApi->registerRoutes(*m_router);
    m_logsApi = std::make_unique<Http::LogsController>(*m_store, m_requestLog.get(), *m_clock, &m_blockingPool);
    m_logsApi->registerRoutes(*m_router);
    m_metricsApi = std::make_unique<Http::MetricsController>(*m_clock, m_config.metricsOpenOnLoopback);
    m_metricsApi->registerRoutes(*m_router);
    m_rateLimiter = std::make_unique<Http::RateLimiter>(*m_clock, m_config.rateLimits);
    m_settingsApi = std::make_unique<Http::SettingsController>(*m_rateLimiter, *m_store, *m_clock, m_config.rateLimits,
                                                               &m_blockingPool);
    if (auto s = m_settingsApi->restore(); !s) {
        stop(0);
        return s;
    }
    m_settingsApi->registerRoutes(*m_router);
    // Every route is registered: the metrics count by the finished table.
    m_metrics = std::make_unique<ServerMetrics>(*m_router, *m_store, *m_clock, &m_blockingPool);
    m_metrics->restore();
    m_metricsApi->attach(m_metrics->metrics(), m_metrics->series());
    m_auditRetention
        = std::make_unique<Auth::AuditRetention>(*m_store, *m_clock, m_config.auditRetentionDays, &m_blockingPool);
    m_auditRetention->start();
    m_requestRetention = std::make_unique<Store::LogRetention>(
        *m_store, *m_clock,
        Store::RetentionPolicy {
            .table = "requests",
            .timeFormat = Store::RetentionPolicy::TimeFormat::UnixMs,
            .maxAgeDays = m_config.requestLogRetentionDays,
            .maxBytes = qint64(m_config.requestLogMaxMb) * 1024 * 1024,
            .ageIntervalMs = 60 * 60 * 1000, // an entry outlives its days by an hour at most
            .sizeIntervalMs = 10'000,
            .timerMs = 10'000,
            .startBlocks = false, // after a long stop, much may be due: not before the server listens
        },
        &m_blockingPool);
    m_requestRetention->start();
    m_metrics->setLogProbe([store = m_store.get(), requests = m_requestLog.get()] {
        QList<Observe::LogCounts> logs {{"audit", store->auditLog().writtenCount(), store->auditLog().droppedCount()}};
        if (requests)
            logs.append({"request", requests->writtenCount(), requests->droppedCount()});
        return logs;
    });

    Http::HttpServer::Options options;
    options.host = m_config.listenHost;
    options.port = m_config.listenPort;
    options.threads = m_config.threads;
    options.tls = tls;
    options.trustedProxies = m_config.trustedProxies;
    options.rateLimiter = m_rateLimiter.get();
    options.limits = m_limits;
    options.routeBodyLimits = Http::standardRouteBodyLimits(m_limits);
    options.corsOrigins = m_config.corsOrigins;
    options.allowedHosts = m_config.allowedHosts;
    auto observer = [this](const Http::ResponseRecord &record) {
        m_stats.record(record.status);
        if (m_config.metrics)
            m_metrics->record(record);
        if (m_requestLog)
            m_requestLog->append(requestLogEntry(record));
    };
    m_http = std::make_unique<Http::HttpServer>(*m_router, observer, *m_store, options);
    m_http->setRejectionObserver([this](int status) {
        m_stats.recordRejected(status);
        m_metrics->recordRejected(status);
    });
    Observe::Metrics::Probes probes;
    probes.inflight = [http = m_http.get()] { return qint64(http->inflight()); };
    probes.connections = [http = m_http.get()] { return qint64(http->connections()); };
    probes.rateLimited = [limiter = m_rateLimiter.get()] {
        QList<QPair<QByteArray, quint64>> out;
        for (int g = 0; g < kRateGroupCount; ++g)
            out.append({rateGroupName(RateGroup(g)).toLatin1(), limiter->refusedCount(RateGroup(g))});
        return out;
    };
    m_metrics->setProbes(std::move(probes));
    if (auto s = m_http->start(); !s) {
        stop(0);
        return s;
    }
    // Once the address is ours: a start that fails on a taken port leaves the data as it was.
    if (auto s = ensureUsersCollection(*m_store, *m_collections); !s) {
        stop(0);
        return s;
    }
    m_metrics->start();
    m_running = true;
    return {};
}

void Server::stop(int drainMs)
{
    if (m_http)
        m_http->stop(drainMs);
    m_http.reset();
    if (m_metrics)
        m_metrics->stop(); // saves the series while the store is open
    m_blockingPool.waitForDone(); // work still running finishes before the store closes
    m_passwordPool.waitForDone();
    m_auditRetention.reset();
    m_requestRetention.reset();
    m_requestLog.reset(); // writes what is queued while the store is open
    m_metricsApi.reset();
    m_settingsApi.reset();
    m_rateLimiter.reset();
    m_metrics.reset();
    m_logsApi.reset();
    m_keysApi.reset();
    m_superusersApi.reset();
    m_oauth2.reset();
    m_transferApi.reset();
    m_recordsApi.reset();
    m_collectionsApi.reset();
    m_auth.reset();
    m_loginThrottle.reset();
    m_health.reset();
    m_router.reset();
    m_gate.reset();
    m_accounts.reset();
    m_clientTokens.reset();
    m_appUsers.reset();
    m_records.reset();
    m_collections.reset();
    m_apiKeys.reset(); // flushes key usage while the store is open
    m_superusers.reset();
    m_sessions.reset();
    m_jwt.reset();
    m_hasher.reset();
    m_store.reset(); // closes both files; WAL is checkpointed by the last connection
    if (m_lockFd >= 0) {
        ::close(m_lockFd);
        m_lockFd = -1;
    }
    m_running = false;
}

quint16 Server::port() const
{
    return m_http ? m_http->port() : 0;
}

QString Server::baseUrl() const
{
    Config c = m_config;
    c.listenPort = port();
    return c.baseUrl();
}

qint64 Server::uptimeSeconds() const
{
    return m_running ? (m_clock->nowMs() - m_startedMs) / 1000 : 0;
}

} // namespace Outpost
