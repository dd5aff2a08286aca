#include "scopes.h"

#include <QSet>
#include <optional>

#include "../data/filter.h"

namespace Outpost::Auth {

namespace {

struct ScopeName
{
    QLatin1StringView name;
    Permission permission;
};

constexpr ScopeName kScopeNames[] = {
    {QLatin1StringView("records:read"), Permission::RecordsRead},
    {QLatin1StringView("records:write"), Permission::RecordsWrite},
    {QLatin1StringView("collections:manage"), Permission::CollectionsManage},
    {QLatin1StringView("accounts:manage"), Permission::AccountsManage},
    {QLatin1StringView("keys:manage"), Permission::KeysManage},
    {QLatin1StringView("logs:read"), Permission::LogsRead},
    {QLatin1StringView("metrics:read"), Permission::MetricsRead},
    {QLatin1StringView("settings:manage"), Permission::SettingsManage},
};

bool isRecordsPermission(Permission p)
{
    return p == Permission::RecordsRead || p == Permission::RecordsWrite;
}

// One scope: its permission and, for a per-collection records scope, the collection's name.
struct Grant
{
    Permission permission;
    QStringView collection; // empty: every collection
};

// `scope` must already be normalised (lower-case "area:action" before any collection name).
std::optional<Grant> splitScope(QStringView scope)
{
    const qsizetype colon = scope.indexOf(u':');
    if (colon < 0)
        return std::nullopt;
    const qsizetype second = scope.indexOf(u':', colon + 1);
    const QStringView base = second < 0 ? scope : scope.first(second);
    for (const ScopeName &s : kScopeNames) {
        if (base != s.name)
            continue;
        if (second < 0)
            return Grant {s.permission, {}};
        if (!isRecordsPermission(s.permission))
            return std::nullopt;
        return Grant {s.permission, scope.sliced(second + 1)};
    }
    return std::nullopt;
}

Error badScope(const QString &scope, qsizetype index, const QString &why)
{
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Invalid scope \"%1\": %2").arg(scope, why),
                     QJsonObject {{QStringLiteral("scope"), scope}, {QStringLiteral("index"), qint64(index)}});
}

} // namespace

Result<Scopes> Scopes::parse(const QStringList &scopes)
{
    if (scopes.isEmpty())
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("At least one scope is required."));
    Scopes result;
    QSet<QString> seen; // case-folded, since collection names compare case-insensitively
    for (qsizetype i = 0; i < scopes.size(); ++i) {
        const QString scope = scopes[i].trimmed();
        const qsizetype second = scope.indexOf(u':', scope.indexOf(u':') + 1);
        const QString normalised = second < 0 ? scope.toLower() : scope.first(second).toLower() + scope.sliced(second);
        const auto grant = splitScope(normalised);
        if (!grant)
            return badScope(scopes[i], i, QStringLiteral("unknown scope."));
        if (second >= 0 && !Data::isValidIdentifier(grant->collection))
            return badScope(scopes[i], i, QStringLiteral("invalid collection name."));
        const QString folded = normalised.toLower();
        if (seen.contains(folded))
            return badScope(scopes[i], i, QStringLiteral("listed twice."));
        seen.insert(folded);
        result.m_scopes.append(normalised);
    }
    return result;
}

bool Scopes::grants(Permission permission, const QString &collection) const
{
    for (const QString &scope : m_scopes) {
        const auto grant = splitScope(scope);
        if (!grant || grant->permission != permission)
            continue;
        if (grant->collection.isEmpty() || !isRecordsPermission(permission)
            || grant->collection.compare(collection, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool Scopes::grantsAny(Permission permission) const
{
    for (const QString &scope : m_scopes) {
        const auto grant = splitScope(scope);
        if (grant && grant->permission == permission)
            return true;
    }
    return false;
}

std::optional<QString> Scopes::firstNotHeld(const QStringList &requested) const
{
    for (const QString &raw : requested) {
        const QString scope = raw.trimmed();
        const QStringList parts = scope.split(u':');
        const bool narrowed = parts.size() == 3 && m_scopes.contains(parts[0] + u':' + parts[1], Qt::CaseInsensitive);
        if (!m_scopes.contains(scope, Qt::CaseInsensitive) && !narrowed)
            return scope;
    }
    return std::nullopt;
}

QStringList Scopes::toStrings() const
{
    return m_scopes;
}

QString permissionName(Permission permission)
{
    for (const ScopeName &s : kScopeNames) {
        if (s.permission == permission)
            return s.name;
    }
    return QStringLiteral("unknown");
}

QString roleName(Role role)
{
    switch (role) {
    case Role::Owner:
        return QStringLiteral("owner");
    case Role::Admin:
        return QStringLiteral("admin");
    case Role::Editor:
        return QStringLiteral("editor");
    case Role::Viewer:
        break;
    }
    return QStringLiteral("viewer");
}

std::optional<Role> parseRole(QStringView name)
{
    for (Role r : {Role::Owner, Role::Admin, Role::Editor, Role::Viewer})
        if (name.compare(roleName(r), Qt::CaseInsensitive) == 0)
            return r;
    return std::nullopt;
}

bool roleGrants(Role role, Permission permission)
{
    switch (role) {
    case Role::Owner:
    case Role::Admin:
        return true;
    case Role::Editor:
        return permission == Permission::RecordsRead || permission == Permission::RecordsWrite
            || permission == Permission::LogsRead || permission == Permission::MetricsRead;
    case Role::Viewer:
        break;
    }
    return permission == Permission::RecordsRead || permission == Permission::LogsRead
        || permission == Permission::MetricsRead;
}

} // namespace Outpost::Auth
