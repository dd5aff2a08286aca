#include "listing.h"

#include <QJsonArray>
#include <QUrl>

#include "../store/sqlite.h"

namespace Outpost::Http {

namespace {

// PocketBase reads page and perPage as 64-bit integers; past a billion they mean "the end" anyway.
std::optional<Response> intParam(const Request &request, const QString &name, int fallback, int &out)
{
    out = fallback;
    const QString text = request.query.queryItemValue(name, QUrl::FullyDecoded).trimmed();
    if (text.isEmpty())
        return std::nullopt;
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    if (!ok)
        return Response::problem(
            400, QStringLiteral("The %1 parameter must be an integer, not \"%2\".").arg(name, text),
            QJsonObject {{name,
                          QJsonObject {{QStringLiteral("code"), QStringLiteral("validation_invalid_int")},
                                       {QStringLiteral("message"), QStringLiteral("Must be an integer.")}}}});
    if (value > 0)
        out = int(qMin<qint64>(value, 1'000'000'000));
    return std::nullopt;
}

Result<QString> orderBy(const TableListing &listing, const QString &requested)
{
    const QString sort = requested.trimmed().isEmpty() ? listing.defaultSort : requested;
    QStringList terms;
    for (QString item : sort.split(u',', Qt::SkipEmptyParts)) {
        item = item.trimmed();
        const bool descending = item.startsWith(u'-');
        if (descending || item.startsWith(u'+'))
            item = item.mid(1).trimmed();
        const QStringList path = item.split(u'.');
        for (const QString &part : path)
            if (!Data::isValidIdentifier(part))
                return makeError(ErrorCode::InvalidArgument, QStringLiteral("Invalid sort field \"%1\".").arg(item));
        auto resolved = listing.resolver->resolve(path);
        if (!resolved)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("Invalid sort field \"%1\": %2.").arg(item, resolved.error().message));
        terms.append(resolved->sqlExpression + (descending ? QStringLiteral(" DESC") : QString()));
    }
    if (!listing.tieBreak.isEmpty())
        terms.append(listing.tieBreak);
    return terms.isEmpty() ? QString() : QString(QStringLiteral(" ORDER BY ") + terms.join(u','));
}

Result<Data::CompiledFilter> filterClause(const TableListing &listing, const QString &filter,
                                          const Data::FilterContext &context)
{
    if (filter.trimmed().isEmpty())
        return Data::CompiledFilter {};
    auto compiled = Data::compileRequestFilter(filter, *listing.resolver, context);
    if (!compiled)
        return compiled.error();
    compiled->sql = QStringLiteral(" WHERE ") + compiled->sql;
    return compiled;
}

Result<Store::Statement> prepareBound(Store::Database &db, const QString &sql, const QVariantList &params)
{
    auto s = db.prepare(sql.toUtf8().constData());
    if (!s)
        return s.error();
    for (qsizetype i = 0; i < params.size(); ++i)
        s->bind(int(i) + 1, params[i]);
    return s;
}

Result<qint64> countRows(Store::Database &db, const TableListing &listing, const Data::CompiledFilter &filter)
{
    auto count = prepareBound(db, QStringLiteral("SELECT COUNT(*) FROM ") + listing.table + filter.sql, filter.params);
    if (!count)
        return count.error();
    auto row = count->step();
    if (!row)
        return row.error();
    return count->int64(0);
}

} // namespace

std::optional<Response> parseListParams(const Request &request, int defaultPerPage, int maxPerPage, ListParams &out)
{
    if (auto bad = intParam(request, QStringLiteral("page"), 1, out.page))
        return bad;
    if (auto bad = intParam(request, QStringLiteral("perPage"), defaultPerPage, out.perPage))
        return bad;
    out.perPage = qMin(out.perPage, maxPerPage);
    out.sort = request.query.queryItemValue(QStringLiteral("sort"), QUrl::FullyDecoded);
    out.filter = request.query.queryItemValue(QStringLiteral("filter"), QUrl::FullyDecoded);
    const QString skipTotal = request.query.queryItemValue(QStringLiteral("skipTotal"), QUrl::FullyDecoded);
    out.skipTotal = skipTotal.trimmed() == u"1" || skipTotal.trimmed().compare(u"true", Qt::CaseInsensitive) == 0;
    return std::nullopt;
}

Result<QJsonObject> listTable(Store::Database &db, const TableListing &listing, const ListParams &params,
                              const Data::FilterContext &context)
{
    auto filter = filterClause(listing, params.filter, context);
    if (!filter)
        return filter.error();
    auto order = orderBy(listing, params.sort);
    if (!order)
        return order.error();
    QVariantList bound = filter->params;
    bound << qint64(params.perPage) << qint64(params.page - 1) * params.perPage;
    auto s = prepareBound(db,
                          QStringLiteral("SELECT ") + listing.columns + QStringLiteral(" FROM ") + listing.table
                              + filter->sql + *order + QStringLiteral(" LIMIT ? OFFSET ?"),
                          bound);
    if (!s)
        return s.error();
    QJsonArray items;
    for (;;) {
        auto row = s->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        if (const QJsonValue item = listing.item(*s); !item.isUndefined())
            items.append(item);
    }
    qint64 total = -1;
    if (!params.skipTotal) {
        auto counted = countRows(db, listing, *filter);
        if (!counted)
            return counted.error();
        total = *counted;
    }
    return QJsonObject {{QStringLiteral("page"), params.page},
                        {QStringLiteral("perPage"), params.perPage},
                        {QStringLiteral("totalItems"), total},
                        {QStringLiteral("totalPages"), total < 0 ? -1 : (total + params.perPage - 1) / params.perPage},
                        {QStringLiteral("items"), items}};
}

} // namespace Outpost::Http
