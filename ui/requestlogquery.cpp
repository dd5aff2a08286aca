#include "requestlogquery.h"

#include <QRegularExpression>
#include <QStringList>
#include <QVariant>

#include "store/sqlite.h"

namespace Outpost::Console {

namespace {

constexpr char kColumns[]
    = "id, time, method, path, route, status, duration_us, client, caller, request_id, bytes_in, bytes_out";

struct Where
{
    QStringList conditions;
    QVariantList args;

    void add(const char *condition, std::initializer_list<QVariant> values)
    {
        conditions.append(QLatin1String(condition));
        args.append(QVariantList(values));
    }
    QString sql() const
    {
        return conditions.isEmpty() ? QString() : QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND "));
    }
};

Where whereFor(const RequestLogFilter &filter)
{
    Where w;
    if (filter.statusMin > 0 || filter.statusMax > 0)
        w.add("status BETWEEN ? AND ?", {filter.statusMin, filter.statusMax});
    if (!filter.route.isEmpty())
        w.add("route = ?", {filter.route});
    if (!filter.caller.isEmpty())
        w.add("(caller = ? OR substr(caller, 1, ?) = ?)",
              {filter.caller, qint64(filter.caller.size() + 1), QString(filter.caller + u':')});
    if (filter.fromMs >= 0)
        w.add("time >= ?", {filter.fromMs});
    if (filter.toMs >= 0)
        w.add("time < ?", {filter.toMs});
    return w;
}

Result<Store::Statement *> prepare(Store::Database &db, const QString &sql, const QVariantList &args)
{
    auto statement = db.cachedQuery(sql);
    if (!statement)
        return statement.error();
    for (int i = 0; i < args.size(); ++i)
        (*statement)->bind(i + 1, args[i]);
    return *statement;
}

} // namespace

bool RequestLogFilter::isEmpty() const
{
    return *this == RequestLogFilter {};
}

std::optional<std::pair<int, int>> RequestLogFilter::parseStatus(QStringView text)
{
    const QString t = text.trimmed().toString().toLower();
    if (t.isEmpty() || t.startsWith(u"any"))
        return std::pair {0, 0};
    static const QRegularExpression statusClass(QStringLiteral("^([1-5])xx$"));
    static const QRegularExpression code(QStringLiteral("^[1-5][0-9][0-9]$"));
    if (const auto m = statusClass.match(t); m.hasMatch()) {
        const int c = m.capturedView(1).toInt();
        return std::pair {c * 100, c * 100 + 99};
    }
    if (code.match(t).hasMatch())
        return std::pair {t.toInt(), t.toInt()};
    return std::nullopt;
}

Result<QList<RequestLogEntry>> readRequestLogPage(Store::Database &db, const RequestLogFilter &filter,
                                                  const std::optional<RequestLogCursor> &after, int limit)
{
    Where where = whereFor(filter);
    if (after) // a row value: SQLite walks the index from this point on (no OR of two ranges)
        where.add("(time, id) < (?, ?)", {after->timeMs, after->id});
    where.args.append(qint64(limit));
    const QString sql = QStringLiteral("SELECT %1 FROM requests%2 ORDER BY time DESC, id DESC LIMIT ?")
                            .arg(QLatin1String(kColumns), where.sql());
    auto statement = prepare(db, sql, where.args);
    if (!statement)
        return statement.error();
    Store::Statement &s = **statement;
    Store::ResetOnExit reset(s);
    QList<RequestLogEntry> rows;
    rows.reserve(limit);
    for (;;) {
        auto row = s.step();
        if (!row)
            return row.error();
        if (!*row)
            return rows;
        rows.append(RequestLogEntry {s.int64(0), s.int64(1), s.text(2), s.text(3), s.text(4), int(s.int64(5)),
                                     s.int64(6), s.text(7), s.text(8), s.text(9), s.int64(10), s.int64(11)});
    }
}

Result<qint64> countRequestLog(Store::Database &db, const RequestLogFilter &filter, qint64 cap)
{
    Where where = whereFor(filter);
    where.args.append(cap + 1);
    const QString sql = QStringLiteral("SELECT count(*) FROM (SELECT 1 FROM requests%1 LIMIT ?)").arg(where.sql());
    auto statement = prepare(db, sql, where.args);
    if (!statement)
        return statement.error();
    Store::Statement &s = **statement;
    Store::ResetOnExit reset(s);
    auto row = s.step();
    if (!row)
        return row.error();
    return *row ? s.int64(0) : 0;
}

} // namespace Outpost::Console
