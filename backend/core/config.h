#pragma once

#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QPair>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include "ratelimitrules.h"
#include "result.h"

namespace Outpost {

enum class Durability {
    Full, // synchronous=FULL: an acknowledged write survives power loss (default)
    Normal, // synchronous=NORMAL: survives a crash of the process, may lose the last commits on power loss
};

// Where an effective setting came from. Precedence, highest first: Flag > Environment > File > Default.
enum class ConfigSource { Default, File, Environment, Flag };
QString configSourceName(ConfigSource source);

// The effective configuration of one run. Plain value type; copy freely.
struct Config
{
    QString dataDir;
    QHostAddress listenHost = QHostAddress::LocalHost;
    quint16 listenPort = 8090;
    int threads = 2;
    Durability durability = Durability::Full;
    bool allowInsecureRemote = false;
    QString tlsCertFile;
    QString tlsKeyFile;
    int auditRetentionDays = 90; // audit entries older than this are deleted; 0 keeps them forever
    // The request log (Store::RequestLog): on or off (`request_log`, for benchmarks), and how old
    // (days; 0: forever) and how large (MiB of the requests table; 0: no limit) it may grow.
    bool requestLog = true;
    int requestLogRetentionDays = 7;
    int requestLogMaxMb = 256;
    // Proxies whose X-Forwarded-For is believed (see Http::clientAddress); empty: none.
    QList<QPair<QHostAddress, int>> trustedProxies;
    // Per-caller rate limits by route group (`rate_limits`); the admin API may override them at run
    // time (GET/PUT/DELETE /api/settings/rate-limits), and the override persists in data.db.
    RateRules rateLimits = RateRules::defaults();
    // GET /metrics needs no credentials from a loopback peer (a local Prometheus).
    bool metricsOpenOnLoopback = false;
    // Request metrics are recorded (`metrics`); off only to measure what they cost.
    bool metrics = true;
    // What a client may send and hold open (Http::Limits has the same defaults); the body limits
    // in bytes, per route group: imports, logins and tokens, everything else.
    qint64 maxBodyBytes = 16 * 1024 * 1024;
    qint64 maxImportBytes = 64 * 1024 * 1024;
    qint64 maxAuthBodyBytes = 64 * 1024;
    int headerTimeoutMs = 10'000;
    int bodyTimeoutMs = 30'000;
    int maxConnections = 0; // 0: defaultMaxConnections()
    int maxConnectionsPerClient = 256;
    int maxInflightPerClient = 64;
    // Browser origins allowed to call the API ("https://app.example.com", normalised), or {"*"};
    // empty: no CORS headers at all.
    QStringList corsOrigins;
    // Host names accepted besides the loopback ones (lower case; "*.example.com" for a domain's
    // names); see Http::HostCheck.
    QStringList allowedHosts;
    QString configFile; // empty when none was read

    struct Entry
    {
        QString key;
        QString value;
        ConfigSource source = ConfigSource::Default;
        QString origin; // e.g. "--listen", "OUTPOST_LISTEN", "/etc/outpost.conf:3"
    };
    // Every key with its effective value and source, in a stable order, for `outpostd config` and
    // the console's Settings page.
    QList<Entry> entries;

    bool tlsEnabled() const { return !tlsCertFile.isEmpty(); }
    QString listenAddressText() const;
    QString baseUrl() const; // e.g. "http://127.0.0.1:8090"
};

// The default for Config::maxConnections: the soft RLIMIT_NOFILE less room for the descriptors the
// server needs besides client connections (databases, threads, connections being refused), so that
// it answers 503 before accept() fails with EMFILE.
int defaultMaxConnections();

// Builds a Config from defaults, an optional config file, the environment and command-line flags.
// `flags` maps a long option name without dashes ("listen") to its value ("" for a bare switch).
// Errors are InvalidArgument with a one-line message that names the key, where the value came from
// and what is wrong with it.
class ConfigLoader
{
public:
    static QStringList keys(); // every key the file format accepts, e.g. "listen"
    static QStringList flags(); // every key's command-line option, without dashes, e.g. "data-dir"
    static Result<Config> load(const QMap<QString, QString> &flags, const QProcessEnvironment &env);
    static QString defaultDataDir(const QProcessEnvironment &env);
};

// Splits `--name value`, `--name=value` and bare switches from positional arguments. `switches` are
// the option names that take no value. Unknown options are an error.
struct ParsedArgs
{
    QMap<QString, QString> options;
    QStringList positional;
};
Result<ParsedArgs> parseArgs(const QStringList &args, const QStringList &valueOptions, const QStringList &switches);

} // namespace Outpost
