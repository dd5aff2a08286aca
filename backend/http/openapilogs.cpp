#include "openapiparts.h"

// The logs API (logscontroller.h): the audit log, read-only.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

void addLogSchemas(QJsonObject &schemas)
{
    const QJsonObject entry {
        {u"id"_s, with(bounded(u"integer"_s, 1), u"description"_s, u"Increases with every entry."_s)},
        {u"time"_s, dateString(u"When it happened (UTC)."_s)},
        {u"actor"_s,
         typed(u"string"_s,
               u"Who acted: `superuser:ID`, `apikey:ID` or `cli`, or for a login the email address tried."_s)},
        {u"action"_s,
         typed(u"string"_s,
               u"What was done: `auth.login`, `superuser.create`, `apikey.create`, `apikey.update`, "
               "`apikey.revoke` or `apikey.rotate`."_s)},
        {u"target"_s, typed(u"string"_s, u"What it was done to: `_superusers`, or the API key's id."_s)},
        {u"address"_s, typed(u"string"_s, u"The client address of a login; empty for the other actions."_s)},
        {u"success"_s, typed(u"boolean"_s, u"False for a failed login."_s)}};
    schemas.insert(u"AuditEntry"_s, objectSchema(entry, entry.keys(), u"One audit log entry."_s));
    schemas.insert(u"AuditEntryList"_s, listSchema(schemaRef(u"AuditEntry"_s), u"A page of audit entries."_s));
}

void addLogPaths(QJsonObject &paths)
{
    const QJsonObject perPage
        = parameter(u"perPage"_s, u"query"_s, with(bounded(u"integer"_s, 1, 500), u"default"_s, 30),
                    u"Entries per page; more than 500 is taken as 500."_s);
    const QList<Operation> operations {
        {.method = u"get"_s,
         .path = u"/api/logs/audit"_s,
         .id = u"listAuditEntries"_s,
         .summary = u"List audit entries"_s,
         .description = u"A page of the audit log: logins (failed ones too), superuser creation and every API key "
                        "change. Newest first unless `sort` says otherwise; `sort` and `filter` take the fields "
                        "`id`, `time`, `actor`, `action`, `target`, `address` and `success`. The log cannot be "
                        "changed through the API; entries older than the server's `audit_retention_days` are "
                        "deleted."_s,
         .parameters = parameterRefs({u"Page"_s, u"Sort"_s, u"Filter"_s, u"SkipTotal"_s}, {perPage}),
         .responses = {{u"200"_s, jsonResponse(u"A page of audit entries."_s, schemaRef(u"AuditEntryList"_s))}},
         .shared = {400}},
    };
    addOperations(paths, operations, u"logs"_s, Auth::Permission::LogsRead);
}

} // namespace Outpost::Http::OpenApi
