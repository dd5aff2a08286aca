#pragma once

#include <QDialog>
#include <QHash>
#include <QJsonObject>
#include <utility>

#include "background.h"
#include "core/result.h"
#include "data/collection.h"
#include "server/server.h"
#include "store/auditlog.h"

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QCheckBox;
class QTableWidget;

namespace Outpost::Console {

// Who the audit log names for changes made in the console (it runs in the server's own process).
inline const Store::AuditActor kConsoleActor {QStringLiteral("console"), QStringLiteral("local")};

// A form generated from the fields of `collection` that creates a record (`record` empty) or
// updates `record`. Text-like fields (text, email, url, date, select, relation) are line edits,
// several values comma-separated; numbers are line edits whose text the backend parses; bools are
// check boxes; json is a plain-text edit holding JSON. System fields and autodates are left out.
//
// Saving runs Records::create/update inside Store::write on server.blockingPool(), as a
// superuser; meanwhile the form is disabled. Validation errors (Error.details["fields"]) are shown
// under the fields they name and the dialog stays open; on success it emits saved() and accepts.
//
// Thread: GUI thread only. `server` must be running and outlive the dialog; the dialog may be
// deleted while a save is under way (the result is then dropped).
class RecordDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RecordDialog)

public:
    RecordDialog(Server &server, Data::Collection collection, QJsonObject record = {}, QWidget *parent = nullptr);
    ~RecordDialog() override;

    bool isBusy() const { return m_busy; }
    // The record as it would be submitted; InvalidArgument (with details["fields"]) when a json
    // field does not parse.
    Result<QJsonObject> body() const;
    void reject() override;

Q_SIGNALS:
    void saved(const QJsonObject &record);

private:
    QWidget *makeEditor(const Data::Field &field);
    void submit();
    void finish(const Result<QJsonObject> &result);
    void setBusy(bool busy);
    void showErrors(const Error &error);

    Server &m_server;
    Data::Collection m_collection;
    QJsonObject m_record;
    bool m_busy = false;
    QList<const Data::Field *> m_fields;
    QHash<QString, QWidget *> m_editors;
    QHash<QString, QLabel *> m_errors;
    QLabel *m_formError = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

// "New collection": a name, a table of fields (name, type, required, options: the select values
// comma-separated or the relation's target collection) and the list/view rules (an expression;
// empty = superusers only, "public" = everyone). Creating runs Collections::create on
// server.blockingPool(); errors keyed by the backend ("name", "fields.2.name", ...) are shown in
// the dialog, which stays open. On success it emits created(name) and accepts.
//
// Thread: GUI thread only. `server` must be running and outlive the dialog.
class CollectionDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CollectionDialog)

public:
    enum Column { NameColumn, TypeColumn, RequiredColumn, OptionsColumn };

    explicit CollectionDialog(Server &server, QWidget *parent = nullptr);
    ~CollectionDialog() override;

    bool isBusy() const { return m_busy; }
    // Appends a row to the field table; returns its index.
    int addField(const QString &name = {}, const QString &type = QStringLiteral("text"), bool required = false,
                 const QString &options = {});
    QJsonObject definition() const;
    void reject() override;

Q_SIGNALS:
    void created(const QString &name);

private:
    QWidget *makeRulesBox();
    void submit();
    void finish(const Result<Data::Collection> &result);
    void setBusy(bool busy);

    Server &m_server;
    bool m_busy = false;
    QLineEdit *m_name = nullptr;
    QTableWidget *m_fields = nullptr;
    QLineEdit *m_listRule = nullptr;
    QLineEdit *m_viewRule = nullptr;
    QCheckBox *m_listPublic = nullptr;
    QCheckBox *m_viewPublic = nullptr;
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace Outpost::Console
