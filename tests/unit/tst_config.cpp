#include <QDir>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <memory>

#include <sys/resource.h>
#include <unistd.h>

#include "core/config.h"

using namespace Outpost;

Q_DECLARE_METATYPE(Outpost::ConfigSource)

namespace {

enum Source { FromFile, FromEnvironment, FromFlag };

struct KeyNames
{
    const char *key;
    const char *flag;
    const char *env;
};

// Spelled out here rather than taken from ConfigLoader: the names are a public interface.
constexpr KeyNames kNames[] = {
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

const KeyNames &namesOf(const QString &key)
{
    for (const auto &names : kNames)
        if (key == QLatin1String(names.key))
            return names;
    qFatal("unknown key %s", qPrintable(key));
}

// A size as `outpostd config` shows it: in the largest binary unit that divides it.
QString sizeText(qint64 bytes)
{
    const char *units[] = {"GiB", "MiB", "KiB"};
    qint64 unit = 1024 * 1024 * 1024;
    for (const char *name : units) {
        if (bytes % unit == 0)
            return QString::number(bytes / unit) + QLatin1String(name);
        unit /= 1024;
    }
    return QString::number(bytes);
}

// The effective value of `key` in `config`, as text.
QString fieldText(const Config &config, const QString &key)
{
    if (key == u"data_dir")
        return config.dataDir;
    if (key == u"listen")
        return config.listenAddressText();
    if (key == u"threads")
        return QString::number(config.threads);
    if (key == u"durability")
        return config.durability == Durability::Full ? QStringLiteral("full") : QStringLiteral("normal");
    if (key == u"allow_insecure_remote")
        return config.allowInsecureRemote ? QStringLiteral("true") : QStringLiteral("false");
    if (key == u"tls_cert")
        return config.tlsCertFile;
    if (key == u"tls_key")
        return config.tlsKeyFile;
    if (key == u"audit_retention_days")
        return QString::number(config.auditRetentionDays);
    if (key == u"trusted_proxies") {
        QStringList ranges;
        for (const auto &[address, length] : config.trustedProxies)
            ranges << address.toString() + u'/' + QString::number(length);
        return ranges.join(QStringLiteral(", "));
    }
    if (key == u"request_log")
        return config.requestLog ? QStringLiteral("true") : QStringLiteral("false");
    if (key == u"request_log_retention_days")
        return QString::number(config.requestLogRetentionDays);
    if (key == u"request_log_max_mb")
        return QString::number(config.requestLogMaxMb);
    if (key == u"rate_limits")
        return config.rateLimits.toString();
    if (key == u"metrics")
        return config.metrics ? QStringLiteral("true") : QStringLiteral("false");
    if (key == u"metrics_open_on_loopback")
        return config.metricsOpenOnLoopback ? QStringLiteral("true") : QStringLiteral("false");
    if (key == u"max_body_bytes")
        return sizeText(config.maxBodyBytes);
    if (key == u"max_import_bytes")
        return sizeText(config.maxImportBytes);
    if (key == u"max_auth_body_bytes")
        return sizeText(config.maxAuthBodyBytes);
    if (key == u"header_timeout_ms")
        return QString::number(config.headerTimeoutMs);
    if (key == u"body_timeout_ms")
        return QString::number(config.bodyTimeoutMs);
    if (key == u"max_connections")
        return QString::number(config.maxConnections);
    if (key == u"max_connections_per_client")
        return QString::number(config.maxConnectionsPerClient);
    if (key == u"max_inflight_per_client")
        return QString::number(config.maxInflightPerClient);
    if (key == u"cors_origins")
        return config.corsOrigins.join(QStringLiteral(", "));
    if (key == u"allowed_hosts")
        return config.allowedHosts.join(QStringLiteral(", "));
    return {};
}

const Config::Entry *entryOf(const Config &config, const QString &key)
{
    for (const auto &entry : config.entries)
        if (entry.key == key)
            return &entry;
    return nullptr;
}

QPair<QString, QString> splitPair(const QString &text)
{
    const qsizetype eq = text.indexOf(u'=');
    return {text.left(eq), text.mid(eq + 1)};
}

int defaultThreads()
{
    return qBound(1, QThread::idealThreadCount(), 64);
}

} // namespace

class TestConfig : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void defaults();
    void keysAreTheDocumentedOnes();
    void defaultDataDir_data();
    void defaultDataDir();
    void keyFromEachSource_data();
    void keyFromEachSource();
    void precedence_data();
    void precedence();
    void overriddenValuesAreNotValidated();
    void configFileSyntax();
    void configFileChosenByFlagOverEnvironment();
    void listenForms_data();
    void listenForms();
    void booleans_data();
    void booleans();
    void relativeDataDirIsMadeAbsolute();
    void auditRetentionZeroKeepsForever();
    void sizes_data();
    void sizes();
    void maxConnectionsDefaultLeavesDescriptorsSpare();
    void errors_data();
    void errors();
    void unreadableTlsFile();
    void remoteListen_data();
    void remoteListen();
    void parseArgs_data();
    void parseArgs();

private:
    QString expand(QString text) const;
    QString writeConfig(const QStringList &lines, const QString &name = QStringLiteral("outpost.conf")) const;
    QProcessEnvironment baseEnvironment() const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestConfig::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    for (const char *name : {"cert.pem", "key.pem"}) {
        QFile file(m_dir->filePath(QString::fromLatin1(name)));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("-----BEGIN TEST-----\n");
    }
}

void TestConfig::cleanup()
{
    m_dir.reset();
}

QString TestConfig::expand(QString text) const
{
    return text.replace(QStringLiteral("@DIR@"), m_dir->path());
}

QString TestConfig::writeConfig(const QStringList &lines, const QString &name) const
{
    const QString path = m_dir->filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    for (const QString &line : lines)
        file.write(expand(line).toUtf8() + '\n');
    return path;
}

// Never the real environment: a developer's OUTPOST_* variables must not change the results.
QProcessEnvironment TestConfig::baseEnvironment() const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOME"), m_dir->filePath(QStringLiteral("home")));
    return env;
}

void TestConfig::defaults()
{
    auto config = ConfigLoader::load({}, baseEnvironment());
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->dataDir, m_dir->filePath(QStringLiteral("home/.local/share/outpost")));
    QCOMPARE(config->listenHost, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(config->listenPort, quint16(8090));
    QCOMPARE(config->threads, defaultThreads());
    QCOMPARE(config->durability, Durability::Full);
    QCOMPARE(config->allowInsecureRemote, false);
    QVERIFY(config->tlsCertFile.isEmpty());
    QVERIFY(config->tlsKeyFile.isEmpty());
    QCOMPARE(config->auditRetentionDays, 90);
    QVERIFY(config->trustedProxies.isEmpty());
    QCOMPARE(config->requestLog, true);
    QCOMPARE(config->requestLogRetentionDays, 7);
    QCOMPARE(config->requestLogMaxMb, 256);
    QVERIFY(config->rateLimits == RateRules::defaults());
    QCOMPARE(config->metrics, true);
    QCOMPARE(config->metricsOpenOnLoopback, false);
    QCOMPARE(config->maxBodyBytes, 16 * 1024 * 1024);
    QCOMPARE(config->maxImportBytes, 64 * 1024 * 1024);
    QCOMPARE(config->maxAuthBodyBytes, 64 * 1024);
    QCOMPARE(config->headerTimeoutMs, 10'000);
    QCOMPARE(config->bodyTimeoutMs, 30'000);
    QCOMPARE(config->maxConnections, 0); // derived when the server starts
    QCOMPARE(config->maxConnectionsPerClient, 256);
    QCOMPARE(config->maxInflightPerClient, 64);
    QVERIFY(config->corsOrigins.isEmpty());
    QVERIFY(config->allowedHosts.isEmpty());
    QVERIFY(config->configFile.isEmpty());
    QVERIFY(!config->tlsEnabled());
    QCOMPARE(config->baseUrl(), QStringLiteral("http://127.0.0.1:8090"));

    QCOMPARE(config->entries.size(), qsizetype(std::size(kNames)));
    const QStringList expectedValues {
        config->dataDir, QStringLiteral("127.0.0.1:8090"), QString::number(defaultThreads()), QStringLiteral("full"),
        QStringLiteral("false"), QString(), QString(), QStringLiteral("90"), QString(),
        // the request log
        QStringLiteral("true"), QStringLiteral("7"), QStringLiteral("256"),
        // rate limits and metrics
        RateRules::defaults().toString(), QStringLiteral("true"), QStringLiteral("false"),
        // the input limits
        QStringLiteral("16MiB"), QStringLiteral("64MiB"), QStringLiteral("64KiB"), QStringLiteral("10000"),
        QStringLiteral("30000"), QStringLiteral("auto (%1)").arg(defaultMaxConnections()), QStringLiteral("256"),
        QStringLiteral("64"), QString(), QString()};
    for (qsizetype i = 0; i < config->entries.size(); ++i) {
        const auto &entry = config->entries.at(i);
        QCOMPARE(entry.key, QString::fromLatin1(kNames[i].key)); // stable order
        QCOMPARE(entry.value, expectedValues.at(i));
        QCOMPARE(entry.source, ConfigSource::Default);
        QVERIFY(entry.origin.isEmpty());
    }
}

void TestConfig::keysAreTheDocumentedOnes()
{
    QStringList expected;
    for (const auto &names : kNames)
        expected << QString::fromLatin1(names.key);
    QCOMPARE(ConfigLoader::keys(), expected);
    QCOMPARE(configSourceName(ConfigSource::Default), QStringLiteral("default"));
    QCOMPARE(configSourceName(ConfigSource::File), QStringLiteral("config file"));
    QCOMPARE(configSourceName(ConfigSource::Environment), QStringLiteral("environment"));
    QCOMPARE(configSourceName(ConfigSource::Flag), QStringLiteral("command line"));
}

void TestConfig::defaultDataDir_data()
{
    QTest::addColumn<QString>("xdgDataHome"); // "-" for unset
    QTest::addColumn<QString>("home"); // "-" for unset
    QTest::addColumn<QString>("expected");

    QTest::newRow("XDG_DATA_HOME") << QStringLiteral("/xdg/data") << QStringLiteral("/home/u")
                                   << QStringLiteral("/xdg/data/outpost");
    QTest::newRow("XDG_DATA_HOME trailing slash")
        << QStringLiteral("/xdg/data/") << QStringLiteral("/home/u") << QStringLiteral("/xdg/data/outpost");
    QTest::newRow("XDG_DATA_HOME unset") << QStringLiteral("-") << QStringLiteral("/home/u")
                                         << QStringLiteral("/home/u/.local/share/outpost");
    QTest::newRow("XDG_DATA_HOME empty") << QString() << QStringLiteral("/home/u")
                                         << QStringLiteral("/home/u/.local/share/outpost");
    // The XDG spec: a relative path in $XDG_DATA_HOME is invalid and must be ignored.
    QTest::newRow("XDG_DATA_HOME relative")
        << QStringLiteral("rel/data") << QStringLiteral("/home/u") << QStringLiteral("/home/u/.local/share/outpost");
    QTest::newRow("HOME unset") << QStringLiteral("-") << QStringLiteral("-")
                                << QDir::cleanPath(QDir::homePath() + QStringLiteral("/.local/share/outpost"));
}

void TestConfig::defaultDataDir()
{
    QFETCH(QString, xdgDataHome);
    QFETCH(QString, home);
    QFETCH(QString, expected);

    QProcessEnvironment env;
    if (xdgDataHome != u"-")
        env.insert(QStringLiteral("XDG_DATA_HOME"), xdgDataHome);
    if (home != u"-")
        env.insert(QStringLiteral("HOME"), home);
    QCOMPARE(ConfigLoader::defaultDataDir(env), expected);

    auto config = ConfigLoader::load({}, env);
    QVERIFY(config.ok());
    QCOMPARE(config->dataDir, expected);
}

void TestConfig::keyFromEachSource_data()
{
    QTest::addColumn<int>("source");
    QTest::addColumn<QStringList>("settings"); // "key=value"; the first is the key under test
    QTest::addColumn<QString>("expectedValue"); // of the Config field, and of the entry

    struct Spec
    {
        QStringList settings;
        QString expected;
    };
    const Spec specs[] = {
        {{QStringLiteral("data_dir=@DIR@/data")}, QStringLiteral("@DIR@/data")},
        {{QStringLiteral("listen=[::1]:9001")}, QStringLiteral("[::1]:9001")},
        {{QStringLiteral("threads=7")}, QStringLiteral("7")},
        {{QStringLiteral("durability=normal")}, QStringLiteral("normal")},
        {{QStringLiteral("allow_insecure_remote=true")}, QStringLiteral("true")},
        // tls_cert and tls_key are only valid together; the companion comes from the same source.
        {{QStringLiteral("tls_cert=@DIR@/cert.pem"), QStringLiteral("tls_key=@DIR@/key.pem")},
         QStringLiteral("@DIR@/cert.pem")},
        {{QStringLiteral("tls_key=@DIR@/key.pem"), QStringLiteral("tls_cert=@DIR@/cert.pem")},
         QStringLiteral("@DIR@/key.pem")},
        {{QStringLiteral("audit_retention_days=365")}, QStringLiteral("365")},
        // Commas and spaces separate; a bare address is its own /32 or /128.
        {{QStringLiteral("trusted_proxies=10.0.0.0/8, 127.0.0.1 ::1,fd00::/8")},
         QStringLiteral("10.0.0.0/8, 127.0.0.1/32, ::1/128, fd00::/8")},
        {{QStringLiteral("request_log=false")}, QStringLiteral("false")},
        {{QStringLiteral("request_log_retention_days=0")}, QStringLiteral("0")},
        {{QStringLiteral("request_log_max_mb=1024")}, QStringLiteral("1024")},
        // Shown in the canonical form: every group, windows in seconds.
        {{QStringLiteral("rate_limits=auth:5/1m read:100/10s")},
         QStringLiteral("auth:5/60s, read:100/10s, write:off, admin:off")},
        {{QStringLiteral("metrics_open_on_loopback=true")}, QStringLiteral("true")},
        {{QStringLiteral("metrics=false")}, QStringLiteral("false")},
        // Sizes in bytes or binary units, shown in the largest unit that fits.
        {{QStringLiteral("max_body_bytes=2097152")}, QStringLiteral("2MiB")},
        {{QStringLiteral("max_import_bytes=512m")}, QStringLiteral("512MiB")},
        {{QStringLiteral("max_auth_body_bytes=1500")}, QStringLiteral("1500")},
        {{QStringLiteral("header_timeout_ms=2500")}, QStringLiteral("2500")},
        {{QStringLiteral("body_timeout_ms=60000")}, QStringLiteral("60000")},
        {{QStringLiteral("max_connections=5000")}, QStringLiteral("5000")},
        {{QStringLiteral("max_connections_per_client=32")}, QStringLiteral("32")},
        {{QStringLiteral("max_inflight_per_client=8")}, QStringLiteral("8")},
        // Origins as browsers send them: lower case, no default port; duplicates dropped.
        {{QStringLiteral("cors_origins=HTTPS://App.Example.com:443, http://localhost:5173 https://app.example.com")},
         QStringLiteral("https://app.example.com, http://localhost:5173")},
        {{QStringLiteral("allowed_hosts=API.example.com,*.corp.example 10.0.0.5 [fd00::1]")},
         QStringLiteral("api.example.com, *.corp.example, 10.0.0.5, [fd00::1]")},
    };
    const char *sourceNames[] = {"file", "env", "flag"};
    for (int source : {FromFile, FromEnvironment, FromFlag}) {
        for (const Spec &spec : specs) {
            const QString key = splitPair(spec.settings.first()).first;
            QTest::addRow("%s from %s", qPrintable(key), sourceNames[source])
                << source << spec.settings << spec.expected;
        }
    }
}

void TestConfig::keyFromEachSource()
{
    QFETCH(int, source);
    QFETCH(QStringList, settings);
    QFETCH(QString, expectedValue);
    expectedValue = expand(expectedValue);
    const QString key = splitPair(settings.first()).first;

    QProcessEnvironment env = baseEnvironment();
    QMap<QString, QString> flags;
    QString expectedOrigin;
    QString configPath;
    QStringList setKeys;
    QStringList fileLines {QStringLiteral("# written by tst_config"), QString()};
    for (const QString &setting : std::as_const(settings)) {
        const auto [k, v] = splitPair(setting);
        setKeys << k;
        const KeyNames &names = namesOf(k);
        switch (source) {
        case FromFile:
            fileLines << QStringLiteral("%1 = %2").arg(k, v);
            break;
        case FromEnvironment:
            env.insert(QString::fromLatin1(names.env), expand(v));
            break;
        case FromFlag:
            flags.insert(QString::fromLatin1(names.flag), expand(v));
            break;
        }
    }
    switch (source) {
    case FromFile:
        configPath = writeConfig(fileLines);
        QVERIFY(!configPath.isEmpty());
        env.insert(QStringLiteral("OUTPOST_CONFIG"), configPath);
        expectedOrigin = configPath + QStringLiteral(":3"); // after a comment and an empty line
        break;
    case FromEnvironment:
        expectedOrigin = QString::fromLatin1(namesOf(key).env);
        break;
    case FromFlag:
        expectedOrigin = QStringLiteral("--") + QString::fromLatin1(namesOf(key).flag);
        break;
    }

    auto config = ConfigLoader::load(flags, env);
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(fieldText(*config, key), expectedValue);
    QCOMPARE(config->configFile, configPath);

    const ConfigSource expectedSource = source == FromFile ? ConfigSource::File
        : source == FromEnvironment                        ? ConfigSource::Environment
                                                           : ConfigSource::Flag;
    const Config::Entry *entry = entryOf(*config, key);
    QVERIFY(entry);
    QCOMPARE(entry->value, expectedValue);
    QCOMPARE(entry->source, expectedSource);
    QCOMPARE(entry->origin, expectedOrigin);

    // Everything not set keeps its default.
    for (const auto &other : std::as_const(config->entries)) {
        if (setKeys.contains(other.key))
            continue;
        QCOMPARE(other.source, ConfigSource::Default);
        QVERIFY(other.origin.isEmpty());
    }
}

void TestConfig::precedence_data()
{
    QTest::addColumn<bool>("inFile");
    QTest::addColumn<bool>("inEnvironment");
    QTest::addColumn<bool>("inFlags");
    QTest::addColumn<int>("expectedThreads"); // 0: the default
    QTest::addColumn<ConfigSource>("expectedSource");
    QTest::addColumn<QString>("expectedOrigin"); // @FILE@ is the config file

    QTest::newRow("default only") << false << false << false << 0 << ConfigSource::Default << QString();
    QTest::newRow("file") << true << false << false << 3 << ConfigSource::File << QStringLiteral("@FILE@:2");
    QTest::newRow("env") << false << true << false << 5 << ConfigSource::Environment
                         << QStringLiteral("OUTPOST_THREADS");
    QTest::newRow("flag") << false << false << true << 9 << ConfigSource::Flag << QStringLiteral("--threads");
    QTest::newRow("env over file") << true << true << false << 5 << ConfigSource::Environment
                                   << QStringLiteral("OUTPOST_THREADS");
    QTest::newRow("flag over file") << true << false << true << 9 << ConfigSource::Flag << QStringLiteral("--threads");
    QTest::newRow("flag over env") << false << true << true << 9 << ConfigSource::Flag << QStringLiteral("--threads");
    QTest::newRow("flag over env over file")
        << true << true << true << 9 << ConfigSource::Flag << QStringLiteral("--threads");
}

void TestConfig::precedence()
{
    QFETCH(bool, inFile);
    QFETCH(bool, inEnvironment);
    QFETCH(bool, inFlags);
    QFETCH(int, expectedThreads);
    QFETCH(ConfigSource, expectedSource);
    QFETCH(QString, expectedOrigin);

    QStringList lines {QStringLiteral("durability = full")};
    if (inFile)
        lines << QStringLiteral("threads = 3");
    const QString path = writeConfig(lines);
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_CONFIG"), path);
    if (inEnvironment)
        env.insert(QStringLiteral("OUTPOST_THREADS"), QStringLiteral("5"));
    QMap<QString, QString> flags;
    if (inFlags)
        flags.insert(QStringLiteral("threads"), QStringLiteral("9"));

    auto config = ConfigLoader::load(flags, env);
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->threads, expectedThreads ? expectedThreads : defaultThreads());
    const Config::Entry *entry = entryOf(*config, QStringLiteral("threads"));
    QVERIFY(entry);
    QCOMPARE(entry->value, QString::number(config->threads));
    QCOMPARE(entry->source, expectedSource);
    QCOMPARE(entry->origin, expectedOrigin.replace(QStringLiteral("@FILE@"), path));
    const Config::Entry *durability = entryOf(*config, QStringLiteral("durability"));
    QVERIFY(durability);
    QCOMPARE(durability->source, ConfigSource::File);
    QCOMPARE(durability->origin, path + QStringLiteral(":1"));
}

void TestConfig::overriddenValuesAreNotValidated()
{
    // A bad value in a lower source does not matter when a higher source replaces it.
    const QString path = writeConfig({QStringLiteral("threads = many")});
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_CONFIG"), path);
    env.insert(QStringLiteral("OUTPOST_LISTEN"), QStringLiteral("nowhere"));
    const QMap<QString, QString> flags {{QStringLiteral("threads"), QStringLiteral("4")},
                                        {QStringLiteral("listen"), QStringLiteral("127.0.0.1:1234")}};
    auto config = ConfigLoader::load(flags, env);
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->threads, 4);
    QCOMPARE(config->listenPort, quint16(1234));
}

void TestConfig::configFileSyntax()
{
    const QString path = writeConfig({
        QStringLiteral("# Outpost configuration"), QStringLiteral("   # an indented comment"), QString(),
        QStringLiteral("   "), QStringLiteral("listen=127.0.0.1:7000"), QStringLiteral("  threads   =   3  "),
        QStringLiteral("data_dir = \"@DIR@/quoted dir\""), QStringLiteral("durability = normal"),
        QStringLiteral("durability = full"), // the last one wins
    });
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_CONFIG"), path);
    auto config = ConfigLoader::load({}, env);
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->listenPort, quint16(7000));
    QCOMPARE(config->threads, 3);
    QCOMPARE(config->dataDir, m_dir->filePath(QStringLiteral("quoted dir")));
    QCOMPARE(config->durability, Durability::Full);
    const Config::Entry *threads = entryOf(*config, QStringLiteral("threads"));
    QVERIFY(threads);
    QCOMPARE(threads->value, QStringLiteral("3"));
    QCOMPARE(threads->origin, path + QStringLiteral(":6"));
    const Config::Entry *durability = entryOf(*config, QStringLiteral("durability"));
    QVERIFY(durability);
    QCOMPARE(durability->origin, path + QStringLiteral(":9"));
}

void TestConfig::configFileChosenByFlagOverEnvironment()
{
    const QString fromEnv = writeConfig({QStringLiteral("threads = 3")}, QStringLiteral("env.conf"));
    const QString fromFlag = writeConfig({QStringLiteral("threads = 6")}, QStringLiteral("flag.conf"));
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_CONFIG"), fromEnv);

    auto viaEnv = ConfigLoader::load({}, env);
    QVERIFY(viaEnv.ok());
    QCOMPARE(viaEnv->threads, 3);
    QCOMPARE(viaEnv->configFile, fromEnv);

    auto viaFlag = ConfigLoader::load({{QStringLiteral("config"), fromFlag}}, env);
    QVERIFY(viaFlag.ok());
    QCOMPARE(viaFlag->threads, 6);
    QCOMPARE(viaFlag->configFile, fromFlag);

    // An empty OUTPOST_CONFIG means "no file"; an empty --config is a mistake.
    env.insert(QStringLiteral("OUTPOST_CONFIG"), QString());
    auto none = ConfigLoader::load({}, env);
    QVERIFY(none.ok());
    QVERIFY(none->configFile.isEmpty());
}

void TestConfig::listenForms_data()
{
    QTest::addColumn<QString>("listen");
    QTest::addColumn<QString>("expected");

    QTest::newRow("IPv4") << QStringLiteral("127.0.0.1:8090") << QStringLiteral("127.0.0.1:8090");
    QTest::newRow("other loopback") << QStringLiteral("127.1.2.3:80") << QStringLiteral("127.1.2.3:80");
    QTest::newRow("localhost") << QStringLiteral("localhost:1234") << QStringLiteral("127.0.0.1:1234");
    QTest::newRow("port only") << QStringLiteral(":8091") << QStringLiteral("127.0.0.1:8091");
    QTest::newRow("IPv6 in brackets") << QStringLiteral("[::1]:80") << QStringLiteral("[::1]:80");
    QTest::newRow("port 0") << QStringLiteral("127.0.0.1:0") << QStringLiteral("127.0.0.1:0");
    QTest::newRow("port 65535") << QStringLiteral("127.0.0.1:65535") << QStringLiteral("127.0.0.1:65535");
    QTest::newRow("surrounding spaces") << QStringLiteral("  127.0.0.1:81 ") << QStringLiteral("127.0.0.1:81");
}

void TestConfig::listenForms()
{
    QFETCH(QString, listen);
    QFETCH(QString, expected);
    auto config = ConfigLoader::load({{QStringLiteral("listen"), listen}}, baseEnvironment());
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->listenAddressText(), expected);
    QCOMPARE(config->baseUrl(), QStringLiteral("http://") + expected);
}

void TestConfig::booleans_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("expected");

    QTest::newRow("bare switch") << QString() << true;
    for (const char *v : {"true", "TRUE", "1", "yes", "on"})
        QTest::newRow(v) << QString::fromLatin1(v) << true;
    for (const char *v : {"false", "False", "0", "no", "off"})
        QTest::newRow(v) << QString::fromLatin1(v) << false;
}

void TestConfig::booleans()
{
    QFETCH(QString, value);
    QFETCH(bool, expected);
    auto config = ConfigLoader::load({{QStringLiteral("allow-insecure-remote"), value}}, baseEnvironment());
    QVERIFY(config.ok());
    QCOMPARE(config->allowInsecureRemote, expected);
}

void TestConfig::relativeDataDirIsMadeAbsolute()
{
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_DATA_DIR"), QStringLiteral("some/./rel/../data"));
    auto config = ConfigLoader::load({}, env);
    QVERIFY(config.ok());
    const QString expected = QDir::cleanPath(QDir::currentPath() + QStringLiteral("/some/data"));
    QCOMPARE(config->dataDir, expected);
    const Config::Entry *entry = entryOf(*config, QStringLiteral("data_dir"));
    QVERIFY(entry);
    QCOMPARE(entry->value, expected);
    QCOMPARE(entry->source, ConfigSource::Environment);
}

void TestConfig::auditRetentionZeroKeepsForever()
{
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_AUDIT_RETENTION_DAYS"), QStringLiteral(" 0 "));
    auto config = ConfigLoader::load({}, env);
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->auditRetentionDays, 0);
}

void TestConfig::sizes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("bytes"); // -1: refused
    QTest::newRow("bytes") << QStringLiteral("65536") << qint64(65536);
    QTest::newRow("spaces") << QStringLiteral("  2048 ") << qint64(2048);
    QTest::newRow("K") << QStringLiteral("64K") << qint64(64 * 1024);
    QTest::newRow("KiB") << QStringLiteral("64KiB") << qint64(64 * 1024);
    QTest::newRow("lower case") << QStringLiteral("16mib") << qint64(16 * 1024 * 1024);
    QTest::newRow("space before unit") << QStringLiteral("16 MiB") << qint64(16 * 1024 * 1024);
    QTest::newRow("G") << QStringLiteral("1G") << qint64(1024 * 1024 * 1024);
    QTest::newRow("MB is ambiguous") << QStringLiteral("16MB") << qint64(-1);
    QTest::newRow("fraction") << QStringLiteral("1.5M") << qint64(-1);
    QTest::newRow("negative") << QStringLiteral("-1024") << qint64(-1);
    QTest::newRow("T") << QStringLiteral("1T") << qint64(-1);
    QTest::newRow("empty") << QString() << qint64(-1);
    QTest::newRow("over the maximum") << QStringLiteral("2G") << qint64(-1);
}

void TestConfig::sizes()
{
    QFETCH(QString, text);
    QFETCH(qint64, bytes);
    QProcessEnvironment env = baseEnvironment();
    env.insert(QStringLiteral("OUTPOST_MAX_BODY_BYTES"), text);
    auto config = ConfigLoader::load({}, env);
    QCOMPARE(config.ok(), bytes >= 0);
    if (bytes >= 0)
        QCOMPARE(config->maxBodyBytes, bytes);
    else
        QVERIFY2(
            config.error().message.startsWith(QStringLiteral("config: max_body_bytes (from OUTPOST_MAX_BODY_BYTES)")),
            qPrintable(config.error().message));
}

void TestConfig::maxConnectionsDefaultLeavesDescriptorsSpare()
{
    rlimit limit {};
    QCOMPARE(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    const int derived = defaultMaxConnections();
    QVERIFY(derived >= 16);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur > 128) {
        QVERIFY(qint64(derived) <= qint64(limit.rlim_cur) - 64);
        QVERIFY(qint64(derived) >= qint64(limit.rlim_cur) / 2);
    }
    // "auto" is the default, said explicitly.
    QMap<QString, QString> flags {{QStringLiteral("max-connections"), QStringLiteral("auto")}};
    auto config = ConfigLoader::load(flags, baseEnvironment());
    QVERIFY(config.ok());
    QCOMPARE(config->maxConnections, 0);
    QCOMPARE(entryOf(*config, QStringLiteral("max_connections"))->value, QStringLiteral("auto (%1)").arg(derived));
}

void TestConfig::errors_data()
{
    QTest::addColumn<QStringList>("fileLines"); // empty: no config file
    QTest::addColumn<QStringList>("environment"); // NAME=value
    QTest::addColumn<QStringList>("flags"); // name=value
    QTest::addColumn<QStringList>("expected"); // fragments of the message; @FILE@ is the config file

    const QStringList none;
    QTest::newRow("listen without port") << none << none << QStringList {QStringLiteral("listen=localhost")}
                                         << QStringList {QStringLiteral("config: listen (from --listen)"),
                                                         QStringLiteral("\"localhost\""), QStringLiteral("HOST:PORT")};
    QTest::newRow("listen port over 65535")
        << none << QStringList {QStringLiteral("OUTPOST_LISTEN=127.0.0.1:65536")} << none
        << QStringList {QStringLiteral("listen (from OUTPOST_LISTEN)"), QStringLiteral("\"127.0.0.1:65536\""),
                        QStringLiteral("port")};
    QTest::newRow("listen port not a number")
        << none << none << QStringList {QStringLiteral("listen=127.0.0.1:http")}
        << QStringList {QStringLiteral("listen (from --listen)"), QStringLiteral("no valid port")};
    QTest::newRow("listen negative port")
        << none << none << QStringList {QStringLiteral("listen=127.0.0.1:-1")}
        << QStringList {QStringLiteral("listen (from --listen)"), QStringLiteral("no valid port")};
    QTest::newRow("listen empty port") << none << none << QStringList {QStringLiteral("listen=127.0.0.1:")}
                                       << QStringList {QStringLiteral("listen"), QStringLiteral("no valid port")};
    QTest::newRow("listen host name") << QStringList {QStringLiteral("listen = example.com:80")} << none << none
                                      << QStringList {QStringLiteral("listen (from @FILE@:1)"),
                                                      QStringLiteral("not an IP address")};
    QTest::newRow("threads 0") << none << none << QStringList {QStringLiteral("threads=0")}
                               << QStringList {QStringLiteral("threads (from --threads)"), QStringLiteral("\"0\""),
                                               QStringLiteral("1 to 64")};
    QTest::newRow("threads 65") << none << QStringList {QStringLiteral("OUTPOST_THREADS=65")} << none
                                << QStringList {QStringLiteral("threads (from OUTPOST_THREADS)"),
                                                QStringLiteral("\"65\""), QStringLiteral("1 to 64")};
    QTest::newRow("threads abc") << QStringList {QString(), QStringLiteral("threads = abc")} << none << none
                                 << QStringList {QStringLiteral("threads (from @FILE@:2)"), QStringLiteral("\"abc\""),
                                                 QStringLiteral("1 to 64")};
    QTest::newRow("threads negative") << none << none << QStringList {QStringLiteral("threads=-2")}
                                      << QStringList {QStringLiteral("threads"), QStringLiteral("\"-2\"")};
    QTest::newRow("rate limits unknown group")
        << none << QStringList {QStringLiteral("OUTPOST_RATE_LIMITS=reads:5/1s")} << none
        << QStringList {QStringLiteral("rate_limits (from OUTPOST_RATE_LIMITS)"), QStringLiteral("\"reads\"")};
    QTest::newRow("request log not a boolean")
        << none << QStringList {QStringLiteral("OUTPOST_REQUEST_LOG=maybe")} << none
        << QStringList {QStringLiteral("request_log (from OUTPOST_REQUEST_LOG)"), QStringLiteral("\"maybe\"")};
    QTest::newRow("request log size negative")
        << none << none << QStringList {QStringLiteral("request-log-max-mb=-1")}
        << QStringList {QStringLiteral("request_log_max_mb (from --request-log-max-mb)"),
                        QStringLiteral("0 (no limit)")};
    QTest::newRow("retention negative") << none << none << QStringList {QStringLiteral("audit-retention-days=-1")}
                                        << QStringList {
                                               QStringLiteral("audit_retention_days (from --audit-retention-days)"),
                                               QStringLiteral("\"-1\""), QStringLiteral("0 (keep forever)")};
    QTest::newRow("retention too long") << none << QStringList {QStringLiteral("OUTPOST_AUDIT_RETENTION_DAYS=36501")}
                                        << none
                                        << QStringList {QStringLiteral(
                                                            "audit_retention_days (from OUTPOST_AUDIT_RETENTION_DAYS)"),
                                                        QStringLiteral("36500")};
    QTest::newRow("retention not a number")
        << QStringList {QStringLiteral("audit_retention_days = 90d")} << none << none
        << QStringList {QStringLiteral("audit_retention_days (from @FILE@:1)"), QStringLiteral("\"90d\""),
                        QStringLiteral("whole number of days")};
    QTest::newRow("trusted proxy not an address")
        << none << QStringList {QStringLiteral("OUTPOST_TRUSTED_PROXIES=10.0.0.0/8, proxy.local")} << none
        << QStringList {QStringLiteral("trusted_proxies (from OUTPOST_TRUSTED_PROXIES)"),
                        QStringLiteral("\"proxy.local\""), QStringLiteral("not an address or CIDR range")};
    QTest::newRow("trusted proxy prefix too long")
        << none << none << QStringList {QStringLiteral("trusted-proxies=10.0.0.0/33")}
        << QStringList {QStringLiteral("trusted_proxies (from --trusted-proxies)"), QStringLiteral("\"10.0.0.0/33\"")};
    QTest::newRow("body limit overflowing")
        << none << none << QStringList {QStringLiteral("max-body-bytes=9999999999999G")}
        << QStringList {QStringLiteral("max_body_bytes (from --max-body-bytes)"), QStringLiteral("is not a size")};
    QTest::newRow("body limit too small") << none << none << QStringList {QStringLiteral("max-body-bytes=100")}
                                          << QStringList {QStringLiteral("max_body_bytes (from --max-body-bytes)"),
                                                          QStringLiteral("\"100\""), QStringLiteral("1KiB to 1GiB")};
    QTest::newRow("body limit in MB") << none << QStringList {QStringLiteral("OUTPOST_MAX_IMPORT_BYTES=16MB")} << none
                                      << QStringList {
                                             QStringLiteral("max_import_bytes (from OUTPOST_MAX_IMPORT_BYTES)"),
                                             QStringLiteral("\"16MB\""), QStringLiteral("16MiB")};
    QTest::newRow("auth body limit too large")
        << QStringList {QStringLiteral("max_auth_body_bytes = 2M")} << none << none
        << QStringList {QStringLiteral("max_auth_body_bytes (from @FILE@:1)"), QStringLiteral("1KiB to 1MiB")};
    QTest::newRow("header timeout 0") << none << none << QStringList {QStringLiteral("header-timeout-ms=0")}
                                      << QStringList {QStringLiteral("header_timeout_ms (from --header-timeout-ms)"),
                                                      QStringLiteral("100 to 600000")};
    QTest::newRow("body timeout in seconds")
        << none << QStringList {QStringLiteral("OUTPOST_BODY_TIMEOUT_MS=30s")} << none
        << QStringList {QStringLiteral("body_timeout_ms (from OUTPOST_BODY_TIMEOUT_MS)"), QStringLiteral("\"30s\"")};
    QTest::newRow("max connections word") << none << none << QStringList {QStringLiteral("max-connections=many")}
                                          << QStringList {QStringLiteral("max_connections (from --max-connections)"),
                                                          QStringLiteral("auto or a whole number")};
    QTest::newRow("connections per client 0")
        << none << QStringList {QStringLiteral("OUTPOST_MAX_CONNECTIONS_PER_CLIENT=0")} << none
        << QStringList {QStringLiteral("max_connections_per_client (from OUTPOST_MAX_CONNECTIONS_PER_CLIENT)"),
                        QStringLiteral("1 to 1000000")};
    QTest::newRow("in flight negative") << none << none << QStringList {QStringLiteral("max-inflight-per-client=-1")}
                                        << QStringList {QStringLiteral("max_inflight_per_client"),
                                                        QStringLiteral("\"-1\"")};
    QTest::newRow("cors origin with a path")
        << none << none << QStringList {QStringLiteral("cors-origins=https://app.example.com/")}
        << QStringList {QStringLiteral("cors_origins (from --cors-origins)"),
                        QStringLiteral("\"https://app.example.com/\""), QStringLiteral("no path")};
    QTest::newRow("cors origin without a scheme")
        << none << QStringList {QStringLiteral("OUTPOST_CORS_ORIGINS=app.example.com")} << none
        << QStringList {QStringLiteral("cors_origins (from OUTPOST_CORS_ORIGINS)"),
                        QStringLiteral("\"app.example.com\"")};
    QTest::newRow("cors origin of another scheme")
        << QStringList {QStringLiteral("cors_origins = ftp://files.example.com")} << none << none
        << QStringList {QStringLiteral("cors_origins (from @FILE@:1)"), QStringLiteral("\"ftp://files.example.com\"")};
    QTest::newRow("cors * with origins") << none << none
                                         << QStringList {QStringLiteral("cors-origins=*, https://app.example.com")}
                                         << QStringList {QStringLiteral("cors_origins"), QStringLiteral("use * alone")};
    QTest::newRow("allowed host with a port")
        << none << none << QStringList {QStringLiteral("allowed-hosts=api.example.com:8080")}
        << QStringList {QStringLiteral("allowed_hosts (from --allowed-hosts)"),
                        QStringLiteral("\"api.example.com:8080\""), QStringLiteral("without a port")};
    QTest::newRow("allowed host with an underscore")
        << none << QStringList {QStringLiteral("OUTPOST_ALLOWED_HOSTS=my_host")} << none
        << QStringList {QStringLiteral("allowed_hosts (from OUTPOST_ALLOWED_HOSTS)"), QStringLiteral("\"my_host\"")};
    QTest::newRow("durability other") << none << QStringList {QStringLiteral("OUTPOST_DURABILITY=fast")} << none
                                      << QStringList {QStringLiteral("durability (from OUTPOST_DURABILITY)"),
                                                      QStringLiteral("\"fast\""), QStringLiteral("full, normal")};
    QTest::newRow("durability wrong case") << none << none << QStringList {QStringLiteral("durability=FULL")}
                                           << QStringList {QStringLiteral("durability (from --durability)")};
    QTest::newRow("boolean other") << none << none << QStringList {QStringLiteral("allow-insecure-remote=maybe")}
                                   << QStringList {
                                          QStringLiteral("allow_insecure_remote (from --allow-insecure-remote)"),
                                          QStringLiteral("\"maybe\""), QStringLiteral("boolean")};
    QTest::newRow("data_dir empty") << none << QStringList {QStringLiteral("OUTPOST_DATA_DIR=")} << none
                                    << QStringList {QStringLiteral("data_dir (from OUTPOST_DATA_DIR)"),
                                                    QStringLiteral("is empty")};
    QTest::newRow("unknown key in file")
        << QStringList {QStringLiteral("# comment"), QStringLiteral("threads = 2"), QStringLiteral("colour = blue")}
        << none << none
        << QStringList {QStringLiteral("@FILE@:3"), QStringLiteral("unknown key \"colour\""), QStringLiteral("listen")};
    QTest::newRow("flag name used as file key")
        << QStringList {QStringLiteral("data-dir = /tmp")} << none << none
        << QStringList {QStringLiteral("@FILE@:1"), QStringLiteral("unknown key \"data-dir\"")};
    QTest::newRow("malformed line") << QStringList {QStringLiteral("threads = 2"),
                                                    QStringLiteral("listen 127.0.0.1:80")}
                                    << none << none
                                    << QStringList {QStringLiteral("@FILE@:2"), QStringLiteral("key = value"),
                                                    QStringLiteral("\"listen 127.0.0.1:80\"")};
    QTest::newRow("line without key") << QStringList {QStringLiteral("= 3")} << none << none
                                      << QStringList {QStringLiteral("@FILE@:1"), QStringLiteral("key = value")};
    QTest::newRow("missing config file") << none << none << QStringList {QStringLiteral("config=@DIR@/missing.conf")}
                                         << QStringList {QStringLiteral("cannot read config file"),
                                                         QStringLiteral("@DIR@/missing.conf")};
    QTest::newRow("missing config file from env")
        << none << QStringList {QStringLiteral("OUTPOST_CONFIG=@DIR@/nope.conf")} << none
        << QStringList {QStringLiteral("cannot read config file"), QStringLiteral("@DIR@/nope.conf")};
    QTest::newRow("empty --config") << none << none << QStringList {QStringLiteral("config=")}
                                    << QStringList {QStringLiteral("--config needs a file name")};
    QTest::newRow("empty boolean in the environment")
        << none << QStringList {QStringLiteral("OUTPOST_ALLOW_INSECURE_REMOTE=")} << none
        << QStringList {QStringLiteral("allow_insecure_remote (from OUTPOST_ALLOW_INSECURE_REMOTE)"),
                        QStringLiteral("is not a boolean")};
    QTest::newRow("port with a sign") << none << none << QStringList {QStringLiteral("listen=127.0.0.1:+80")}
                                      << QStringList {QStringLiteral("has no valid port")};
    QTest::newRow("tls_cert without tls_key")
        << none << none << QStringList {QStringLiteral("tls-cert=@DIR@/cert.pem")}
        << QStringList {QStringLiteral("tls_cert (from --tls-cert)"), QStringLiteral("tls_key is not")};
    QTest::newRow("tls_key without tls_cert")
        << none << QStringList {QStringLiteral("OUTPOST_TLS_KEY=@DIR@/key.pem")} << none
        << QStringList {QStringLiteral("tls_key (from OUTPOST_TLS_KEY)"), QStringLiteral("tls_cert is not")};
    QTest::newRow("tls_cert missing file")
        << none << none
        << QStringList {QStringLiteral("tls-cert=@DIR@/absent.pem"), QStringLiteral("tls-key=@DIR@/key.pem")}
        << QStringList {QStringLiteral("tls_cert (from --tls-cert)"), QStringLiteral("@DIR@/absent.pem"),
                        QStringLiteral("not a readable file")};
    QTest::newRow("tls_key missing file")
        << QStringList {QStringLiteral("tls_cert = @DIR@/cert.pem"), QStringLiteral("tls_key = @DIR@/absent.key")}
        << none << none
        << QStringList {QStringLiteral("tls_key (from @FILE@:2)"), QStringLiteral("not a readable file")};
    QTest::newRow("non-loopback without TLS")
        << none << none << QStringList {QStringLiteral("listen=0.0.0.0:8090")}
        << QStringList {QStringLiteral("listen (from --listen)"), QStringLiteral("\"0.0.0.0:8090\""),
                        QStringLiteral("loopback"), QStringLiteral("--allow-insecure-remote")};
}

void TestConfig::errors()
{
    QFETCH(QStringList, fileLines);
    QFETCH(QStringList, environment);
    QFETCH(QStringList, flags);
    QFETCH(QStringList, expected);

    QProcessEnvironment env = baseEnvironment();
    QString path;
    if (!fileLines.isEmpty()) {
        path = writeConfig(fileLines);
        env.insert(QStringLiteral("OUTPOST_CONFIG"), path);
    }
    for (const QString &setting : std::as_const(environment)) {
        const auto [name, value] = splitPair(setting);
        env.insert(name, expand(value));
    }
    QMap<QString, QString> flagMap;
    for (const QString &setting : std::as_const(flags)) {
        const auto [name, value] = splitPair(setting);
        flagMap.insert(name, expand(value));
    }

    auto config = ConfigLoader::load(flagMap, env);
    QVERIFY(!config.ok());
    const Error &error = config.error();
    QCOMPARE(error.code, ErrorCode::InvalidArgument);
    QVERIFY2(error.message.startsWith(QStringLiteral("config: ")), qPrintable(error.message));
    QVERIFY2(!error.message.contains(u'\n'), qPrintable(error.message)); // one line
    for (QString fragment : std::as_const(expected)) {
        fragment = expand(fragment.replace(QStringLiteral("@FILE@"), path));
        QVERIFY2(error.message.contains(fragment),
                 qPrintable(QStringLiteral("\"%1\" does not contain \"%2\"").arg(error.message, fragment)));
    }
}

void TestConfig::unreadableTlsFile()
{
    if (::geteuid() == 0)
        QSKIP("root reads files whatever their mode");
    const QString cert = m_dir->filePath(QStringLiteral("cert.pem"));
    QVERIFY(QFile::setPermissions(cert, QFileDevice::WriteOwner));
    auto config = ConfigLoader::load(
        {{QStringLiteral("tls-cert"), cert}, {QStringLiteral("tls-key"), m_dir->filePath(QStringLiteral("key.pem"))}},
        baseEnvironment());
    QVERIFY(!config.ok());
    QVERIFY2(config.error().message.contains(QStringLiteral("tls_cert (from --tls-cert)")),
             qPrintable(config.error().message));
    QVERIFY(config.error().message.contains(QStringLiteral("not a readable file")));
}

void TestConfig::remoteListen_data()
{
    QTest::addColumn<QString>("listen");
    QTest::addColumn<QStringList>("flags"); // name=value, besides --listen
    QTest::addColumn<QString>("expectedUrl"); // empty: refused

    const QStringList tls {QStringLiteral("tls-cert=@DIR@/cert.pem"), QStringLiteral("tls-key=@DIR@/key.pem")};
    const QStringList insecure {QStringLiteral("allow-insecure-remote=")};
    QTest::newRow("IPv4 any refused") << QStringLiteral("0.0.0.0:8090") << QStringList() << QString();
    QTest::newRow("IPv6 any refused") << QStringLiteral("[::]:8090") << QStringList() << QString();
    QTest::newRow("LAN address refused") << QStringLiteral("192.0.2.10:8090") << QStringList() << QString();
    QTest::newRow("explicitly not allowed")
        << QStringLiteral("0.0.0.0:8090") << QStringList {QStringLiteral("allow-insecure-remote=false")} << QString();
    QTest::newRow("allowed insecure") << QStringLiteral("0.0.0.0:8090") << insecure
                                      << QStringLiteral("http://0.0.0.0:8090");
    QTest::newRow("IPv6 allowed insecure")
        << QStringLiteral("[::]:8443") << insecure << QStringLiteral("http://[::]:8443");
    QTest::newRow("TLS") << QStringLiteral("192.0.2.10:8443") << tls << QStringLiteral("https://192.0.2.10:8443");
    QTest::newRow("loopback needs nothing")
        << QStringLiteral("127.0.0.5:8090") << QStringList() << QStringLiteral("http://127.0.0.5:8090");
    QTest::newRow("IPv6 loopback needs nothing")
        << QStringLiteral("[::1]:8090") << QStringList() << QStringLiteral("http://[::1]:8090");
    QTest::newRow("loopback with TLS") << QStringLiteral("127.0.0.1:8443") << tls
                                       << QStringLiteral("https://127.0.0.1:8443");
}

void TestConfig::remoteListen()
{
    QFETCH(QString, listen);
    QFETCH(QStringList, flags);
    QFETCH(QString, expectedUrl);

    QMap<QString, QString> flagMap {{QStringLiteral("listen"), listen}};
    for (const QString &setting : std::as_const(flags)) {
        const auto [name, value] = splitPair(setting);
        flagMap.insert(name, expand(value));
    }
    auto config = ConfigLoader::load(flagMap, baseEnvironment());
    if (expectedUrl.isEmpty()) {
        QVERIFY(!config.ok());
        QCOMPARE(config.error().code, ErrorCode::InvalidArgument);
        QVERIFY2(config.error().message.contains(QStringLiteral("loopback")), qPrintable(config.error().message));
        return;
    }
    QVERIFY2(config.ok(), qPrintable(config.ok() ? QString() : config.error().message));
    QCOMPARE(config->baseUrl(), expectedUrl);
    QCOMPARE(config->tlsEnabled(), expectedUrl.startsWith(QStringLiteral("https:")));
}

void TestConfig::parseArgs_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("expectedOptions"); // name=value, sorted by name
    QTest::addColumn<QStringList>("expectedPositional");
    QTest::addColumn<QString>("expectedError"); // a fragment; empty when parsing succeeds

    // Value options: listen, threads. Switches: allow-insecure-remote, verbose.
    QTest::newRow("nothing") << QStringList() << QStringList() << QStringList() << QString();
    QTest::newRow("--name value") << QStringList {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:1")}
                                  << QStringList {QStringLiteral("listen=127.0.0.1:1")} << QStringList() << QString();
    QTest::newRow("--name=value") << QStringList {QStringLiteral("--threads=4")}
                                  << QStringList {QStringLiteral("threads=4")} << QStringList() << QString();
    QTest::newRow("--name= empty value") << QStringList {QStringLiteral("--threads=")}
                                         << QStringList {QStringLiteral("threads=")} << QStringList() << QString();
    QTest::newRow("value containing =") << QStringList {QStringLiteral("--listen=a=b")}
                                        << QStringList {QStringLiteral("listen=a=b")} << QStringList() << QString();
    QTest::newRow("value that looks like an option")
        << QStringList {QStringLiteral("--listen"), QStringLiteral("--verbose")}
        << QStringList {QStringLiteral("listen=--verbose")} << QStringList() << QString();
    QTest::newRow("switch") << QStringList {QStringLiteral("--verbose")} << QStringList {QStringLiteral("verbose=")}
                            << QStringList() << QString();
    QTest::newRow("switch does not take the next argument")
        << QStringList {QStringLiteral("--allow-insecure-remote"), QStringLiteral("serve")}
        << QStringList {QStringLiteral("allow-insecure-remote=")} << QStringList {QStringLiteral("serve")} << QString();
    QTest::newRow("switch=value") << QStringList {QStringLiteral("--allow-insecure-remote=false")}
                                  << QStringList {QStringLiteral("allow-insecure-remote=false")} << QStringList()
                                  << QString();
    QTest::newRow("mixed") << QStringList {QStringLiteral("superuser"), QStringLiteral("--threads"),
                                           QStringLiteral("2"),         QStringLiteral("create"),
                                           QStringLiteral("--verbose"), QStringLiteral("a@example.com")}
                           << QStringList {QStringLiteral("threads=2"), QStringLiteral("verbose=")}
                           << QStringList {QStringLiteral("superuser"), QStringLiteral("create"),
                                           QStringLiteral("a@example.com")}
                           << QString();
    QTest::newRow("last one wins") << QStringList {QStringLiteral("--threads=2"), QStringLiteral("--threads=3")}
                                   << QStringList {QStringLiteral("threads=3")} << QStringList() << QString();
    QTest::newRow("-- ends options") << QStringList {QStringLiteral("create"), QStringLiteral("--"),
                                                     QStringLiteral("--threads"), QStringLiteral("--nonsense")}
                                     << QStringList()
                                     << QStringList {QStringLiteral("create"), QStringLiteral("--threads"),
                                                     QStringLiteral("--nonsense")}
                                     << QString();
    QTest::newRow("single dash is positional")
        << QStringList {QStringLiteral("-"), QStringLiteral("-v")} << QStringList()
        << QStringList {QStringLiteral("-"), QStringLiteral("-v")} << QString();
    QTest::newRow("unknown option") << QStringList {QStringLiteral("serve"), QStringLiteral("--colour")}
                                    << QStringList() << QStringList() << QStringLiteral("unknown option --colour");
    QTest::newRow("unknown option with value") << QStringList {QStringLiteral("--colour=blue")} << QStringList()
                                               << QStringList() << QStringLiteral("unknown option --colour");
    QTest::newRow("missing value") << QStringList {QStringLiteral("--threads")} << QStringList() << QStringList()
                                   << QStringLiteral("option --threads needs a value");
}

void TestConfig::parseArgs()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, expectedOptions);
    QFETCH(QStringList, expectedPositional);
    QFETCH(QString, expectedError);

    const QStringList valueOptions {QStringLiteral("listen"), QStringLiteral("threads")};
    const QStringList switches {QStringLiteral("allow-insecure-remote"), QStringLiteral("verbose")};
    auto parsed = Outpost::parseArgs(args, valueOptions, switches);
    if (!expectedError.isEmpty()) {
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.error().code, ErrorCode::InvalidArgument);
        QVERIFY2(parsed.error().message.contains(expectedError), qPrintable(parsed.error().message));
        return;
    }
    QVERIFY2(parsed.ok(), qPrintable(parsed.ok() ? QString() : parsed.error().message));
    QStringList options;
    for (auto it = parsed->options.cbegin(); it != parsed->options.cend(); ++it)
        options << it.key() + u'=' + it.value();
    QCOMPARE(options, expectedOptions);
    QCOMPARE(parsed->positional, expectedPositional);
}

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
