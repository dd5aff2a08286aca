#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <optional>

#include "../core/result.h"

namespace Outpost::Data {

// The field types of a PocketBase v0.23+ collection that Outpost supports. PocketBase's file,
// editor and geoPoint types are not supported (yet). Password fields exist only in auth
// collections (their `password` system field) and hold an Argon2id PHC string, never plain text.
enum class FieldType { Text, Number, Bool, Email, Url, Date, Select, Json, Relation, AutoDate, Password };

// The PocketBase wire name of `type` ("text", "number", "bool", "email", "url", "date", "select",
// "json", "relation", "autodate", "password").
QString fieldTypeName(FieldType type);
std::optional<FieldType> fieldTypeFromName(const QString &name);

// One field of a collection: a plain value type holding PocketBase's options for every type; the
// options of other types keep their defaults and are not serialised. Names match PocketBase's JSON
// keys, which are flat on the field object ({"name": "title", "type": "text", "max": 100, ...}).
//
// Thread-safe to share across threads for reading (it is an ordinary value).
struct Field
{
    static constexpr int kDefaultTextMaxLength = 5000; // PocketBase's limit when `max` is 0
    static constexpr qint64 kDefaultJsonMaxSize = 1 << 20; // 1 MiB, PocketBase's limit when `maxSize` is 0

    // Common.
    QString id; // PocketBase's field id ("text1234567890"); empty until the collection layer assigns one
    QString name; // ^[A-Za-z_][A-Za-z0-9_]{0,62}$
    FieldType type = FieldType::Text;
    bool required = false;
    bool hidden = false; // only affects API output, never validation
    bool system = false;
    bool presentable = false; // a hint for admin UIs; round-tripped only

    // Text. Lengths count code points (PocketBase counts runes). `maxLength` 0 means 5000.
    int minLength = 0; // JSON "min"
    int maxLength = 0; // JSON "max"
    QString pattern; // must match (unanchored, like Go's regexp.MatchString); empty = any
    QString autogeneratePattern; // on create, a blank value is replaced by a random match
    bool primaryKey = false; // the collection's `id` field

    // Number. Absent bounds are JSON null.
    std::optional<double> min; // JSON "min"
    std::optional<double> max; // JSON "max"
    bool onlyInt = false;

    // Email and Url. At most one of the two lists is non-empty; compared case-insensitively.
    QStringList exceptDomains;
    QStringList onlyDomains;

    // Date. Normalised date strings ("2006-01-02 15:04:05.000Z"); empty = no bound.
    QString minDate; // JSON "min"
    QString maxDate; // JSON "max"

    // Select (`values`, `maxSelect`) and Relation (`collectionId`, `minSelect`, `maxSelect`, `cascadeDelete`).
    QStringList values;
    int maxSelect = 1; // 1 = a single value (stored as a string), > 1 = several (stored as an array)
    int minSelect = 0;
    QString collectionId;
    bool cascadeDelete = false;

    // Json. Bytes of the compact serialised value; 0 means kDefaultJsonMaxSize.
    qint64 maxSize = 0;

    // AutoDate. At least one is true.
    bool onCreate = false;
    bool onUpdate = false;

    // Parses and checks a field definition in PocketBase's shape. Unknown keys are ignored, absent
    // options take their defaults. On a bad definition (unknown type, bad or reserved name, wrong
    // option type, min > max, empty or duplicate select values, maxSelect < 1, a pattern that does
    // not compile, ...) returns InvalidArgument whose message names the field and the option, with
    // details {"field": name, "option": key, "code": PocketBase-style code, "message": problem}.
    static Result<Field> fromJson(const QJsonObject &json);

    // PocketBase's shape: the common keys plus every option of this type. fromJson(toJson()) == *this
    // for any field fromJson accepted.
    QJsonObject toJson() const;

    // Select and relation fields with maxSelect > 1: their value is a JSON array of strings.
    bool isMultiple() const;
    // An auth collection's password hash and token key: never shown by the API (not even to
    // superusers), never usable in filters, sorts or rules, never exported or audited.
    bool isSecret() const { return type == FieldType::Password || (system && name == u"tokenKey"); }

    // The SQLite column type for the stored value:
    //  - Number: REAL, also when onlyInt (a JS number is a double, and toggling onlyInt must not
    //    change the table); integers up to 2^53 are exact.
    //  - Bool: INTEGER (0/1).
    //  - everything else TEXT: text, email, url; dates and autodates (the stored date string sorts
    //    chronologically as text); single select and relation (a string); multiple select and
    //    relation (a JSON array as text); json (the JSON text).
    QString sqlType() const;

    int effectiveMaxLength() const { return maxLength > 0 ? maxLength : kDefaultTextMaxLength; }
    qint64 effectiveMaxSize() const { return maxSize > 0 ? maxSize : kDefaultJsonMaxSize; }

    bool operator==(const Field &other) const = default;
};

} // namespace Outpost::Data
