#pragma once

#include <QDateTime>
#include <QJsonValue>
#include <QString>
#include <optional>

// Value formats shared by field definitions and record validation. Internal to backend/data.
namespace Outpost::Data::Formats {

// Parses the date forms PocketBase accepts: "2006-01-02 15:04:05.000Z" (any 0–9 fraction digits),
// RFC 3339 ("2006-01-02T15:04:05Z", "...+02:00" — converted to UTC; no zone means UTC) and the
// date alone ("2006-01-02", midnight UTC). Surrounding whitespace is ignored. nullopt when the text
// is none of these or names an impossible date or time (2023-02-30, 24:00:00, leap seconds).
std::optional<QDateTime> parseDate(const QString &text);

// PocketBase's stored form: "YYYY-MM-DD HH:MM:SS.zzzZ" in UTC.
QString formatDate(const QDateTime &utc);

// The WHATWG "valid e-mail address" shape, at most 254 characters.
bool isValidEmail(const QString &email);

// The lower-cased host of an absolute http, https or ftp URL, or nullopt when `url` is not one.
std::optional<QString> urlHost(const QString &url);

// 15 characters of [a-z0-9]: the shape of the record ids Outpost makes.
bool isRecordId(const QString &id);

// Bytes of `value` serialised as compact JSON (scalars included, which QJsonDocument cannot hold).
qint64 jsonSize(const QJsonValue &value);

// Parses any JSON text, scalars included. nullopt when it is not exactly one JSON value.
std::optional<QJsonValue> parseJson(const QString &text);

// `pattern` (Go RE2 syntax, as PocketBase stores it) for QRegularExpression (PCRE2): an unescaped
// `$` outside a class becomes `\z`, because PCRE's `$` also matches before a final newline and
// Go's does not — "^[a-z0-9]+$" must refuse "abc\n". Other RE2/PCRE differences are not bridged.
QString toPcre(const QString &pattern);

// Whether random strings can be made for `pattern`: a sequence of literal characters, escapes
// (\d, \w, \.), classes ([a-z0-9_]) and quantifiers ({n}, {n,m}, ?), optionally between ^ and $.
// PocketBase accepts any regular expression here; alternation, groups, negated classes and
// unbounded repetition are not supported.
bool canGenerate(const QString &pattern);

// A random string matching `pattern` (from the system CSPRNG); empty when !canGenerate(pattern).
QString generate(const QString &pattern);

} // namespace Outpost::Data::Formats
