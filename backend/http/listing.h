#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <functional>
#include <optional>

#include "../core/result.h"
#include "../data/filter.h"
#include "router.h"

namespace Outpost::Store {
class Statement;
}

namespace Outpost::Http {

// PocketBase's list parameters, as every list route reads them. Records pass them on to
// Data::Records::list; the lists of plain tables (collections, the audit log) use listTable().
struct ListParams
{
    int page = 1;
    int perPage = 30;
    QString sort; // "-time,actor"; empty: the listing's default
    QString filter; // a filter expression (data/filter.h); empty: every row
    bool skipTotal = false; // totalItems and totalPages are then -1
};

// Reads page, perPage, sort, filter and skipTotal from the request's query, as PocketBase does:
// page and perPage must be integers (else the 400 to answer, naming the parameter, is returned),
// values below 1 take the defaults (1 and `defaultPerPage`), perPage above `maxPerPage` is capped;
// skipTotal is on for "1" or "true".
std::optional<Response> parseListParams(const Request &request, int defaultPerPage, int maxPerPage, ListParams &out);

// A table listed page by page. All the SQL text here is fixed by the caller, never request text.
struct TableListing
{
    QString columns; // what to select, e.g. "id, time"
    QString table;
    const Data::FieldResolver *resolver = nullptr; // fields of filters and sorts; not owned
    QString defaultSort; // used when the request gives none, e.g. "-time,-id"
    QString tieBreak; // SQL ending every ORDER BY, so that pages never overlap, e.g. "id DESC"
    // One row of the statement as an item; an undefined value leaves the row out.
    std::function<QJsonValue(const Store::Statement &row)> item;
};

// One page as PocketBase answers lists: {page, perPage, totalItems, totalPages, items}. Sort
// fields and filter paths go through the listing's resolver; filter values are bound parameters.
// Errors: InvalidArgument for a bad sort ("Invalid sort field ...") or filter ("Invalid filter: at
// position N: ...", details {position}), else the database's. Runs on whatever thread owns `db`.
Result<QJsonObject> listTable(Store::Database &db, const TableListing &listing, const ListParams &params,
                              const Data::FilterContext &context);

} // namespace Outpost::Http
