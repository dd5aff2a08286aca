#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>

#include "../core/clock.h"
#include "../core/result.h"
#include "field.h"

namespace Outpost::Data {

// Where a submitted value came from. Form values (multipart/form-data, urlencoded) are all strings,
// so a json field parses them as JSON text; a JSON body's values are taken as they are.
enum class InputSource { JsonBody, FormData };

enum class Mode { Create, Update };

// Checks one submitted value against `field` and returns the value to store, normalised as
// PocketBase stores it (blank values become "", 0, false, [] or null by type):
//  - text, email, url: a string (JSON numbers and bools are converted, as PocketBase's cast does);
//  - number: a double, from a JSON number or a numeric string; 0 is PocketBase's "blank" number
//    and, as in PocketBase, skips the min/max checks;
//  - bool: from true/false, 1/0, "true"/"false", "1"/"0"; blank is false, so `required` means true;
//  - date, autodate: "YYYY-MM-DD HH:MM:SS.zzzZ" (UTC) from any form Formats::parseDate accepts;
//  - select, relation: single — the last of the submitted strings (PocketBase's rule) or "";
//    multiple — a string or an array of strings, as a deduplicated array without empty strings;
//  - json: any JSON value (from a form: parsed JSON text); blank is null, "", [] or {}.
// Relation ids are checked for shape only (15 of [a-z0-9]); whether the records exist is the
// caller's check (code validation_missing_rel_records).
//
// On failure returns InvalidArgument with message the field problem and details
// {"fields": {field.name: {"code": ..., "message": ...}}}, using PocketBase's codes
// (validation_required, validation_max_text_constraint, validation_is_email, ...).
// `field` must come from Field::fromJson or satisfy the same rules.
Result<QJsonValue> validateValue(const Field &field, const QJsonValue &input,
                                 InputSource source = InputSource::JsonBody);

// Validates a submitted record against the collection's `fields` (unique names) and returns the
// values to store, keyed by field name:
//  - Create: every field; absent keys count as blank. A blank text field with an
//    autogeneratePattern (such as the `id` field) gets a random value.
//  - Update: only the keys present in `input` (a partial update); a required field may not be
//    blanked. Primary-key fields are ignored (an id cannot change).
//  - AutoDate fields ignore submitted values: set to clock.now() on create (onCreate) and on update
//    (onUpdate); on create a field with only onUpdate is "".
//  - Keys that are not fields are ignored, as PocketBase does (this includes its "field+",
//    "field-" and "field:autogenerate" modifiers, which are not supported).
// Reports every failing field at once: InvalidArgument "Failed to create record." / "Failed to
// update record." with details {"fields": {name: {"code", "message"}, ...}}.
Result<QJsonObject> validateRecord(const QList<Field> &fields, const QJsonObject &input, Mode mode, const Clock &clock,
                                   InputSource source = InputSource::JsonBody);

// Whether PocketBase treats `value` as blank for `required`: null, undefined, "", [] and {}.
bool isBlank(const QJsonValue &value);

} // namespace Outpost::Data
