#include "config.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QThread>

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
};

constexpr int kMaxRetentionDays = 36500;

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

} // namespace

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
    raw.insert(QStringLiteral("audit_retention_days"),
               {QString::number(config.auditRetentionDays), ConfigSource::Default, {}});

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

    for (const auto &spec : kKeys) {
        const QString key = QString::fromLatin1(spec.key);
        const RawValue &v = raw[key];
        QString shown = v.value;
        if (key == u"data_dir")
            shown = config.dataDir;
        else if (key == u"trusted_proxies")
            shown = trustedProxiesText(config);
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
