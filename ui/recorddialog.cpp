#include "recorddialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "data/collections.h"
#include "data/recordchange.h"
#include "data/records.h"
#include "store/store.h"

namespace Outpost::Console {

namespace {

QLabel *makeErrorLabel(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setStyleSheet(QStringLiteral("color: #c62828;"));
    label->hide();
    return label;
}

// What a line edit shows for a stored value: several values comma-separated.
QString editText(const QJsonValue &value)
{
    if (value.isArray()) {
        QStringList parts;
        for (const QJsonValue &v : value.toArray())
            parts.append(v.toVariant().toString());
        return parts.join(QStringLiteral(", "));
    }
    if (value.isDouble())
        return QString::number(value.toDouble(), 'g', 17);
    return value.toVariant().toString();
}

// Any JSON value, scalars included (QJsonDocument only parses objects and arrays).
std::optional<QJsonValue> parseJsonValue(const QString &text)
{
    if (text.trimmed().isEmpty())
        return QJsonValue(QJsonValue::Null);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QString(u'[' + text + u']').toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || doc.array().size() != 1)
        return std::nullopt;
    return doc.array().first();
}

bool isEditable(const Data::Field &field)
{
    return !field.system && field.type != Data::FieldType::AutoDate;
}

Result<QJsonObject> saveRecord(Server &server, const Data::Collection &collection, const QString &id,
                               const QJsonObject &body)
{
    auto snapshot = server.collections().snapshot();
    if (!snapshot)
        return snapshot.error();
    Result<QJsonObject> saved = QJsonObject {};
    const Data::Access access {true, {}};
    Data::RecordChanges changes;
    const Status status = server.store().write([&](Store::Database &db) -> Status {
        saved = id.isEmpty() ? server.records().create(db, **snapshot, collection, body, {}, access, &changes)
                             : server.records().update(db, **snapshot, collection, id, body, {}, access, &changes);
        return saved ? Status {} : Status(saved.error());
    });
    if (!status)
        return status.error();
    server.store().auditLog().append(Data::auditEntries(changes, kConsoleActor, server.clock().nowMs()));
    return saved;
}

} // namespace

RecordDialog::RecordDialog(Server &server, Data::Collection collection, QJsonObject record, QWidget *parent)
    : QDialog(parent)
    , m_server(server)
    , m_collection(std::move(collection))
    , m_record(std::move(record))
    , m_formError(makeErrorLabel(QStringLiteral("formError")))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel))
{
    setObjectName(QStringLiteral("recordDialog"));
    const QString id = m_record.value(QStringLiteral("id")).toString();
    setWindowTitle(id.isEmpty() ? tr("New %1 record").arg(m_collection.name)
                                : tr("Edit %1 record %2").arg(m_collection.name, id));
    auto *form = new QFormLayout;
    for (const Data::Field &field : std::as_const(m_collection.fields)) {
        if (!isEditable(field))
            continue;
        m_fields.append(&field);
        auto *cell = new QVBoxLayout;
        cell->setSpacing(2);
        cell->addWidget(makeEditor(field));
        auto *error = makeErrorLabel(QStringLiteral("error_") + field.name);
        m_errors.insert(field.name, error);
        cell->addWidget(error);
        form->addRow(field.required ? QString(field.name + u'*') : field.name, cell);
    }
    connect(m_buttons, &QDialogButtonBox::accepted, this, &RecordDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &RecordDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_formError);
    layout->addWidget(m_buttons);
    setMinimumWidth(420);
}

RecordDialog::~RecordDialog() = default;

QWidget *RecordDialog::makeEditor(const Data::Field &field)
{
    const QJsonValue value = m_record.value(field.name);
    QWidget *editor = nullptr;
    if (field.type == Data::FieldType::Bool) {
        auto *box = new QCheckBox;
        box->setChecked(value.toBool());
        editor = box;
    } else if (field.type == Data::FieldType::Json) {
        auto *edit = new QPlainTextEdit;
        if (!value.isUndefined() && !value.isNull())
            edit->setPlainText(
                QString::fromUtf8(QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact)).mid(1).chopped(1));
        edit->setMaximumHeight(90);
        editor = edit;
    } else {
        auto *edit = new QLineEdit(editText(value));
        if (field.isMultiple())
            edit->setPlaceholderText(tr("values, comma-separated"));
        else if (field.type == Data::FieldType::Date)
            edit->setPlaceholderText(QStringLiteral("2006-01-02 15:04:05.000Z"));
        editor = edit;
    }
    editor->setObjectName(QStringLiteral("field_") + field.name);
    m_editors.insert(field.name, editor);
    return editor;
}

Result<QJsonObject> RecordDialog::body() const
{
    QJsonObject body;
    QJsonObject problems;
    for (const Data::Field *field : m_fields) {
        QWidget *editor = m_editors.value(field->name);
        if (auto *box = qobject_cast<QCheckBox *>(editor)) {
            body.insert(field->name, box->isChecked());
        } else if (auto *text = qobject_cast<QPlainTextEdit *>(editor)) {
            const auto value = parseJsonValue(text->toPlainText());
            if (value)
                body.insert(field->name, *value);
            else
                problems.insert(
                    field->name,
                    Data::fieldProblem(QStringLiteral("validation_invalid_json"), tr("Must be valid JSON.")));
        } else if (auto *edit = qobject_cast<QLineEdit *>(editor); edit && field->isMultiple()) {
            QJsonArray values;
            for (const QString &part : edit->text().split(u',', Qt::SkipEmptyParts))
                if (!part.trimmed().isEmpty())
                    values.append(part.trimmed());
            body.insert(field->name, values);
        } else if (edit) {
            body.insert(field->name, edit->text()); // numbers too: the backend parses and reports
        }
    }
    if (!problems.isEmpty())
        return Data::collectionError(tr("Some fields are not valid."), problems);
    return body;
}

void RecordDialog::reject()
{
    if (!m_busy)
        QDialog::reject();
}

void RecordDialog::submit()
{
    if (m_busy)
        return;
    for (QLabel *label : std::as_const(m_errors))
        label->hide();
    m_formError->hide();
    auto submitted = body();
    if (!submitted)
        return showErrors(submitted.error());
    setBusy(true);
    Server *server = &m_server;
    runInBackground(
        m_server, this,
        [server, collection = m_collection, id = m_record.value(QStringLiteral("id")).toString(), body = *submitted] {
            return saveRecord(*server, collection, id, body);
        },
        [this](const Result<QJsonObject> &result) { finish(result); });
}

void RecordDialog::finish(const Result<QJsonObject> &result)
{
    setBusy(false);
    if (!result)
        return showErrors(result.error());
    Q_EMIT saved(*result);
    accept();
}

void RecordDialog::setBusy(bool busy)
{
    m_busy = busy;
    for (QWidget *editor : std::as_const(m_editors))
        editor->setEnabled(!busy);
    m_buttons->setEnabled(!busy);
}

void RecordDialog::showErrors(const Error &error)
{
    const QJsonObject fields = error.details.value(QStringLiteral("fields")).toObject();
    QStringList unplaced;
    QWidget *first = nullptr;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const QString message = it.value().toObject().value(QStringLiteral("message")).toString();
        QLabel *label = m_errors.value(it.key());
        if (!label) {
            unplaced.append(it.key() + QStringLiteral(": ") + message);
            continue;
        }
        label->setText(message);
        label->show();
        m_editors.value(it.key())->setAccessibleDescription(message);
        if (!first)
            first = m_editors.value(it.key());
    }
    if (fields.isEmpty() || !unplaced.isEmpty()) {
        m_formError->setText(unplaced.isEmpty() ? error.message : unplaced.join(u'\n'));
        m_formError->show();
    }
    if (first)
        first->setFocus();
}

// --- CollectionDialog -------------------------------------------------------------------------

CollectionDialog::CollectionDialog(Server &server, QWidget *parent)
    : QDialog(parent)
    , m_server(server)
    , m_name(new QLineEdit)
    , m_fields(new QTableWidget(0, 4))
    , m_error(makeErrorLabel(QStringLiteral("collectionError")))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel))
{
    setObjectName(QStringLiteral("collectionDialog"));
    setWindowTitle(tr("New collection"));
    m_name->setObjectName(QStringLiteral("collectionNameEdit"));
    m_fields->setObjectName(QStringLiteral("fieldsTable"));
    m_fields->setHorizontalHeaderLabels({tr("Name"), tr("Type"), tr("Required"), tr("Values / target")});
    m_fields->horizontalHeader()->setStretchLastSection(true);
    m_fields->verticalHeader()->hide();
    auto *add = new QPushButton(tr("Add field"));
    add->setObjectName(QStringLiteral("addFieldButton"));
    connect(add, &QPushButton::clicked, this, [this] { addField(); });
    auto *remove = new QPushButton(tr("Remove field"));
    connect(remove, &QPushButton::clicked, this, [this] { m_fields->removeRow(m_fields->currentRow()); });
    auto *create = m_buttons->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
    create->setObjectName(QStringLiteral("createButton"));
    create->setDefault(true);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &CollectionDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &CollectionDialog::reject);

    auto *nameRow = new QFormLayout;
    nameRow->addRow(tr("&Name"), m_name);
    auto *fieldButtons = new QHBoxLayout;
    fieldButtons->addWidget(add);
    fieldButtons->addWidget(remove);
    fieldButtons->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(nameRow);
    layout->addWidget(new QLabel(tr("Fields (id, created and updated are added automatically)")));
    layout->addWidget(m_fields, 1);
    layout->addLayout(fieldButtons);
    layout->addWidget(makeRulesBox());
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    resize(620, 480);
}

CollectionDialog::~CollectionDialog() = default;

QWidget *CollectionDialog::makeRulesBox()
{
    auto *box = new QGroupBox(tr("API rules (empty = superusers only)"));
    auto *grid = new QGridLayout(box);
    const auto addRule = [this, grid](const QString &label, const QString &key, QLineEdit *&edit, QCheckBox *&open) {
        const int row = grid->rowCount();
        edit = new QLineEdit;
        edit->setObjectName(key + QStringLiteral("RuleEdit"));
        edit->setPlaceholderText(tr("filter expression, e.g. author = @request.auth.id"));
        open = new QCheckBox(tr("Public"));
        open->setObjectName(key + QStringLiteral("PublicCheck"));
        connect(open, &QCheckBox::toggled, edit, &QLineEdit::setDisabled);
        grid->addWidget(new QLabel(label), row, 0);
        grid->addWidget(edit, row, 1);
        grid->addWidget(open, row, 2);
    };
    addRule(tr("List rule"), QStringLiteral("list"), m_listRule, m_listPublic);
    addRule(tr("View rule"), QStringLiteral("view"), m_viewRule, m_viewPublic);
    return box;
}

int CollectionDialog::addField(const QString &name, const QString &type, bool required, const QString &options)
{
    const int row = m_fields->rowCount();
    m_fields->insertRow(row);
    m_fields->setItem(row, NameColumn, new QTableWidgetItem(name));
    auto *types = new QComboBox;
    for (auto t : {Data::FieldType::Text, Data::FieldType::Number, Data::FieldType::Bool, Data::FieldType::Email,
                   Data::FieldType::Url, Data::FieldType::Date, Data::FieldType::Select, Data::FieldType::Json,
                   Data::FieldType::Relation, Data::FieldType::AutoDate})
        types->addItem(Data::fieldTypeName(t));
    types->setCurrentText(type);
    m_fields->setCellWidget(row, TypeColumn, types);
    auto *check = new QTableWidgetItem;
    check->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
    check->setCheckState(required ? Qt::Checked : Qt::Unchecked);
    m_fields->setItem(row, RequiredColumn, check);
    m_fields->setItem(row, OptionsColumn, new QTableWidgetItem(options));
    return row;
}

QJsonObject CollectionDialog::definition() const
{
    QJsonArray fields;
    for (int row = 0; row < m_fields->rowCount(); ++row) {
        const auto *types = qobject_cast<QComboBox *>(m_fields->cellWidget(row, TypeColumn));
        const QString type = types->currentText();
        QJsonObject field {
            {QStringLiteral("name"), m_fields->item(row, NameColumn)->text().trimmed()},
            {QStringLiteral("type"), type},
            {QStringLiteral("required"), m_fields->item(row, RequiredColumn)->checkState() == Qt::Checked}};
        const QString options = m_fields->item(row, OptionsColumn)->text().trimmed();
        if (type == u"select") {
            QJsonArray values;
            for (const QString &v : options.split(u',', Qt::SkipEmptyParts))
                values.append(v.trimmed());
            field.insert(QStringLiteral("values"), values);
            field.insert(QStringLiteral("maxSelect"), 1);
        } else if (type == u"relation") {
            field.insert(QStringLiteral("collectionId"), options); // a name is resolved by the backend
            field.insert(QStringLiteral("maxSelect"), 1);
        } else if (type == u"autodate") {
            field.insert(QStringLiteral("onCreate"), true);
        }
        fields.append(field);
    }
    const auto rule = [](const QLineEdit *edit, const QCheckBox *open) -> QJsonValue {
        if (open->isChecked())
            return QString(); // "" admits anyone
        return edit->text().trimmed().isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(edit->text().trimmed());
    };
    return {{QStringLiteral("name"), m_name->text().trimmed()},
            {QStringLiteral("type"), QStringLiteral("base")},
            {QStringLiteral("fields"), fields},
            {QStringLiteral("listRule"), rule(m_listRule, m_listPublic)},
            {QStringLiteral("viewRule"), rule(m_viewRule, m_viewPublic)}};
}

void CollectionDialog::reject()
{
    if (!m_busy)
        QDialog::reject();
}

void CollectionDialog::submit()
{
    if (m_busy)
        return;
    m_error->hide();
    setBusy(true);
    Data::Collections *collections = &m_server.collections();
    runInBackground(
        m_server, this, [collections, definition = definition()] { return collections->create(definition); },
        [this](const Result<Data::Collection> &result) { finish(result); });
}

void CollectionDialog::finish(const Result<Data::Collection> &result)
{
    setBusy(false);
    if (result) {
        Q_EMIT created(result->name);
        accept();
        return;
    }
    // Keys are PocketBase's ("name", "fields.2.name", "indexes.0"): listed as they come, since a
    // definition's problems are few and often span several rows.
    QStringList lines {result.error().message};
    const QJsonObject fields = result.error().details.value(QStringLiteral("fields")).toObject();
    for (auto it = fields.begin(); it != fields.end(); ++it)
        lines.append(it.key() + QStringLiteral(": ")
                     + it.value().toObject().value(QStringLiteral("message")).toString());
    m_error->setText(lines.join(u'\n'));
    m_error->show();
}

void CollectionDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_name->setEnabled(!busy);
    m_fields->setEnabled(!busy);
    m_buttons->setEnabled(!busy);
}

} // namespace Outpost::Console
