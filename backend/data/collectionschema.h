#pragma once

#include "../core/result.h"
#include "../store/sqlite.h"
#include "collection.h"

namespace Outpost::Data::Schema {

// The DDL side of collections. Every function runs statements on `db` and must be called inside
// the caller's write transaction (Store::write), which rolls everything back when one fails.
// Identifiers come only from a Collection that collectionFromJson() accepted, and are quoted.

// CREATE TABLE for `collection` and its indexes.
Status createTable(Store::Database &db, const Collection &collection);

// Brings the table of `before` to `after` (same collection id): renames the table, adds columns
// with ALTER TABLE when fields were only added, and otherwise rebuilds the table, converting and
// validating (validateValue) every existing value of each changed field. Refuses with
// InvalidArgument naming the field and up to 20 offending record ids in details
// {"fields": {"fields.N": {"code", "message", "field", "records"}}, "field", "records"}.
// Indexes of `before` are dropped and those of `after` created.
Status alterTable(Store::Database &db, const Collection &before, const Collection &after);

// Whether any table, index or view other than those of `ignoredTable` has this name (any case).
Result<bool> isSchemaNameTaken(Store::Database &db, const QString &name, const QString &ignoredTable = {});

} // namespace Outpost::Data::Schema
