#include "recordchange.h"

#include <QJsonValue>

#include "collection.h"
#include "field.h"

namespace Outpost::Data {

bool auditedField(const Field &f)
{
    return !f.isSecret() && f.name != u"tokenKey";
}

QJsonObject auditedValues(QJsonObject record, const Collection &c)
{
    record.remove(QStringLiteral("collectionId"));
    record.remove(QStringLiteral("collectionName"));
    for (const Field &f : c.fields)
        if (!auditedField(f))
            record.remove(f.name);
    return record;
}

std::vector<Store::AuditEntry> auditEntries(const RecordChanges &changes, const Store::AuditActor &actor, qint64 timeMs)
{
    std::vector<Store::AuditEntry> entries;
    entries.reserve(size_t(changes.size()));
    for (const RecordChange &change : changes) {
        QString action;
        switch (change.kind) {
        case RecordChange::Kind::Create:
            action = QStringLiteral("record.create");
            break;
        case RecordChange::Kind::Update:
            action = QStringLiteral("record.update");
            break;
        case RecordChange::Kind::Delete:
            action = QStringLiteral("record.delete");
            break;
        }
        const auto side = [](const QJsonObject &values, bool exists) {
            return exists ? QJsonValue(values) : QJsonValue(QJsonValue::Null);
        };
        QJsonObject details {{QStringLiteral("collection"), change.collection},
                             {QStringLiteral("before"), side(change.before, change.kind != RecordChange::Kind::Create)},
                             {QStringLiteral("after"), side(change.after, change.kind != RecordChange::Kind::Delete)}};
        if (!change.cause.isEmpty())
            details.insert(QStringLiteral("cause"), change.cause);
        entries.push_back({.timeMs = timeMs,
                           .actor = actor.label,
                           .action = action,
                           .target = change.collection + u'/' + change.id,
                           .address = actor.address,
                           .success = true,
                           .details = std::move(details)});
    }
    return entries;
}

} // namespace Outpost::Data
