#include "openapiparts.h"

// The logs API (logscontroller.h): the audit log and the request log, read-only.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

void addLogSchemas(QJsonObject &schemas)
{
    const QJsonObject details {
        {u"collection"_s, typed(u"string"_s, u"A record's collection (its name)."_s)},
        {u"before"_s,
         nullable(u"object"_s,
                  u"The stored values before the change: a record's fields (hidden ones included; never an "
                  "account's password hash or token key) or a collection's definition; null for a create."_s)},
        {u"after"_s, nullable(u"object"_s, u"The stored values after the change, as `before`; null for a delete."_s)},
        {u"cause"_s,
         typed(u"string"_s,
               u"For a change a delete made to another record (a cascade, or a removed reference): that "
               "delete's `COLLECTION/RECORDID`."_s)},
        {u"count"_s, typed(u"integer"_s, u"An import's records stored."_s)},
        {u"failed"_s, typed(u"integer"_s, u"An import's rows that failed (with `onError=skip`)."_s)},
        {u"firstId"_s, typed(u"string"_s, u"The first record an import stored."_s)},
        {u"lastId"_s, typed(u"string"_s, u"The last record an import stored."_s)},
        {u"onError"_s, enumOf({u"abort"_s, u"skip"_s}, u"An import's mode."_s)}};
    const QJsonObject entry {
        {u"id"_s, with(bounded(u"integer"_s, 1), u"description"_s, u"Increases with every entry."_s)},
        {u"time"_s, dateString(u"When it happened (UTC)."_s)},
        {u"actor"_s,
         typed(u"string"_s,
               u"Who acted: `superuser:ID`, `apikey:ID`, `user:COLLECTION:ID`, `guest` (a record change an "
               "open rule allowed), `cli`, `local` (the server itself, e.g. the `users` collection made at the "
               "first start), or for a login the email address tried."_s)},
        {u"action"_s,
         typed(u"string"_s,
               u"What was done: `auth.login`, `superuser.create`, `superuser.update`, `superuser.delete`, "
               "`apikey.create`, `apikey.update`, `apikey.revoke` or `apikey.rotate`; `record.create`, "
               "`record.update`, `record.delete` (one entry per record, also for batches and for what a "
               "delete's relations do to other records), `record.import` (one entry per import); "
               "`collection.create`, `collection.update` or `collection.delete`."_s)},
        {u"target"_s,
         typed(u"string"_s,
               u"What it was done to: `_superusers` for a login, `_superusers/ID` for a superuser account "
               "(the entry's `details` hold its email and role `before` and `after` the change), the API "
               "key's id, `COLLECTION/RECORDID` for a record, or the collection's name for an import and a "
               "collection change (after a rename, the new name)."_s)},
        {u"address"_s,
         typed(u"string"_s,
               u"The client address of a login, a superuser account change, a record change or a collection "
               "change (`local` from the command line and the server itself); empty for the other actions."_s)},
        {u"success"_s, typed(u"boolean"_s, u"False for a failed login."_s)},
        {u"details"_s,
         objectSchema(details, {}, u"What the action changed; `{}` when there is nothing more to say."_s)}};
    schemas.insert(u"AuditEntry"_s, objectSchema(entry, entry.keys(), u"One audit log entry."_s));
    schemas.insert(u"AuditEntryList"_s, listSchema(schemaRef(u"AuditEntry"_s), u"A page of audit entries."_s));

    const QJsonObject request {
        {u"id"_s, with(bounded(u"integer"_s, 1), u"description"_s, u"Increases with every entry."_s)},
        {u"time"_s, dateString(u"When the request's head was dispatched (UTC)."_s)},
        {u"timeMs"_s, typed(u"integer"_s, u"The same instant in Unix milliseconds."_s)},
        {u"method"_s,
         enumOf({u"GET"_s, u"HEAD"_s, u"POST"_s, u"PUT"_s, u"PATCH"_s, u"DELETE"_s, u"OPTIONS"_s},
                u"The request method."_s)},
        {u"path"_s,
         typed(u"string"_s,
               u"The path as sent (percent-encoded), without the query string: query strings can carry "
               "secrets and are never logged."_s)},
        {u"route"_s,
         typed(u"string"_s,
               u"The route the path matched, e.g. `/api/collections/{c}/records`; `(unmatched)` when none did."_s)},
        {u"status"_s, with(bounded(u"integer"_s, 100, 599), u"description"_s, u"The response's status code."_s)},
        {u"durationUs"_s,
         with(bounded(u"integer"_s, 0), u"description"_s,
              u"Microseconds from dispatch to the response written (for a streamed one, to its end)."_s)},
        {u"client"_s,
         typed(u"string"_s,
               u"The client address: the peer's, or what `X-Forwarded-For` says when the peer is one of the "
               "server's `trusted_proxies`."_s)},
        {u"caller"_s,
         typed(u"string"_s,
               u"Who called, as the server identified them: `guest`, `apikey:ID`, `superuser:ID` or "
               "`user:COLLECTION:ID`."_s)},
        {u"requestId"_s,
         typed(u"string"_s,
               u"The response's `X-Request-Id`: the client's own when it sent one of 1 to 64 characters of "
               "`A-Za-z0-9._-`, otherwise one the server made."_s)},
        {u"bytesIn"_s, with(bounded(u"integer"_s, 0), u"description"_s, u"Bytes of the request's head and body."_s)},
        {u"bytesOut"_s, with(bounded(u"integer"_s, 0), u"description"_s, u"Bytes of the response as written."_s)}};
    schemas.insert(u"RequestEntry"_s, objectSchema(request, request.keys(), u"One request log entry."_s));
    schemas.insert(u"RequestEntryList"_s,
                   listSchema(schemaRef(u"RequestEntry"_s), u"A page of request log entries."_s));
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
                        "change, every record created, updated or deleted and every collection change, with the "
                        "values before and after in `details`. Newest first unless `sort` says otherwise; `sort` "
                        "and `filter` take the fields `id`, `time`, `actor`, `action`, `target`, `address` and "
                        "`success`, and paths into `details` (`details.collection`, `details.after.title`). Every "
                        "change answered before the request is listed. The log cannot be changed through the API; "
                        "entries older than the server's `audit_retention_days` are deleted."_s,
         .parameters = parameterRefs({u"Page"_s, u"Sort"_s, u"Filter"_s, u"SkipTotal"_s}, {perPage}),
         .responses = {{u"200"_s, jsonResponse(u"A page of audit entries."_s, schemaRef(u"AuditEntryList"_s))}},
         .shared = {400}},
        {.method = u"get"_s,
         .path = u"/api/logs/requests"_s,
         .id = u"listRequestEntries"_s,
         .summary = u"List request log entries"_s,
         .description = u"A page of the request log: every request the server answered, with its route, status, "
                        "duration, client, caller, request id and bytes. Highest `id` (latest logged) first unless "
                        "`sort` says otherwise; `sort` and `filter` take every field of an entry. `time` compares "
                        "as PocketBase date text (`time >= @todayStart`); `timeMs` compares Unix milliseconds and "
                        "is the fast way to a time range of a large log. Every request answered before this one is "
                        "listed, unless the log had to drop it: when requests arrive faster than the log can "
                        "write them, the server drops entries rather than queue them without bound (counted in "
                        "`GET /metrics` as `outpost_log_entries_dropped_total{log=\"request\"}`). Entries older "
                        "than the server's `request_log_retention_days`, and the oldest once the log takes more "
                        "than `request_log_max_mb`, are deleted."_s,
         .parameters = parameterRefs({u"Page"_s, u"Sort"_s, u"Filter"_s, u"SkipTotal"_s}, {perPage}),
         .responses = {{u"200"_s, jsonResponse(u"A page of request log entries."_s, schemaRef(u"RequestEntryList"_s))}},
         .shared = {400}},
    };
    addOperations(paths, operations, u"logs"_s, Auth::Permission::LogsRead);
}

} // namespace Outpost::Http::OpenApi
