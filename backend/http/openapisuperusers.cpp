#include "../auth/superusers.h"
#include "openapiparts.h"

// The superuser accounts API (superuserscontroller.h): PocketBase's record routes for `_superusers`.
// The record's shape (the Superuser schema) is in openapiadmin.cpp, beside the auth operations.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

namespace {

QJsonObject roleSchema()
{
    return enumOf({u"owner"_s, u"admin"_s, u"editor"_s, u"viewer"_s},
                  u"owner: everything, including other owners; admin: everything but owners; editor: the records "
                  "of every collection, logs and metrics; viewer: reads records, logs and metrics."_s);
}

QJsonObject password(const QString &description)
{
    return with(with(typed(u"string"_s, description), u"format"_s, u"password"_s), u"minLength"_s, 8);
}

QJsonObject accountInput(const QString &passwordNote)
{
    return {{u"email"_s, with(typed(u"string"_s, u"Trimmed; unique, case-insensitively."_s), u"format"_s, u"email"_s)},
            {u"password"_s, password(u"At least 8 characters (at most 1024 bytes). "_s + passwordNote)},
            {u"passwordConfirm"_s, with(typed(u"string"_s, u"The password again."_s), u"format"_s, u"password"_s)},
            {u"role"_s, schemaRef(u"SuperuserRole"_s)}};
}

// 403 and 409 as these operations answer them.
QJsonObject forbidden()
{
    return problemResponse(u"The caller may not manage accounts (a role or a key without `accounts:manage`), or "
                           "is not an owner and the operation concerns an owner's account or grants the owner "
                           "role (an API key counts as an admin)."_s);
}

QJsonObject lastOwner(const QString &what)
{
    return problemResponse(u"The account is the last owner: %1 would leave none. Make another account an owner "
                           "first."_s.arg(what));
}

} // namespace

void addSuperuserSchemas(QJsonObject &schemas)
{
    schemas.insert(u"SuperuserRole"_s, roleSchema());
    schemas.insert(u"SuperuserList"_s, listSchema(schemaRef(u"Superuser"_s), u"A page of superuser accounts."_s));
    schemas.insert(u"NewSuperuser"_s,
                   objectSchema(accountInput({}), {u"email"_s, u"password"_s, u"passwordConfirm"_s, u"role"_s},
                                u"A new superuser account."_s));
    schemas.insert(u"SuperuserPatch"_s,
                   objectSchema(accountInput(u"Blank: unchanged. A new password ends the account's sessions."_s), {},
                                u"The members to change. A new role also ends the account's sessions (its tokens "
                                "stop working); `passwordConfirm` is needed with `password`."_s));
}

void addSuperuserPaths(QJsonObject &paths)
{
    const QString records
        = u"/api/collections/"_s + QString::fromLatin1(Auth::Superusers::kCollectionName) + u"/records"_s;
    const QString record = records + u"/{id}"_s;
    const QJsonArray id {parameter(u"id"_s, u"path"_s, with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern),
                                   u"The account's id."_s)};
    const QJsonObject perPage
        = parameter(u"perPage"_s, u"query"_s, with(bounded(u"integer"_s, 1, 500), u"default"_s, 30),
                    u"Accounts per page; more than 500 is taken as 500."_s);
    const QString audited = u" Recorded in the audit log."_s;
    const QList<Operation> operations {
        {.method = u"get"_s,
         .path = records,
         .id = u"listSuperusers"_s,
         .summary = u"List superusers"_s,
         .description = u"A page of superuser accounts, oldest first unless `sort` says otherwise; `sort` and "
                        "`filter` take the fields `id`, `email`, `role`, `created` and `updated`."_s,
         .parameters = parameterRefs({u"Page"_s, u"Sort"_s, u"Filter"_s, u"SkipTotal"_s}, {perPage}),
         .responses
         = {{u"200"_s, jsonResponse(u"A page of accounts."_s, schemaRef(u"SuperuserList"_s))}, {u"403"_s, forbidden()}},
         .shared = {400}},
        {.method = u"post"_s,
         .path = records,
         .id = u"createSuperuser"_s,
         .summary = u"Create a superuser"_s,
         .description = u"Creates an account with the role given. Only an owner may create an owner."_s + audited,
         .requestBody = jsonBody(schemaRef(u"NewSuperuser"_s), u"The account."_s),
         .responses
         = {{u"200"_s, jsonResponse(u"The new account."_s, schemaRef(u"Superuser"_s))}, {u"403"_s, forbidden()}},
         .shared = {400, 415}},
        {.method = u"get"_s,
         .path = record,
         .id = u"getSuperuser"_s,
         .summary = u"View a superuser"_s,
         .description = u"One superuser account."_s,
         .parameters = id,
         .responses = {{u"200"_s, jsonResponse(u"The account."_s, schemaRef(u"Superuser"_s))}, {u"403"_s, forbidden()}},
         .shared = {404}},
        {.method = u"patch"_s,
         .path = record,
         .id = u"updateSuperuser"_s,
         .summary = u"Update a superuser"_s,
         .description = u"Changes the email, the role or the password. A new role or password ends the account's "
                        "sessions: its tokens stop working, and the next request needs a new login. Only an owner "
                        "may change an owner's account or grant the owner role."_s
             + audited,
         .parameters = id,
         .requestBody = jsonBody(schemaRef(u"SuperuserPatch"_s), u"The members to change."_s),
         .responses = {{u"200"_s, jsonResponse(u"The updated account."_s, schemaRef(u"Superuser"_s))},
                       {u"403"_s, forbidden()},
                       {u"409"_s, lastOwner(u"another role"_s)}},
         .shared = {400, 404, 415}},
        {.method = u"delete"_s,
         .path = record,
         .id = u"deleteSuperuser"_s,
         .summary = u"Delete a superuser"_s,
         .description = u"Deletes the account; its tokens stop working. Only an owner may delete an owner."_s + audited,
         .parameters = id,
         .responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Deleted."_s}}},
                       {u"403"_s, forbidden()},
                       {u"409"_s, lastOwner(u"deleting it"_s)}},
         .shared = {404}},
    };
    addOperations(paths, operations, u"superusers"_s, Auth::Permission::AccountsManage);
}

} // namespace Outpost::Http::OpenApi
