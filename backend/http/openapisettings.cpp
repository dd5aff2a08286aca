#include "openapiparts.h"

// The settings API (settingscontroller.h): the rate limits in force.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

void addSettingsSchemas(QJsonObject &schemas)
{
    const QJsonObject rule {
        {u"limit"_s, bounded(u"integer"_s, 1, 1000000)},
        {u"window"_s,
         with(bounded(u"integer"_s, 1, 86400), u"description"_s, u"Seconds in which `limit` requests refill."_s)}};
    const QJsonObject ruleOrOff {
        {u"oneOf"_s, QJsonArray {objectSchema(rule, rule.keys()), QJsonObject {{u"type"_s, u"null"_s}}}},
        {u"description"_s,
         u"A token bucket per caller: `limit` requests at once, refilled over `window` "
         "seconds; null: no limit."_s}};
    QJsonObject groups;
    for (const QString &group : {u"auth"_s, u"read"_s, u"write"_s, u"admin"_s})
        groups.insert(group, ruleOrOff);
    const QJsonObject groupsSchema = objectSchema(
        groups, {},
        u"The rule of each route group: `auth` (logins, token exchange, logout), `read` (records read), "
        "`write` (records written), `admin` (every route that needs a management permission). The health "
        "check is never limited."_s);
    schemas.insert(u"RateLimitGroups"_s, groupsSchema);
    const QJsonObject state {{u"groups"_s, schemaRef(u"RateLimitGroups"_s)},
                             {u"source"_s, enumOf({u"config"_s, u"api"_s}, u"Where the rules in force come from."_s)},
                             {u"config"_s,
                              with(schemaRef(u"RateLimitGroups"_s), u"description"_s,
                                   u"The config file's rules (`rate_limits`), which DELETE restores."_s)}};
    schemas.insert(u"RateLimits"_s, objectSchema(state, state.keys(), u"The rate limits in force."_s));
    const QJsonObject update {{u"groups"_s, schemaRef(u"RateLimitGroups"_s)}};
    schemas.insert(u"RateLimitsUpdate"_s, objectSchema(update, update.keys()));
}

void addSettingsPaths(QJsonObject &paths)
{
    const QString path = u"/api/settings/rate-limits"_s;
    const QJsonObject ok = jsonResponse(u"The rate limits now in force."_s, schemaRef(u"RateLimits"_s));
    const QList<Operation> operations {
        {.method = u"get"_s,
         .path = path,
         .id = u"getRateLimits"_s,
         .summary = u"The rate limits in force"_s,
         .description = u"Each route group's rule, whether it comes from the config file or the API, and the "
                        "config file's rules."_s,
         .responses = {{u"200"_s, ok}}},
        {.method = u"put"_s,
         .path = path,
         .id = u"setRateLimits"_s,
         .summary = u"Replace the rate limits"_s,
         .description = u"Replaces every group's rule (a group left out is off). Takes effect on the next "
                        "request on every network thread, persists across restarts, and is recorded in the "
                        "audit log (`settings.update`)."_s,
         .requestBody = jsonBody(schemaRef(u"RateLimitsUpdate"_s), u"The new rules."_s),
         .responses = {{u"200"_s, ok}},
         .shared = {400, 415}},
        {.method = u"delete"_s,
         .path = path,
         .id = u"resetRateLimits"_s,
         .summary = u"Return to the config file's rate limits"_s,
         .description = u"Drops the rules set through the API; the config file's apply again (audited)."_s,
         .responses = {{u"200"_s, ok}}},
    };
    addOperations(paths, operations, u"settings"_s, Auth::Permission::SettingsManage);
}

} // namespace Outpost::Http::OpenApi
