#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/sqlite.h"
#include "collections.h"
#include "filter.h"
#include "recordchange.h"

namespace Outpost::Data {

// Who asks, and the @request.* values their rules see.
struct Access
{
    bool superuser = false; // superusers pass every rule and see hidden fields
    FilterContext context; // context.auth is the caller's record ({} for guests)
};

// How a record response is shaped: `fields` picks keys ("id,title,expand.author.name", "*",
// "body:excerpt(200,true)"), `expand` follows relation fields ("author,comments.user").
struct Shape
{
    QString fields;
    QString expand;
};

struct ListQuery
{
    int page = 1;
    int perPage = 30; // 1..kMaxPerPage
    QString sort; // "-created,title", "@random", "@rowid"
    QString filter;
    bool skipTotal = false;
    Shape shape;
};

constexpr int kDefaultPerPage = 30;
constexpr int kMaxPerPage = 1000;
constexpr int kMaxExpandDepth = 6;

// Records of base collections, in PocketBase's wire shape:
//   {collectionId, collectionName, id, <fields>, created, updated, expand?}
// Every function takes the connection to use, so the caller picks the thread and transaction:
// list()/view() run on any connection (a network thread's own reader); create()/update()/remove()
// must run inside a write transaction (Store::submitWrite/write), which they never commit.
//
// Rules (PocketBase's): a null rule admits superusers only (PermissionDenied, 403, "Only superusers
// can perform this action."); "" admits anyone; an expression is a filter the record must match
// with the caller's context. A record that a view/update/delete rule hides is NotFound, as if it
// did not exist; a list silently leaves hidden records out, of the items and of the total. A
// failed create rule is InvalidArgument "Failed to create record." and nothing is stored.
//
// Errors carry PocketBase's details {"fields": {name: {code, message}}} for field problems.
// Stateless apart from the clock: thread-safe.
class Records
{
public:
    explicit Records(const Clock &clock);

    Result<QJsonObject> list(Store::Database &db, const CollectionSet &set, const Collection &c, const ListQuery &query,
                             const Access &access) const;
    Result<QJsonObject> view(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                             const Shape &shape, const Access &access) const;
    // view() as the JSON text of the answer (what QJsonDocument would write for it). Without
    // `fields` or `expand` the text is written straight from the row: the by-id read is the
    // hottest route, and building a QJsonObject and serialising it was a sixth of its CPU time.
    Result<QByteArray> viewJson(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                                const Shape &shape, const Access &access) const;

    // `body` is the submitted JSON object. Returns the stored record (shaped).
    //
    // With `changes`, a successful write appends what it changed, for the audit log (RecordChange):
    // a create the row its INSERT returned, an update and a delete also the row as it was, read by
    // the rule check's by-id select; a delete also every record its cascades and removed references
    // changed. A failed write appends nothing. The changes are only true once the transaction
    // commits: audit them from the write's `done`, and drop them when the caller rolls back a
    // savepoint around a successful call.
    Result<QJsonObject> create(Store::Database &db, const CollectionSet &set, const Collection &c,
                               const QJsonObject &body, const Shape &shape, const Access &access,
                               RecordChanges *changes = nullptr) const;
    Result<QJsonObject> update(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                               const QJsonObject &body, const Shape &shape, const Access &access,
                               RecordChanges *changes = nullptr) const;
    // Deletes the record and applies the relations that point at it: cascadeDelete fields delete
    // their records too; other references are removed (a required single reference refuses the
    // delete with InvalidArgument).
    Status remove(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                  const Access &access, RecordChanges *changes = nullptr) const;

    // Checks the create rule's first half before any work: PermissionDenied when the rule is null
    // and the caller is not a superuser. (The same for the other actions.)
    static Status checkRuleExists(const std::optional<QString> &rule, const Access &access);

    // Streams every record the list rule lets `access` see, in `sort` order (default rowid),
    // optionally filtered, to `sink` (stops early when sink returns false). For exports.
    Status forEach(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &filter,
                   const QString &sort, const Access &access,
                   const std::function<bool(const QJsonObject &)> &sink) const;

private:
    // The row of `id` that the view rule lets `access` see, handed to `take` while it is current.
    Status viewRow(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                   const Access &access, const std::function<void(const Store::Statement &)> &take) const;
    // `asStored`, when given, gets the record as stored (every field but the secrets), unshaped.
    Result<QJsonObject> readBack(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                                 const Shape &shape, const Access &access, QJsonObject *asStored = nullptr) const;

    const Clock &m_clock;
};

// The resolver that filters, sorts and rules of `c` use: field names of `c`, paths through
// relation fields into the collections of `set`, paths into json fields. Hidden fields resolve
// only with `allowHidden`. Borrows `set` and `c`.
std::unique_ptr<FieldResolver> recordResolver(const CollectionSet &set, const Collection &c, bool allowHidden);

// Applies a `fields` specification to a record (or any JSON object); exposed for tests.
Result<QJsonObject> pickFields(const QJsonObject &record, const QString &fields);

} // namespace Outpost::Data
