#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QStringView>

namespace Outpost::Json {

// Appends JSON text to `out` exactly as QJsonDocument::toJson(QJsonDocument::Compact) writes it
// (same escapes, same number forms), without building a QJsonObject first. For hot paths that
// emit one flat object per request; tst_jsonwriter checks the output against Qt's, byte for byte.
void appendString(QByteArray &out, QStringView text);
// The same for text that is UTF-8 already (as SQLite hands it out), with no conversion.
void appendUtf8(QByteArray &out, QByteArrayView utf8);
void appendNumber(QByteArray &out, double value);
// Strings, numbers, booleans and null directly; arrays and objects through QJsonDocument.
void appendValue(QByteArray &out, const QJsonValue &value);

} // namespace Outpost::Json
