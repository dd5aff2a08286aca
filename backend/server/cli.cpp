#include "cli.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcessEnvironment>
#include <QTextStream>
#include <cstdio>

#include <termios.h>
#include <unistd.h>

#include "../auth/apikeys.h"
#include "../data/fieldformats.h"
#include "../store/store.h"
#include "server.h"
#include "signalwatcher.h"
#include "superusercli.h"

namespace Outpost::Cli {

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QString daemonUsage()
{
    return QStringLiteral(
               "Usage: outpostd COMMAND [OPTIONS]\n"
               "\n"
               "Commands:\n"
               "  serve                     run the API server until SIGINT/SIGTERM\n"
               "  superuser create EMAIL    create a console superuser; the password is read from\n"
               "                            the terminal, from stdin, or from --password-file FILE;\n"
               "                            --role owner|admin|editor|viewer (default owner)\n"
               "  superuser list            list the superusers (id, role, created, email)\n"
               "  superuser set-role EMAIL ROLE   change a superuser's role (its sessions end)\n"
               "  superuser delete EMAIL    delete a superuser (never the last owner)\n"
               "  apikey create --name NAME --scopes S1,S2 [--expires DATE] [--cidrs C1,C2]\n"
               "                            create an API key and print its secret (shown this once)\n"
               "  apikey list               list the keys (prefix, name, scopes, expiry, last use)\n"
               "  apikey revoke ID          revoke a key\n"
               "  apikey rotate ID [--grace SECONDS]   print a new secret; the old one works for SECONDS more\n"
               "  config                    print the effective configuration and where each value comes from\n"
               "  version                   print the version\n"
               "\n")
        + serveOptionsHelp();
}

// Reads a password without echo from the terminal (twice), or one line from a pipe.
Result<QByteArray> readPassword(const QMap<QString, QString> &options)
{
    if (options.contains(QStringLiteral("password-file"))) {
        QFile file(options.value(QStringLiteral("password-file")));
        if (!file.open(QIODevice::ReadOnly))
            return makeError(
                ErrorCode::InvalidArgument,
                QStringLiteral("cannot read --password-file %1: %2").arg(file.fileName(), file.errorString()));
        return file.readLine().trimmed();
    }
    if (!::isatty(STDIN_FILENO)) {
        QFile in;
        if (!in.open(stdin, QIODevice::ReadOnly))
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("cannot read the password from stdin"));
        QByteArray line = in.readLine();
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        return line;
    }
    auto prompt = [](const char *text) -> QByteArray {
        std::fputs(text, stderr);
        std::fflush(stderr);
        termios saved {};
        ::tcgetattr(STDIN_FILENO, &saved);
        termios silent = saved;
        silent.c_lflag &= ~tcflag_t(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
        char buffer[1100] = {};
        const bool ok = std::fgets(buffer, sizeof buffer, stdin) != nullptr;
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::fputs("\n", stderr);
        QByteArray line = ok ? QByteArray(buffer) : QByteArray();
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        return line;
    };
    const QByteArray first = prompt("Password: ");
    const QByteArray second = prompt("Repeat password: ");
    if (first != second)
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("the passwords do not match"));
    return first;
}

int createSuperuser(const QStringList &args)
{
    auto parsed = parseArgs(args, configValueOptions() << QStringLiteral("password-file") << QStringLiteral("role"),
                            configSwitches());
    if (!parsed) {
        printError(QStringLiteral("outpostd superuser create"), parsed.error().message);
        return Usage;
    }
    if (parsed->positional.size() != 1) {
        printError(QStringLiteral("outpostd superuser create"), QStringLiteral("expected exactly one EMAIL argument"));
        return Usage;
    }
    const auto role = Auth::parseRole(parsed->options.value(QStringLiteral("role"), QStringLiteral("owner")));
    if (!role) {
        printError(QStringLiteral("outpostd superuser create"),
                   QStringLiteral("--role must be owner, admin, editor or viewer"));
        return Usage;
    }
    auto config = ConfigLoader::load(parsed->options, QProcessEnvironment::systemEnvironment());
    if (!config) {
        printError(QStringLiteral("outpostd"), config.error().message);
        return Usage;
    }
    auto password = readPassword(parsed->options);
    if (!password) {
        printError(QStringLiteral("outpostd superuser create"), password.error().message);
        return Usage;
    }
    auto services = SuperuserServices::open(*config);
    if (!services) {
        printError(QStringLiteral("outpostd"), services.error().message);
        return Failure;
    }
    auto user = (*services)->superusers->create(parsed->positional.first(), *password, *role);
    if (!user) {
        QString message = user.error().message;
        const QJsonObject fields = user.error().details.value(QStringLiteral("fields")).toObject();
        for (auto it = fields.begin(); it != fields.end(); ++it)
            message += QStringLiteral(" %1: %2").arg(it.key(),
                                                     it.value().toObject().value(QStringLiteral("message")).toString());
        printError(QStringLiteral("outpostd superuser create"), message);
        return user.error().code == ErrorCode::InvalidArgument ? Usage : Failure;
    }
    out() << "Created superuser " << user->email << " (id " << user->id << ", role " << Auth::roleName(user->role)
          << ") in " << config->dataDir << Qt::endl;
    return Ok;
}

// `outpostd apikey ...`: the same service the admin API uses, on the data directory's store.
int manageApiKeys(const QStringList &args)
{
    const QString program = QStringLiteral("outpostd apikey");
    const QString action = args.value(0);
    auto parsed = parseArgs(args.mid(1),
                            configValueOptions()
                                << QStringLiteral("name") << QStringLiteral("scopes") << QStringLiteral("expires")
                                << QStringLiteral("cidrs") << QStringLiteral("grace"),
                            configSwitches());
    if (!parsed) {
        printError(program, parsed.error().message);
        return Usage;
    }
    const bool needsId = action == u"revoke" || action == u"rotate";
    if ((action != u"create" && action != u"list" && !needsId) || parsed->positional.size() != (needsId ? 1 : 0)) {
        printError(program,
                   QStringLiteral("expected `create --name NAME --scopes S1,S2`, `list`, `revoke ID` or "
                                  "`rotate ID [--grace SECONDS]`"));
        return Usage;
    }
    auto config = ConfigLoader::load(parsed->options, QProcessEnvironment::systemEnvironment());
    if (!config) {
        printError(QStringLiteral("outpostd"), config.error().message);
        return Usage;
    }
    auto store = Store::Store::open({config->dataDir, config->durability});
    if (!store) {
        printError(QStringLiteral("outpostd"), store.error().message);
        return Failure;
    }
    SystemClock clock;
    Auth::ApiKeys keys(**store, clock);
    const auto fail = [&](const Error &error) {
        QString message = error.message;
        const QJsonObject fields = error.details.value(QStringLiteral("fields")).toObject();
        for (auto it = fields.begin(); it != fields.end(); ++it)
            message += QStringLiteral(" %1: %2").arg(it.key(), it.value().toObject().value(u"message").toString());
        printError(program, message);
        return error.code == ErrorCode::InvalidArgument || error.code == ErrorCode::NotFound ? Usage : Failure;
    };
    const auto split = [](const QString &list) {
        QStringList out;
        for (const QString &item : list.split(u',', Qt::SkipEmptyParts))
            out.append(item.trimmed());
        return out;
    };
    const auto printIssued = [](const Auth::IssuedKey &issued) {
        out() << "Key " << issued.key.id << " (" << issued.key.name << "): " << issued.key.scopes.toStrings().join(u',')
              << "\n"
              << issued.secret << "\n"
              << "Store the secret now: it is not shown again." << Qt::endl;
    };
    if (action == u"create") {
        Auth::NewKey key;
        key.name = parsed->options.value(QStringLiteral("name"));
        key.scopes = split(parsed->options.value(QStringLiteral("scopes")));
        key.allowedCidrs = split(parsed->options.value(QStringLiteral("cidrs")));
        key.createdBy = QStringLiteral("cli");
        if (parsed->options.contains(QStringLiteral("expires"))) {
            const auto date = Data::Formats::parseDate(parsed->options.value(QStringLiteral("expires")));
            if (!date) {
                printError(program,
                           QStringLiteral("--expires must be a date such as 2030-01-31 or "
                                          "\"2030-01-31 12:00:00Z\""));
                return Usage;
            }
            key.expiresMs = date->toMSecsSinceEpoch();
        }
        auto issued = keys.create(key);
        if (!issued)
            return fail(issued.error());
        printIssued(*issued);
        return Ok;
    }
    if (action == u"list") {
        auto list = keys.list();
        if (!list)
            return fail(list.error());
        out() << QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                     .arg(u"ID", -15)
                     .arg(u"PREFIX", -12)
                     .arg(u"NAME", -20)
                     .arg(u"STATE", -8)
                     .arg(u"LAST USED", -24)
                     .arg(u"SCOPES");
        for (const Auth::ApiKey &k : *list) {
            const QJsonObject json = k.toJson();
            const QString state = k.revokedMs                  ? QStringLiteral("revoked")
                : k.expiresMs && *k.expiresMs <= clock.nowMs() ? QStringLiteral("expired")
                                                               : QStringLiteral("active");
            const QString used = k.lastUsedMs ? json.value(u"lastUsedAt").toString() : QStringLiteral("never");
            out() << QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                         .arg(k.id, -15)
                         .arg(k.prefix, -12)
                         .arg(k.name.left(20), -20)
                         .arg(state, -8)
                         .arg(used, -24)
                         .arg(k.scopes.toStrings().join(u','));
        }
        out().flush();
        return Ok;
    }
    const QString id = parsed->positional.first();
    if (action == u"revoke") {
        auto revoked = keys.revoke(id, QStringLiteral("cli"));
        if (!revoked)
            return fail(revoked.error());
        out() << "Revoked key " << revoked->id << " (" << revoked->name << ")" << Qt::endl;
        return Ok;
    }
    bool ok = true;
    const qint64 grace = parsed->options.value(QStringLiteral("grace"), QStringLiteral("0")).toLongLong(&ok);
    if (!ok || grace < 0) {
        printError(program, QStringLiteral("--grace must be a number of seconds"));
        return Usage;
    }
    auto rotated = keys.rotate(id, grace, QStringLiteral("cli"));
    if (!rotated)
        return fail(rotated.error());
    printIssued(*rotated);
    return Ok;
}

int printConfig(const QStringList &args)
{
    auto config = loadConfig(args, QStringLiteral("outpostd config"));
    if (!config)
        return Usage;
    for (const Config::Entry &e : config->entries) {
        out() << e.key << " = " << e.value << "    # " << configSourceName(e.source);
        if (!e.origin.isEmpty())
            out() << " (" << e.origin << ')';
        out() << Qt::endl;
    }
    return Ok;
}

} // namespace

void printError(const QString &program, const QString &message)
{
    QTextStream err(stderr);
    err << program << ": " << message << Qt::endl;
}

QStringList configValueOptions()
{
    // Every key's flag (ConfigLoader's table), so that a new key needs no change here.
    QStringList options {QStringLiteral("config")};
    for (const QString &flag : ConfigLoader::flags())
        if (!configSwitches().contains(flag))
            options << flag;
    return options;
}

QStringList configSwitches()
{
    return {QStringLiteral("allow-insecure-remote"), QStringLiteral("metrics-open-on-loopback")};
}

QString serveOptionsHelp()
{
    return QStringLiteral(
        "Options (each also settable as OUTPOST_<NAME> in the environment or `name = value` in the config file;\n"
        "flags win over the environment, which wins over the file):\n"
        "  --config FILE             read settings from FILE (or OUTPOST_CONFIG)\n"
        "  --data-dir DIR            where data.db and logs.db live (default: $XDG_DATA_HOME/outpost)\n"
        "  --listen HOST:PORT        address of the HTTP API (default: 127.0.0.1:8090; port 0 picks a free one)\n"
        "  --threads N               network threads (default: number of cores)\n"
        "  --durability full|normal  full: every acknowledged write survives power loss (default)\n"
        "  --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate chain and key\n"
        "  --allow-insecure-remote   allow plain HTTP on a non-loopback address\n"
        "  --audit-retention-days N  delete audit entries older than N days (default: 90; 0: keep forever)\n"
        "  --request-log true|false  log every request in logs.db (default: true)\n"
        "  --request-log-retention-days N   delete request log entries older than N days (default: 7; 0: never)\n"
        "  --request-log-max-mb N    delete the oldest request log entries past N MiB (default: 256; 0: no limit)\n"
        "  --trusted-proxies CIDRS   proxies whose X-Forwarded-For names the client (default: none)\n"
        "  --rate-limits RULES       per-caller limits, e.g. auth:30/60s,read:2000/10s,write:500/10s,admin:600/10s\n"
        "                            (the default), or off\n"
        "  --metrics true|false      record request metrics (default: true; false only to measure their cost)\n"
        "  --metrics-open-on-loopback   GET /metrics without credentials from a loopback peer\n"
        "  --max-body-bytes SIZE     largest request body (default: 16MiB; K, M, G: binary units)\n"
        "  --max-import-bytes SIZE   largest body of an import (default: 64MiB)\n"
        "  --max-auth-body-bytes SIZE   largest body of a login, token or refresh request (default: 64KiB)\n"
        "  --header-timeout-ms MS    time for a request head to arrive (default: 10000)\n"
        "  --body-timeout-ms MS      longest pause in a request body (default: 30000)\n"
        "  --max-connections N|auto  open connections in all (default: auto, from the open-file limit)\n"
        "  --max-connections-per-client N   per client address, IPv6 per /64 (default: 256)\n"
        "  --max-inflight-per-client N      requests being handled per client address (default: 64)\n"
        "  --cors-origins LIST       browser origins allowed to call the API, or * (default: none)\n"
        "  --allowed-hosts LIST      Host names accepted besides localhost (default: none)\n");
}

Result<Config> loadConfig(const QStringList &args, const QString &program)
{
    auto parsed = parseArgs(args, configValueOptions(), configSwitches());
    if (!parsed) {
        printError(program, parsed.error().message);
        return parsed.error();
    }
    if (!parsed->positional.isEmpty()) {
        const QString message = QStringLiteral("unexpected argument \"%1\"").arg(parsed->positional.first());
        printError(program, message);
        return makeError(ErrorCode::InvalidArgument, message);
    }
    auto config = ConfigLoader::load(parsed->options, QProcessEnvironment::systemEnvironment());
    if (!config)
        printError(program, config.error().message);
    return config;
}

int serveHeadless(const Config &config)
{
    Server server(config);
    if (auto s = server.start(); !s) {
        printError(QCoreApplication::applicationName(), s.error().message);
        return s.error().code == ErrorCode::InvalidArgument ? Usage : Failure;
    }
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::terminationRequested, qApp, [](int) { QCoreApplication::quit(); });
    out() << "Outpost " << OUTPOST_VERSION << " serving\n"
          << "  API:  " << server.baseUrl() << "  (" << config.threads << " network threads)\n"
          << "  Data: " << config.dataDir << Qt::endl;
    auto count = server.superusers().count();
    if (count && *count == 0)
        out() << "  No superuser yet: create one with `outpostd superuser create EMAIL`." << Qt::endl;
    out() << "Stop with Ctrl-C or SIGTERM." << Qt::endl;
    QCoreApplication::exec();
    out() << "Stopping: finishing in-flight requests..." << Qt::endl;
    server.stop();
    out() << "Stopped cleanly." << Qt::endl;
    return Ok;
}

int runDaemon(const QStringList &args)
{
    const QString command = args.value(0);
    if (command.isEmpty() || command == u"help" || command == u"--help" || command == u"-h") {
        out() << daemonUsage();
        out().flush();
        return command.isEmpty() ? Usage : Ok;
    }
    if (command == u"version" || command == u"--version") {
        out() << "outpostd " << OUTPOST_VERSION << Qt::endl;
        return Ok;
    }
    if (command == u"serve") {
        auto config = loadConfig(args.mid(1), QStringLiteral("outpostd serve"));
        return config ? serveHeadless(*config) : Usage;
    }
    if (command == u"config")
        return printConfig(args.mid(1));
    if (command == u"apikey")
        return manageApiKeys(args.mid(1));
    if (command == u"superuser") {
        const QString action = args.value(1);
        if (action == u"create")
            return createSuperuser(args.mid(2));
        if (action == u"list" || action == u"set-role" || action == u"delete")
            return manageSuperusers(action, args.mid(2));
        printError(QStringLiteral("outpostd superuser"),
                   QStringLiteral("expected `create EMAIL`, `list`, `set-role EMAIL ROLE` or `delete EMAIL`"));
        return Usage;
    }
    printError(QStringLiteral("outpostd"), QStringLiteral("unknown command \"%1\" (try `outpostd help`)").arg(command));
    return Usage;
}

} // namespace Outpost::Cli
