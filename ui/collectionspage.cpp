#include "collectionspage.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "data/collections.h"
#include "data/recordchange.h"
#include "data/records.h"
#include "recorddialog.h"
#include "server/server.h"
#include "store/store.h"

namespace Outpost::Console {

namespace {

const Data::Access kSuperuser {true, {}};

QPushButton *makeButton(const QString &text, const QString &objectName)
{
    auto *button = new QPushButton(text);
    button->setObjectName(objectName);
    return button;
}

// Resolves `name` in the current snapshot: the page holds only names, never a stale definition.
Result<std::pair<Data::CollectionSnapshot, Data::Collection>> findCollection(Server &server, const QString &name)
{
    auto snapshot = server.collections().snapshot();
    if (!snapshot)
        return snapshot.error();
    const Data::Collection *c = (*snapshot)->find(name);
    if (!c)
        return makeError(ErrorCode::NotFound, CollectionsPage::tr("The collection \"%1\" no longer exists.").arg(name));
    return std::pair {*snapshot, *c};
}

Result<QJsonObject> listRecords(Server &server, const QString &name, const Data::ListQuery &query)
{
    auto found = findCollection(server, name);
    if (!found)
        return found.error();
    Result<QJsonObject> page = QJsonObject {};
    const Status status = server.store().read([&](Store::Database &db) -> Status {
        page = server.records().list(db, *found->first, found->second, query, kSuperuser);
        return page ? Status {} : Status(page.error());
    });
    if (!status)
        return status.error();
    return page;
}

Status removeRecord(Server &server, const QString &name, const QString &id)
{
    auto found = findCollection(server, name);
    if (!found)
        return found.error();
    Data::RecordChanges changes;
    Status s = server.store().write([&](Store::Database &db) {
        return server.records().remove(db, *found->first, found->second, id, kSuperuser, &changes);
    });
    if (s)
        server.store().auditLog().append(Data::auditEntries(changes, kConsoleActor, server.clock().nowMs()));
    return s;
}

} // namespace

// --- RecordsModel ------------------------------------------------------------------------------

RecordsModel::RecordsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void RecordsModel::setRecords(const QStringList &columns, const QList<QJsonObject> &records)
{
    beginResetModel();
    m_columns = columns;
    m_records = records;
    endResetModel();
}

int RecordsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.size());
}

int RecordsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_columns.size());
}

QVariant RecordsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_records.size() || index.column() >= m_columns.size())
        return {};
    const QJsonObject &record = m_records.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return displayText(record.value(m_columns.at(index.column())));
    case Qt::ToolTipRole:
        return displayText(record.value(m_columns.at(index.column()))).left(500);
    case Qt::UserRole:
        return record;
    default:
        return {};
    }
}

QVariant RecordsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    return m_columns.value(section);
}

QString RecordsModel::displayText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Double:
        return QString::number(value.toDouble(), 'g', 15);
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Array: {
        QStringList parts;
        for (const QJsonValue &v : value.toArray())
            parts.append(v.isString() ? v.toString() : displayText(v));
        return parts.join(QStringLiteral(", "));
    }
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    default:
        return {};
    }
}

// --- CollectionsPage ---------------------------------------------------------------------------

CollectionsPage::CollectionsPage(Server &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_model(new RecordsModel(this))
{
    setObjectName(QStringLiteral("collectionsPage"));
    auto *splitter = new QSplitter;
    splitter->addWidget(makeCollectionsPane());
    splitter->addWidget(makeRecordsPane());
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({200, 600});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);
    updateButtons();
    refreshCollections();
}

CollectionsPage::~CollectionsPage() = default;

QWidget *CollectionsPage::makeCollectionsPane()
{
    auto *pane = new QWidget;
    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("collectionList"));
    m_newCollection = makeButton(tr("New collection…"), QStringLiteral("newCollectionButton"));
    m_deleteCollection = makeButton(tr("Delete collection"), QStringLiteral("deleteCollectionButton"));
    connect(m_list, &QListWidget::currentTextChanged, this, &CollectionsPage::selectCollection);
    connect(m_newCollection, &QPushButton::clicked, this, &CollectionsPage::newCollection);
    connect(m_deleteCollection, &QPushButton::clicked, this, &CollectionsPage::deleteCollection);
    auto *layout = new QVBoxLayout(pane);
    layout->setContentsMargins(0, 0, 8, 0);
    layout->addWidget(m_list, 1);
    layout->addWidget(m_newCollection);
    layout->addWidget(m_deleteCollection);
    return pane;
}

QWidget *CollectionsPage::makeRecordsPane()
{
    auto *pane = new QWidget;
    m_filterEdit = new QLineEdit;
    m_filterEdit->setObjectName(QStringLiteral("filterEdit"));
    m_filterEdit->setPlaceholderText(tr("Filter, e.g. title ~ 'hello' && views > 10 (Enter to apply)"));
    m_filterEdit->setClearButtonEnabled(true);
    m_filterError = new QLabel;
    m_filterError->setObjectName(QStringLiteral("filterError"));
    m_filterError->setWordWrap(true);
    m_filterError->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_filterError->hide();
    connect(m_filterEdit, &QLineEdit::returnPressed, this, &CollectionsPage::applyFilter);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("recordsTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionsClickable(true);
    m_table->horizontalHeader()->setSortIndicatorShown(false);
    connect(m_table->horizontalHeader(), &QHeaderView::sectionClicked, this, &CollectionsPage::sortBy);
    connect(m_table, &QTableView::doubleClicked, this, &CollectionsPage::editRecord);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &CollectionsPage::updateButtons);

    m_newRecord = makeButton(tr("New record…"), QStringLiteral("newRecordButton"));
    m_editRecord = makeButton(tr("Edit…"), QStringLiteral("editRecordButton"));
    m_deleteRecord = makeButton(tr("Delete"), QStringLiteral("deleteRecordButton"));
    m_previous = makeButton(tr("Previous"), QStringLiteral("previousPageButton"));
    m_next = makeButton(tr("Next"), QStringLiteral("nextPageButton"));
    m_pageLabel = new QLabel;
    m_pageLabel->setObjectName(QStringLiteral("pageLabel"));
    connect(m_newRecord, &QPushButton::clicked, this, &CollectionsPage::newRecord);
    connect(m_editRecord, &QPushButton::clicked, this, &CollectionsPage::editRecord);
    connect(m_deleteRecord, &QPushButton::clicked, this, &CollectionsPage::deleteRecord);
    connect(m_previous, &QPushButton::clicked, this, [this] { goToPage(m_page - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { goToPage(m_page + 1); });

    auto *bar = new QProgressBar;
    bar->setRange(0, 0); // indeterminate
    bar->setTextVisible(false);
    bar->setMaximumSize(80, 8);
    m_busyIndicator = bar;
    m_busyIndicator->setObjectName(QStringLiteral("busyIndicator"));
    m_busyIndicator->hide();

    auto *actions = new QHBoxLayout;
    for (QWidget *w : {m_newRecord, m_editRecord, m_deleteRecord})
        actions->addWidget(w);
    actions->addStretch();
    actions->addWidget(m_busyIndicator);
    auto *paging = new QHBoxLayout;
    paging->addWidget(m_pageLabel, 1);
    paging->addWidget(m_previous);
    paging->addWidget(m_next);

    auto *layout = new QVBoxLayout(pane);
    layout->setContentsMargins(8, 0, 0, 0);
    layout->addLayout(actions);
    layout->addWidget(m_filterEdit);
    layout->addWidget(m_filterError);
    layout->addWidget(m_table, 1);
    layout->addLayout(paging);
    return pane;
}

void CollectionsPage::refreshCollections()
{
    beginWork();
    Data::Collections *collections = &m_server.collections();
    runInBackground(
        m_server, this, [collections] { return collections->list(); },
        [this](const Result<QList<Data::Collection>> &result) {
            endWork();
            showCollections(result);
        });
}

void CollectionsPage::showCollections(const Result<QList<Data::Collection>> &result)
{
    if (!result) {
        showError(tr("Could not load the collections"), result.error().message);
        Q_EMIT collectionsLoaded();
        return;
    }
    m_collections = *result;
    const QString previous = m_collection.name;
    {
        const QSignalBlocker blocker(m_list);
        m_list->clear();
        for (const Data::Collection &c : std::as_const(m_collections)) {
            auto *item = new QListWidgetItem(c.name, m_list);
            item->setToolTip(c.system ? tr("%1 (system)").arg(c.name) : c.name);
        }
        const auto matches = m_list->findItems(previous, Qt::MatchFixedString);
        if (!matches.isEmpty())
            m_list->setCurrentItem(matches.first());
    }
    // The selection may have gone (deleted) or changed its definition (fields): reload either way.
    selectCollection(m_list->currentItem() ? m_list->currentItem()->text() : QString());
    Q_EMIT collectionsLoaded();
}

void CollectionsPage::selectCollection(const QString &name)
{
    const bool same = name.compare(m_collection.name, Qt::CaseInsensitive) == 0 && !name.isEmpty();
    m_collection = {};
    for (const Data::Collection &c : std::as_const(m_collections))
        if (c.name == name)
            m_collection = c;
    if (!same) {
        m_page = 1;
        m_sort.clear();
        m_filter.clear();
        m_filterEdit->clear();
        m_filterError->hide();
        m_table->horizontalHeader()->setSortIndicatorShown(false);
    }
    QStringList columns;
    for (const Data::Field &f : std::as_const(m_collection.fields))
        columns.append(f.name);
    if (columns != m_model->columns())
        m_model->setRecords(columns, {});
    refreshRecords();
}

void CollectionsPage::refreshRecords()
{
    const quint64 generation = ++m_recordsGeneration;
    if (m_collection.name.isEmpty()) {
        m_model->setRecords({}, {});
        m_totalPages = 0;
        m_pageLabel->clear();
        updateButtons();
        Q_EMIT recordsLoaded();
        return;
    }
    Data::ListQuery query;
    query.page = m_page;
    query.perPage = kPerPage;
    query.sort = m_sort;
    query.filter = m_filter;
    beginWork();
    Server *server = &m_server;
    runInBackground(
        m_server, this, [server, name = m_collection.name, query] { return listRecords(*server, name, query); },
        [this, generation](const Result<QJsonObject> &result) {
            endWork();
            if (generation == m_recordsGeneration)
                showRecords(result);
        });
}

void CollectionsPage::showRecords(const Result<QJsonObject> &result)
{
    if (!result) {
        m_filterError->setText(result.error().message);
        m_filterError->show();
        m_model->setRecords(m_model->columns(), {});
        m_totalPages = 0;
        m_pageLabel->clear();
        updateButtons();
        Q_EMIT recordsLoaded();
        return;
    }
    m_filterError->hide();
    const int totalPages = result->value(QStringLiteral("totalPages")).toInt();
    if (m_page > 1 && m_page > totalPages) { // the last page emptied (a delete): show the new last one
        m_page = qMax(1, totalPages);
        refreshRecords();
        return;
    }
    QList<QJsonObject> items;
    for (const QJsonValue &v : result->value(QStringLiteral("items")).toArray())
        items.append(v.toObject());
    m_model->setRecords(m_model->columns(), items);
    m_totalPages = totalPages;
    const qint64 total = result->value(QStringLiteral("totalItems")).toInteger();
    m_pageLabel->setText(tr("page %1 of %2, %3 records").arg(m_page).arg(qMax(1, totalPages)).arg(total));
    updateButtons();
    Q_EMIT recordsLoaded();
}

void CollectionsPage::applyFilter()
{
    m_filter = m_filterEdit->text().trimmed();
    m_page = 1;
    refreshRecords();
}

void CollectionsPage::sortBy(int column)
{
    const QString field = m_model->columns().value(column);
    if (field.isEmpty())
        return;
    const bool descending = m_sort == field; // a second click on the same column reverses it
    m_sort = descending ? QString(u'-' + field) : field;
    QHeaderView *header = m_table->horizontalHeader();
    header->setSortIndicatorShown(true);
    header->setSortIndicator(column, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    m_page = 1;
    refreshRecords();
}

void CollectionsPage::goToPage(int page)
{
    if (page < 1 || (m_totalPages > 0 && page > m_totalPages))
        return;
    m_page = page;
    refreshRecords();
}

void CollectionsPage::newCollection()
{
    auto *dialog = new CollectionDialog(m_server, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->addField();
    connect(dialog, &CollectionDialog::created, this, [this](const QString &name) {
        // Selected once the list is back, with a fresh filter, sort and page.
        m_collection = {};
        m_collection.name = name;
        m_page = 1;
        m_sort.clear();
        m_filter.clear();
        m_filterEdit->clear();
        refreshCollections();
    });
    dialog->open();
}

void CollectionsPage::deleteCollection()
{
    const QString name = m_collection.name;
    if (name.isEmpty())
        return;
    confirm(tr("Delete the collection \"%1\" and all its records? This cannot be undone.").arg(name), [this, name] {
        beginWork();
        Data::Collections *collections = &m_server.collections();
        runInBackground(
            m_server, this, [collections, name] { return collections->remove(name); },
            [this, name](const Status &status) {
                endWork();
                if (!status)
                    showError(tr("Could not delete \"%1\"").arg(name), status.error().message);
                refreshCollections();
            });
    });
}

void CollectionsPage::newRecord()
{
    if (!m_collection.name.isEmpty())
        openRecordDialog({});
}

void CollectionsPage::editRecord()
{
    if (isBusy()) // a double-click on a row that a load is about to replace
        return;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (!rows.isEmpty())
        openRecordDialog(m_model->record(rows.first().row()));
}

void CollectionsPage::openRecordDialog(const QJsonObject &record)
{
    auto *dialog = new RecordDialog(m_server, m_collection, record, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RecordDialog::saved, this, &CollectionsPage::refreshRecords);
    dialog->open();
}

void CollectionsPage::deleteRecord()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const QString id = m_model->record(rows.first().row()).value(QStringLiteral("id")).toString();
    const QString name = m_collection.name;
    confirm(tr("Delete the record %1 of \"%2\"?").arg(id, name), [this, id, name] {
        beginWork();
        Server *server = &m_server;
        runInBackground(
            m_server, this, [server, name, id] { return removeRecord(*server, name, id); },
            [this](const Status &status) {
                endWork();
                if (!status)
                    showError(tr("Could not delete the record"), status.error().message);
                refreshRecords();
            });
    });
}

// Window-modal but not blocking (open(), not exec()): results of background work keep arriving.
void CollectionsPage::showError(const QString &title, const QString &message)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void CollectionsPage::confirm(const QString &text, std::function<void()> onYes)
{
    auto *box
        = new QMessageBox(QMessageBox::Question, tr("Confirm"), text, QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmBox"));
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [onYes = std::move(onYes)](int result) {
        if (result == QMessageBox::Yes)
            onYes();
    });
    box->open();
}

void CollectionsPage::beginWork()
{
    ++m_pending;
    updateButtons();
}

void CollectionsPage::endWork()
{
    --m_pending;
    updateButtons();
}

void CollectionsPage::updateButtons()
{
    const bool idle = m_pending == 0;
    const bool selected = !m_collection.name.isEmpty();
    const bool hasRow = m_table && m_table->selectionModel() && m_table->selectionModel()->hasSelection();
    m_busyIndicator->setVisible(!idle);
    m_newCollection->setEnabled(idle);
    m_deleteCollection->setEnabled(idle && selected && !m_collection.system);
    m_newRecord->setEnabled(idle && selected);
    m_editRecord->setEnabled(idle && hasRow);
    m_deleteRecord->setEnabled(idle && hasRow);
    m_previous->setEnabled(idle && m_page > 1);
    m_next->setEnabled(idle && m_page < m_totalPages);
}

} // namespace Outpost::Console
