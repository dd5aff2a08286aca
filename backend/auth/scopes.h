#pragma once

#include <QString>
#include <QStringList>
#include <optional>

#include "../core/result.h"

namespace Outpost::Auth {

// What an API key may do. Every admin and data route needs one permission; a key reaches a route
// only when one of its scopes grants that permission.
enum class Permission {
    RecordsRead, // list, view, export records
    RecordsWrite, // create, update, delete, import records, batch
    CollectionsManage, // collection definitions, the OpenAPI document
    AccountsManage, // superuser and app-user accounts
    KeysManage, // API keys
    LogsRead, // audit and request logs
    MetricsRead, // metrics
    SettingsManage, // run-time settings: rate limits
};

// A parsed scope list. Scope strings (the API's wire form):
//   records:read  records:write              every collection
//   records:read:NAME  records:write:NAME    one collection (by name, case-insensitive)
//   collections:manage  accounts:manage  keys:manage  logs:read  metrics:read  settings:manage
// records:write does not imply records:read (as in GitHub's fine-grained tokens).
class Scopes
{
public:
    Scopes() = default;

    // InvalidArgument naming the first bad entry (unknown scope, bad collection name, empty list,
    // duplicate). Normalises: trimmed, lower-case prefix; collection names keep their case.
    static Result<Scopes> parse(const QStringList &scopes);

    // `collection` is the collection's name for the records permissions, ignored for the others.
    bool grants(Permission permission, const QString &collection = {}) const;
    // Whether any scope grants `permission` for at least one collection (for routes that are not
    // about one collection, e.g. the batch route checks each of its requests separately).
    bool grantsAny(Permission permission) const;

    // The first of `requested` (scope strings) that these scopes do not hold: held are the same
    // scopes and one-collection narrowings of all-collection records scopes. Empty: all held.
    std::optional<QString> firstNotHeld(const QStringList &requested) const;

    QStringList toStrings() const; // as given after normalising, in the original order
    bool isEmpty() const { return m_scopes.isEmpty(); }

private:
    QStringList m_scopes;
};

// "records:read" etc. for documentation and errors.
QString permissionName(Permission permission);

// A superuser's role in the console and the admin API:
//   owner   everything, including managing other superusers (owners too)
//   admin   everything but managing owners
//   editor  records of every collection (read and write), logs and metrics; no schema, accounts
//           or keys
//   viewer  read-only: records, logs, metrics
enum class Role { Owner, Admin, Editor, Viewer };
QString roleName(Role role);
std::optional<Role> parseRole(QStringView name);
bool roleGrants(Role role, Permission permission);

} // namespace Outpost::Auth
