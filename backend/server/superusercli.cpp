#include "superusercli.h"

#include <QProcessEnvironment>
#include <QTextStream>

#include "cli.h"

namespace Outpost::Cli {

Result<std::unique_ptr<SuperuserServices>> SuperuserServices::open(const Config &config)
{
    auto services = std::make_unique<SuperuserServices>();
    auto store = Store::Store::open({config.dataDir, config.durability});
    if (!store)
        return store.error();
    services->store = std::move(store).value();
    auto key = Auth::loadOrCreateSigningKey(*services->store);
    if (!key)
        return key.error();
    services->jwt = std::make_unique<Auth::Jwt>(key->secret, key->keyId, services->clock);
    services->sessions = std::make_unique<Auth::Sessions>(services->clock);
    services->superusers = std::make_unique<Auth::Superusers>(*services->store, services->hasher, *services->jwt,
                                                              services->clock, *services->sessions);
    return services;
}

namespace {

int failed(const QString &program, const Error &error)
{
    printError(program, error.message);
    return error.code == ErrorCode::InvalidArgument || error.code == ErrorCode::NotFound ? Usage : Failure;
}

void printList(const QList<Auth::Superuser> &users)
{
    QTextStream out(stdout);
    out << QStringLiteral("%1  %2  %3  %4\n").arg(u"ID", -15).arg(u"ROLE", -6).arg(u"CREATED", -24).arg(u"EMAIL");
    for (const Auth::Superuser &u : users)
        out << QStringLiteral("%1  %2  %3  %4\n")
                   .arg(u.id, -15)
                   .arg(Auth::roleName(u.role), -6)
                   .arg(u.created, -24)
                   .arg(u.email);
}

// Gives the account `role`, or without one deletes it, as the operator.
int changeAccount(const QString &program, Auth::Superusers &superusers, const QString &email,
                  const std::optional<Auth::Role> &role)
{
    auto user = superusers.findByEmail(email);
    if (!user)
        return failed(program, user.error());
    const Auth::AccountActor actor {QStringLiteral("cli"), Auth::Role::Owner, QStringLiteral("local")};
    QTextStream out(stdout);
    if (!role) {
        auto removed = superusers.remove(user->id, actor);
        if (!removed)
            return failed(program, removed.error());
        out << "Deleted superuser " << removed->email << " (id " << removed->id << ", role "
            << Auth::roleName(removed->role) << ")" << Qt::endl;
        return Ok;
    }
    auto updated = superusers.update(user->id, Auth::SuperuserChanges {{}, {}, role}, actor);
    if (!updated)
        return failed(program, updated.error());
    out << "Superuser " << updated->email << " is now " << Auth::roleName(updated->role);
    if (updated->role != user->role)
        out << " (was " << Auth::roleName(user->role) << "; its sessions have ended)";
    out << Qt::endl;
    return Ok;
}

} // namespace

int manageSuperusers(const QString &action, const QStringList &args)
{
    const QString program = QStringLiteral("outpostd superuser ") + action;
    auto parsed = parseArgs(args, configValueOptions(), configSwitches());
    if (!parsed) {
        printError(program, parsed.error().message);
        return Usage;
    }
    const qsizetype wanted = action == u"list" ? 0 : action == u"set-role" ? 2 : 1;
    if (parsed->positional.size() != wanted) {
        printError(program, QStringLiteral("expected `list`, `set-role EMAIL ROLE` or `delete EMAIL`"));
        return Usage;
    }
    std::optional<Auth::Role> role;
    if (action == u"set-role") {
        role = Auth::parseRole(parsed->positional.at(1));
        if (!role) {
            printError(program, QStringLiteral("ROLE must be owner, admin, editor or viewer"));
            return Usage;
        }
    }
    auto config = ConfigLoader::load(parsed->options, QProcessEnvironment::systemEnvironment());
    if (!config) {
        printError(QStringLiteral("outpostd"), config.error().message);
        return Usage;
    }
    auto services = SuperuserServices::open(*config);
    if (!services)
        return failed(QStringLiteral("outpostd"), services.error());
    Auth::Superusers &superusers = *(*services)->superusers;
    if (action == u"list") {
        auto users = superusers.list();
        if (!users)
            return failed(program, users.error());
        printList(*users);
        return Ok;
    }
    return changeAccount(program, superusers, parsed->positional.first(), role);
}

} // namespace Outpost::Cli
