#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <vector>

#include "../store/auditlog.h"

namespace Outpost::Data {

struct Collection;
struct Field;

// One change Records made to a stored record, for the audit log. Values are the stored field values
// (auditedField() decides which fields), including hidden ones.
struct RecordChange
{
    enum class Kind : quint8 { Create, Update, Delete };
    Kind kind = Kind::Create;
    QString collection; // the collection's name
    QString id;
    QJsonObject before; // empty for a create
    QJsonObject after; // empty for a delete
    // For a change a delete made to another record (a cascade, or a reference it removed): that
    // delete's "COLLECTION/ID". Empty for the change that was asked for.
    QString cause;
};
using RecordChanges = QList<RecordChange>;

// Whether a field's value goes into the audit log: every field but an auth collection's password
// hash and token key (Field::isSecret), and never one named tokenKey.
bool auditedField(const Field &f);

// Removes what is not a field value (collectionId, collectionName) and the fields auditedField()
// leaves out from a record as Records returns it.
QJsonObject auditedValues(QJsonObject record, const Collection &c);

// The audit entries of committed changes, in order: action record.create|record.update|
// record.delete, target "COLLECTION/ID", details {collection, before, after} (null for the side that
// does not exist; plus cause for the changes a delete made to other records).
std::vector<Store::AuditEntry> auditEntries(const RecordChanges &changes, const Store::AuditActor &actor,
                                            qint64 timeMs);

} // namespace Outpost::Data
