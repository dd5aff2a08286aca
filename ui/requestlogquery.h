#pragma once

#include <QList>
#include <QString>
#include <optional>
#include <utility>

#include "core/result.h"

namespace Outpost::Store {
class Database;
}

namespace Outpost::Console {

// One row of logs.db's `requests` table (migration 4 of logs.db).
struct RequestLogEntry
{
    qint64 id = 0;
    qint64 timeMs = 0; // Unix ms
    QString method;
    QString path;
    QString route; // the route template that answered
    int status = 0;
    qint64 durationUs = 0;
    QString client; // the client's address
    QString caller; // "guest", "apikey:ID", "superuser:ID", "user:COLLECTION:ID"
    QString requestId;
    qint64 bytesIn = 0;
    qint64 bytesOut = 0;
};

// What the Logs page shows; every part is optional and the parts combine with AND.
struct RequestLogFilter
{
    int statusMin = 0; // both 0: any status; else statusMin <= status <= statusMax
    int statusMax = 0;
    QString route; // exact template; empty: any
    // A caller or a prefix of one, matched at ':' boundaries: "apikey" is every key, "apikey:ID"
    // one key, "user:posts" every user of `posts`. Empty: any.
    QString caller;
    qint64 fromMs = -1; // time >= fromMs; < 0: unbounded
    qint64 toMs = -1; // time < toMs; < 0: unbounded

    bool isEmpty() const;
    bool operator==(const RequestLogFilter &other) const = default;

    // "", "any…" → any; "4xx" → 400..499; "404" → 404..404; anything else: nullopt.
    static std::optional<std::pair<int, int>> parseStatus(QStringView text);
};

// Where the next page starts: after the row (timeMs, id) in newest-first order.
struct RequestLogCursor
{
    qint64 timeMs = 0;
    qint64 id = 0;
};

// Newest first: by time, then id, descending. The order follows the `requests_time` index, so a
// page is a walk along it that stops after `limit` matches, and a time range is a range of it
// (ordering by id would make SQLite sort every row of a time range for each page). Filters are
// bound parameters, never spliced into the SQL. The walk is bounded by `limit` matches, not by
// rows read: a filter that matches little reads much of the table. Run it off the GUI thread.
// Errors: Unavailable with SQLite's message (e.g. no `requests` table).
Result<QList<RequestLogEntry>> readRequestLogPage(Store::Database &db, const RequestLogFilter &filter,
                                                  const std::optional<RequestLogCursor> &after, int limit);

// How many rows match `filter`, counting no further than `cap` (returns at most cap + 1, meaning
// "more than cap"). Same cost rule as above.
Result<qint64> countRequestLog(Store::Database &db, const RequestLogFilter &filter, qint64 cap);

} // namespace Outpost::Console
