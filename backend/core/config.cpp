#include "config.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QThread>
#include <QUrl>
#include <limits>
#include <optional>

#include <sys/resource.h>

namespace Outpost {

namespace {

struct KeySpec
{
    const char *key; // config-file key
    const char *flag; // command-line option, without dashes
    const char *env; // environment variable
};

// One table drives the three sources so that they cannot drift apart.
constexpr KeySpec kKeys[] = {
    {"data_dir", "data-dir", "OUTPOST_DATA_DIR"},
    {"listen", "listen", "OUTPOST_LISTEN"},
    {"threads", "threads", "OUTPOST_THREADS"},
    {"durability", "durability", "OUTPOST_DURABILITY"},
    {"allow_insecure_remote", "allow-insecure-remote", "OUTPOST_ALLOW_INSECURE_REMOTE"},
    {"tls_cert", "tls-cert", "OUTPOST_TLS_CERT"},
    {"tls_key", "tls-key", "OUTPOST_TLS_KEY"},
    {"audit_retention_days", "audit-retention-days", "OUTPOST_AUDIT_RETENTION_DAYS"},
    {"trusted_proxies", "trusted-proxies", "OUTPOST_TRUSTED_PROXIES"},
    {"request_log", "request-log", "OUTPOST_REQUEST_LOG"},
    {"request_log_retention_days", "request-log-retention-days", "OUTPOST_REQUEST_LOG_RETENTION_DAYS"},
    {"request_log_max_mb", "request-log-max-mb", "OUTPOST_REQUEST_LOG_MAX_MB"},
    {"rate_limits", "rate-limits", "OUTPOST_RATE_LIMITS"},
    {"metrics", "metrics", "OUTPOST_METRICS"},
    {"metrics_open_on_loopback", "metrics-open-on-loopback", "OUTPOST_METRICS_OPEN_ON_LOOPBACK"},
    {"max_body_bytes", "max-body-bytes", "OUTPOST_MAX_BODY_BYTES"},
    {"max_import_bytes", "max-import-bytes", "OUTPOST_MAX_IMPORT_BYTES"},
    {"max_auth_body_bytes", "max-auth-body-bytes", "OUTPOST_MAX_AUTH_BODY_BYTES"},
    {"header_timeout_ms", "header-timeout-ms", "OUTPOST_HEADER_TIMEOUT_MS"},
    {"body_timeout_ms", "body-timeout-ms", "OUTPOST_BODY_TIMEOUT_MS"},
    {"max_connections", "max-connections", "OUTPOST_MAX_CONNECTIONS"},
    {"max_connections_per_client", "max-connections-per-client", "OUTPOST_MAX_CONNECTIONS_PER_CLIENT"},
    {"max_inflight_per_client", "max-inflight-per-client", "OUTPOST_MAX_INFLIGHT_PER_CLIENT"},
    {"cors_origins", "cors-origins", "OUTPOST_CORS_ORIGINS"},
    {"allowed_hosts", "allowed-hosts", "OUTPOST_ALLOWED_HOSTS"},
};

constexpr int kMaxRetentionDays = 36500;
constexpr int kMaxRequestLogMb = 1024 * 1024; // 1 TiB

struct RawValue
{
    QString value;
    ConfigSource source = ConfigSource::Default;
    QString origin;
};

Error badValue(const QString &key, const RawValue &raw, const QString &what)
{
    const QString where = raw.origin.isEmpty() ? QString() : QStringLiteral(" (from %1)").arg(raw.origin);
    return makeError(ErrorCode::InvalidArgument,
                     QStringLiteral("config: %1%2: \"%3\" %4").arg(key, where, raw.value, what));
}

Result<QMap<QString, RawValue>> readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return makeError(ErrorCode::InvalidArgument,
                         QStringLiteral("config: cannot read config file %1: %2").arg(path, file.errorString()));
    QMap<QString, RawValue> values;
    int lineNo = 0;
    while (!file.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        const QString origin = QStringLiteral("%1:%2").arg(path).arg(lineNo);
        if (eq <= 0)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("config: %1: expected `key = value`, got \"%2\"").arg(origin, line));
        const QString key = line.left(eq).trimmed();
        QString value = line.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith(u'"') && value.endsWith(u'"'))
            value = value.mid(1, value.size() - 2);
        if (!ConfigLoader::keys().contains(key))
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("config: %1: unknown key \"%2\" (known: %3)")
                                 .arg(origin, key, ConfigLoader::keys().join(QStringLiteral(", "))));
        values.insert(key, RawValue {value, ConfigSource::File, origin});
    }
    return values;
}

Result<bool> parseBool(const QString &key, const RawValue &raw)
{
    const QString v = raw.value.toLower();
    // Only a bare command-line switch means "on"; an empty variable or file value is a mistake.
    if ((v.isEmpty() && raw.source == ConfigSource::Flag) || v == u"true" || v == u"1" || v == u"yes" || v == u"on")
        return true;
    if (v == u"false" || v == u"0" || v == u"no" || v == u"off")
        return false;
    return badValue(key, raw, QStringLiteral("is not a boolean (use true or false)"));
}

Status parseListen(const RawValue &raw, Config &config)
{
    const QString text = raw.value.trimmed();
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon < 0)
        return badValue(QStringLiteral("listen"), raw, QStringLiteral("is not HOST:PORT (e.g. 127.0.0.1:8090)"));
    QString host = text.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    const QString portText = text.mid(colon + 1);
    bool portOk = !portText.isEmpty() && portText.size() <= 5;
    for (QChar c : portText)
        portOk = portOk && c.isDigit() && c.unicode() < 128;
    const uint port = portOk ? portText.toUInt(&portOk) : 0;
    if (!portOk || port > 65535)
        return badValue(QStringLiteral("listen"), raw, QStringLiteral("has no valid port (0-65535)"));
    QHostAddress address;
    if (host.isEmpty() || host == u"localhost")
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(host))
        return badValue(QStringLiteral("listen"), raw, QStringLiteral("has a host that is not an IP address"));
    config.listenHost = address;
    config.listenPort = quint16(port);
    return {};
}

// request_log, request_log_retention_days and request_log_max_mb.
Status parseRequestLog(QMap<QString, RawValue> &raw, Config &config)
{
    auto enabled = parseBool(QStringLiteral("request_log"), raw[QStringLiteral("request_log")]);
    if (!enabled)
        return enabled.error();
    config.requestLog = *enabled;
    bool ok = false;
    const RawValue &days = raw[QStringLiteral("request_log_retention_days")];
    config.requestLogRetentionDays = days.value.trimmed().toInt(&ok);
    if (!ok || config.requestLogRetentionDays < 0 || config.requestLogRetentionDays > kMaxRetentionDays)
        return badValue(
            QStringLiteral("request_log_retention_days"), days,
            QStringLiteral("is not a whole number of days from 0 (keep forever) to %1").arg(kMaxRetentionDays));
    const RawValue &size = raw[QStringLiteral("request_log_max_mb")];
    config.requestLogMaxMb = size.value.trimmed().toInt(&ok);
    if (!ok || config.requestLogMaxMb < 0 || config.requestLogMaxMb > kMaxRequestLogMb)
        return badValue(QStringLiteral("request_log_max_mb"), size,
                        QStringLiteral("is not a whole number of MiB from 0 (no limit) to %1").arg(kMaxRequestLogMb));
    return {};
}

// A list of CIDR ranges or single addresses, separated by commas or spaces. Read with
// QHostAddress::parseSubnet, so "10.1" is the network 10.1.0.0/16 and a bare address is itself.
Status parseTrustedProxies(const RawValue &raw, Config &config)
{
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    for (const QString &item : raw.value.split(separators, Qt::SkipEmptyParts)) {
        const QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(item);
        if (subnet.second < 0)
            return badValue(QStringLiteral("trusted_proxies"), raw,
                            QStringLiteral("contains \"%1\", which is not an address or CIDR range").arg(item));
        config.trustedProxies.append(subnet);
    }
    return {};
}

// What `outpostd config` shows: the ranges as read, e.g. "10.0.0.0/8, 127.0.0.1/32".
QString trustedProxiesText(const Config &config)
{
    QStringList shown;
    for (const auto &[address, length] : config.trustedProxies)
        shown.append(address.toString() + u'/' + QString::number(length));
    return shown.join(QStringLiteral(", "));
}

constexpr qint64 kKiB = 1024;
constexpr qint64 kMiB = 1024 * kKiB;
constexpr qint64 kGiB = 1024 * kMiB;
constexpr int kMaxCount = 1'000'000;

// The input limits given in bytes, and the ones given as whole numbers.
struct SizeKey
{
    const char *key;
    qint64 Config::*field;
    qint64 min;
    qint64 max;
};
constexpr SizeKey kSizeKeys[] = {
    {"max_body_bytes", &Config::maxBodyBytes, kKiB, kGiB},
    {"max_import_bytes", &Config::maxImportBytes, kKiB, kGiB},
    {"max_auth_body_bytes", &Config::maxAuthBodyBytes, kKiB, kMiB},
};
struct CountKey
{
    const char *key;
    int Config::*field;
    int min;
    int max;
};
constexpr CountKey kCountKeys[] = {
    {"header_timeout_ms", &Config::headerTimeoutMs, 100, 600'000},
    {"body_timeout_ms", &Config::bodyTimeoutMs, 100, 3'600'000},
    {"max_connections_per_client", &Config::maxConnectionsPerClient, 1, kMaxCount},
    {"max_inflight_per_client", &Config::maxInflightPerClient, 1, kMaxCount},
};

// "65536", "64K", "64KiB", "16M", "16MiB", "1G", "1GiB": units are binary, in any case. "MB" is
// refused: it could mean either.
std::optional<qint64> parseSize(const QString &text)
{
    static const QRegularExpression form(QStringLiteral("^([0-9]{1,13})\\s*(?:([kmg])(?:ib)?)?$"),
                                         QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = form.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const qint64 n = m.captured(1).toLongLong(); // at most 13 digits: fits
    const QString unit = m.captured(2).toLower();
    const qint64 scale = unit == u"k" ? kKiB : unit == u"m" ? kMiB : unit == u"g" ? kGiB : 1;
    if (n > std::numeric_limits<qint64>::max() / scale)
        return std::nullopt; // would overflow; far beyond every limit anyway
    return n * scale;
}

// 16777216 as "16MiB"; sizes that are no whole number of KiB as they are.
QString sizeText(qint64 bytes)
{
    for (const auto &[unit, name] : {std::pair {kGiB, "GiB"}, std::pair {kMiB, "MiB"}, std::pair {kKiB, "KiB"}})
        if (bytes >= unit && bytes % unit == 0)
            return QString::number(bytes / unit) + QLatin1String(name);
    return QString::number(bytes);
}

void insertInputLimitDefaults(QMap<QString, RawValue> &raw, const Config &config)
{
    for (const SizeKey &k : kSizeKeys)
        raw.insert(QString::fromLatin1(k.key), {sizeText(config.*k.field), ConfigSource::Default, {}});
    for (const CountKey &k : kCountKeys)
        raw.insert(QString::fromLatin1(k.key), {QString::number(config.*k.field), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("max_connections"), {QStringLiteral("auto"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("cors_origins"), {QString(), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("allowed_hosts"), {QString(), ConfigSource::Default, {}});
}

Status parseInputLimits(const QMap<QString, RawValue> &raw, Config &config)
{
    for (const SizeKey &k : kSizeKeys) {
        const QString key = QString::fromLatin1(k.key);
        const RawValue &v = raw[key];
        const std::optional<qint64> size = parseSize(v.value);
        if (!size || *size < k.min || *size > k.max)
            return badValue(key, v,
                            QStringLiteral("is not a size from %1 to %2 (bytes, or with K, M or G: 64K, 16MiB)")
                                .arg(sizeText(k.min), sizeText(k.max)));
        config.*k.field = *size;
    }
    for (const CountKey &k : kCountKeys) {
        const QString key = QString::fromLatin1(k.key);
        const RawValue &v = raw[key];
        bool ok = false;
        const int n = v.value.trimmed().toInt(&ok);
        if (!ok || n < k.min || n > k.max)
            return badValue(key, v, QStringLiteral("is not a whole number from %1 to %2").arg(k.min).arg(k.max));
        config.*k.field = n;
    }
    const RawValue &connections = raw[QStringLiteral("max_connections")];
    bool ok = false;
    const int n = connections.value.trimmed().toInt(&ok);
    if (connections.value.trimmed() == u"auto")
        config.maxConnections = 0;
    else if (ok && n >= 1 && n <= kMaxCount)
        config.maxConnections = n;
    else
        return badValue(QStringLiteral("max_connections"), connections,
                        QStringLiteral("is not auto or a whole number from 1 to %1").arg(kMaxCount));
    return {};
}

QStringList listItems(const QString &value)
{
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    return value.split(separators, Qt::SkipEmptyParts);
}

// Exact origins as browsers serialise them in the Origin header (RFC 6454 §6.1): scheme and host
// in lower case, no default port, no path. `*` alone allows every origin.
Status parseCorsOrigins(const RawValue &raw, Config &config)
{
    const QString key = QStringLiteral("cors_origins");
    const QStringList items = listItems(raw.value);
    for (const QString &item : items) {
        if (item == u"*") {
            if (items.size() > 1)
                return badValue(key, raw, QStringLiteral("mixes * with origins; use * alone or list the origins"));
            config.corsOrigins = {item};
            return {};
        }
        const QUrl url(item, QUrl::StrictMode);
        const QString scheme = url.scheme().toLower();
        const bool shaped = url.isValid() && (scheme == u"http" || scheme == u"https") && !url.host().isEmpty()
            && url.userInfo().isEmpty() && url.path().isEmpty() && !url.hasQuery() && !url.hasFragment();
        if (!shaped)
            return badValue(key, raw,
                            QStringLiteral("contains \"%1\", which is not an origin like https://app.example.com "
                                           "or http://localhost:5173 (no path, not even /)")
                                .arg(item));
        const int defaultPort = scheme == u"https" ? 443 : 80;
        const QString host = url.host().contains(u':') ? u'[' + url.host() + u']' : url.host();
        QString origin = scheme + QStringLiteral("://") + host;
        if (url.port() != -1 && url.port() != defaultPort)
            origin += u':' + QString::number(url.port());
        if (!config.corsOrigins.contains(origin))
            config.corsOrigins.append(origin);
    }
    return {};
}

// Host names (a DNS name, "*." and a name, or an IP literal), without ports.
Status parseAllowedHosts(const RawValue &raw, Config &config)
{
    static const QRegularExpression name(
        QStringLiteral("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\\.?$"));
    for (const QString &item : listItems(raw.value)) {
        const QString host = item.toLower();
        const QString bare = host.startsWith(u'[') && host.endsWith(u']') ? host.mid(1, host.size() - 2) : host;
        QHostAddress address;
        if (!address.setAddress(bare) && (host.size() > 253 || !name.match(host).hasMatch()))
            return badValue(QStringLiteral("allowed_hosts"), raw,
                            QStringLiteral("contains \"%1\", which is not a host name, *.domain or IP address "
                                           "(without a port)")
                                .arg(item));
        if (!config.allowedHosts.contains(host))
            config.allowedHosts.append(host);
    }
    return {};
}

// What `outpostd config` shows for the keys of this group; a null string for the others.
QString inputLimitShown(const QString &key, const Config &config)
{
    if (key == u"max_connections")
        return config.maxConnections > 0 ? QString::number(config.maxConnections)
                                         : QStringLiteral("auto (%1)").arg(defaultMaxConnections());
    if (key == u"cors_origins")
        return config.corsOrigins.join(QStringLiteral(", "));
    if (key == u"allowed_hosts")
        return config.allowedHosts.join(QStringLiteral(", "));
    for (const SizeKey &k : kSizeKeys)
        if (key == QLatin1String(k.key))
            return sizeText(config.*k.field);
    return {};
}

} // namespace

int defaultMaxConnections()
{
    rlimit limit {};
    qint64 soft = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
        soft = limit.rlim_cur == RLIM_INFINITY ? qint64(kMaxCount) : qint64(limit.rlim_cur);
    // An eighth, and at least 64: SQLite files and thread wake-up descriptors, and connections
    // lingering after a 503 or 429, which still hold theirs.
    const qint64 reserve = qMax<qint64>(64, soft / 8);
    return int(qBound(qint64(16), soft - reserve, qint64(kMaxCount)));
}

QString configSourceName(ConfigSource source)
{
    switch (source) {
    case ConfigSource::Default:
        return QStringLiteral("default");
    case ConfigSource::File:
        return QStringLiteral("config file");
    case ConfigSource::Environment:
        return QStringLiteral("environment");
    case ConfigSource::Flag:
        return QStringLiteral("command line");
    }
    return {};
}

QString Config::listenAddressText() const
{
    const QString host = listenHost.protocol() == QAbstractSocket::IPv6Protocol
        ? QStringLiteral("[%1]").arg(listenHost.toString())
        : listenHost.toString();
    return QStringLiteral("%1:%2").arg(host).arg(listenPort);
}

QString Config::baseUrl() const
{
    return (tlsEnabled() ? QStringLiteral("https://") : QStringLiteral("http://")) + listenAddressText();
}

QStringList ConfigLoader::keys()
{
    QStringList out;
    for (const auto &spec : kKeys)
        out << QString::fromLatin1(spec.key);
    return out;
}

QStringList ConfigLoader::flags()
{
    QStringList out;
    for (const auto &spec : kKeys)
        out << QString::fromLatin1(spec.flag);
    return out;
}

QString ConfigLoader::defaultDataDir(const QProcessEnvironment &env)
{
    // XDG Base Directory Specification: $XDG_DATA_HOME, else ~/.local/share.
    QString base = env.value(QStringLiteral("XDG_DATA_HOME"));
    if (base.isEmpty() || !QDir::isAbsolutePath(base))
        base = env.value(QStringLiteral("HOME"), QDir::homePath()) + QStringLiteral("/.local/share");
    return QDir::cleanPath(base + QStringLiteral("/outpost"));
}

Result<Config> ConfigLoader::load(const QMap<QString, QString> &flags, const QProcessEnvironment &env)
{
    Config config;
    config.threads = qBound(1, QThread::idealThreadCount(), 64);

    QMap<QString, RawValue> raw;
    raw.insert(QStringLiteral("data_dir"), {defaultDataDir(env), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("listen"), {QStringLiteral("127.0.0.1:8090"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("threads"), {QString::number(config.threads), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("durability"), {QStringLiteral("full"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("allow_insecure_remote"), {QStringLiteral("false"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("tls_cert"), {QString(), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("tls_key"), {QString(), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("trusted_proxies"), {QString(), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("rate_limits"), {config.rateLimits.toString(), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("metrics"), {QStringLiteral("true"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("metrics_open_on_loopback"), {QStringLiteral("false"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("audit_retention_days"),
               {QString::number(config.auditRetentionDays), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("request_log"), {QStringLiteral("true"), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("request_log_retention_days"),
               {QString::number(config.requestLogRetentionDays), ConfigSource::Default, {}});
    raw.insert(QStringLiteral("request_log_max_mb"),
               {QString::number(config.requestLogMaxMb), ConfigSource::Default, {}});
    insertInputLimitDefaults(raw, config);

    // The config file itself is chosen by flag or environment, never by the file.
    QString configPath = flags.value(QStringLiteral("config"), env.value(QStringLiteral("OUTPOST_CONFIG")));
    if (flags.contains(QStringLiteral("config")) && configPath.isEmpty())
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("config: --config needs a file name"));
    if (!configPath.isEmpty()) {
        auto fileValues = readFile(configPath);
        if (!fileValues)
            return fileValues.error();
        for (auto it = fileValues->cbegin(); it != fileValues->cend(); ++it)
            raw.insert(it.key(), it.value());
        config.configFile = QFileInfo(configPath).absoluteFilePath();
    }
    for (const auto &spec : kKeys) {
        const QString envName = QString::fromLatin1(spec.env);
        if (env.contains(envName))
            raw.insert(QString::fromLatin1(spec.key), {env.value(envName), ConfigSource::Environment, envName});
    }
    for (const auto &spec : kKeys) {
        const QString flag = QString::fromLatin1(spec.flag);
        if (flags.contains(flag))
            raw.insert(QString::fromLatin1(spec.key),
                       {flags.value(flag), ConfigSource::Flag, QStringLiteral("--") + flag});
    }

    const RawValue &dataDir = raw[QStringLiteral("data_dir")];
    if (dataDir.value.trimmed().isEmpty())
        return badValue(QStringLiteral("data_dir"), dataDir, QStringLiteral("is empty"));
    config.dataDir = QDir::cleanPath(QDir(QDir::currentPath()).absoluteFilePath(dataDir.value));

    if (auto s = parseListen(raw[QStringLiteral("listen")], config); !s)
        return s.error();

    const RawValue &threads = raw[QStringLiteral("threads")];
    bool ok = false;
    config.threads = threads.value.toInt(&ok);
    if (!ok || config.threads < 1 || config.threads > 64)
        return badValue(QStringLiteral("threads"), threads, QStringLiteral("is not a whole number from 1 to 64"));

    const RawValue &retention = raw[QStringLiteral("audit_retention_days")];
    config.auditRetentionDays = retention.value.trimmed().toInt(&ok);
    if (!ok || config.auditRetentionDays < 0 || config.auditRetentionDays > kMaxRetentionDays)
        return badValue(
            QStringLiteral("audit_retention_days"), retention,
            QStringLiteral("is not a whole number of days from 0 (keep forever) to %1").arg(kMaxRetentionDays));
    if (auto s = parseRequestLog(raw, config); !s)
        return s.error();

    const RawValue &durability = raw[QStringLiteral("durability")];
    if (durability.value == u"full")
        config.durability = Durability::Full;
    else if (durability.value == u"normal")
        config.durability = Durability::Normal;
    else
        return badValue(QStringLiteral("durability"), durability, QStringLiteral("is not one of: full, normal"));

    auto insecure = parseBool(QStringLiteral("allow_insecure_remote"), raw[QStringLiteral("allow_insecure_remote")]);
    if (!insecure)
        return insecure.error();
    config.allowInsecureRemote = *insecure;

    for (const char *key : {"tls_cert", "tls_key"}) {
        const RawValue &file = raw[QString::fromLatin1(key)];
        if (!file.value.isEmpty() && !QFileInfo(file.value).isReadable())
            return badValue(QString::fromLatin1(key), file, QStringLiteral("is not a readable file"));
    }
    config.tlsCertFile = raw[QStringLiteral("tls_cert")].value;
    config.tlsKeyFile = raw[QStringLiteral("tls_key")].value;
    if (config.tlsCertFile.isEmpty() != config.tlsKeyFile.isEmpty()) {
        const QString set = config.tlsCertFile.isEmpty() ? QStringLiteral("tls_key") : QStringLiteral("tls_cert");
        const QString missing = config.tlsCertFile.isEmpty() ? QStringLiteral("tls_cert") : QStringLiteral("tls_key");
        return badValue(set, raw[set], QStringLiteral("is set but %1 is not; set both or neither").arg(missing));
    }

    if (!config.listenHost.isLoopback() && !config.tlsEnabled() && !config.allowInsecureRemote)
        return badValue(QStringLiteral("listen"), raw[QStringLiteral("listen")],
                        QStringLiteral("is not a loopback address: serving it in plain HTTP needs "
                                       "--allow-insecure-remote, or set tls_cert and tls_key"));

    if (auto s = parseTrustedProxies(raw[QStringLiteral("trusted_proxies")], config); !s)
        return s.error();

    if (auto s = parseInputLimits(raw, config); !s)
        return s.error();
    if (auto s = parseCorsOrigins(raw[QStringLiteral("cors_origins")], config); !s)
        return s.error();
    if (auto s = parseAllowedHosts(raw[QStringLiteral("allowed_hosts")], config); !s)
        return s.error();

    const RawValue &rateLimits = raw[QStringLiteral("rate_limits")];
    auto rules = RateRules::parse(rateLimits.value);
    if (!rules)
        return badValue(QStringLiteral("rate_limits"), rateLimits, rules.error().message);
    config.rateLimits = *rules;

    auto metricsOpen
        = parseBool(QStringLiteral("metrics_open_on_loopback"), raw[QStringLiteral("metrics_open_on_loopback")]);
    if (!metricsOpen)
        return metricsOpen.error();
    config.metricsOpenOnLoopback = *metricsOpen;
    auto metrics = parseBool(QStringLiteral("metrics"), raw[QStringLiteral("metrics")]);
    if (!metrics)
        return metrics.error();
    config.metrics = *metrics;

    for (const auto &spec : kKeys) {
        const QString key = QString::fromLatin1(spec.key);
        const RawValue &v = raw[key];
        QString shown = v.value;
        if (key == u"data_dir")
            shown = config.dataDir;
        else if (key == u"trusted_proxies")
            shown = trustedProxiesText(config);
        else if (key == u"rate_limits")
            shown = config.rateLimits.toString();
        else if (const QString limit = inputLimitShown(key, config); !limit.isNull())
            shown = limit;
        config.entries.append({key, shown, v.source, v.origin});
    }
    return config;
}

Result<ParsedArgs> parseArgs(const QStringList &args, const QStringList &valueOptions, const QStringList &switches)
{
    ParsedArgs out;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args[i];
        if (arg == u"--") {
            out.positional += args.mid(i + 1);
            break;
        }
        if (!arg.startsWith(QStringLiteral("--")) || arg.size() == 2) {
            out.positional << arg;
            continue;
        }
        QString name = arg.mid(2);
        QString value;
        bool hasValue = false;
        if (const qsizetype eq = name.indexOf(u'='); eq >= 0) {
            value = name.mid(eq + 1);
            name = name.left(eq);
            hasValue = true;
        }
        if (switches.contains(name)) {
            out.options.insert(name, hasValue ? value : QString());
        } else if (valueOptions.contains(name)) {
            if (!hasValue) {
                if (i + 1 >= args.size())
                    return makeError(ErrorCode::InvalidArgument, QStringLiteral("option --%1 needs a value").arg(name));
                value = args[++i];
            }
            out.options.insert(name, value);
        } else {
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown option --%1").arg(name));
        }
    }
    return out;
}

} // namespace Outpost
