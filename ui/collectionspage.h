#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>
#include <QStringList>
#include <QWidget>
#include <functional>

#include "core/result.h"
#include "data/collection.h"

class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QTableView;

namespace Outpost {
class Server;
}

namespace Outpost::Console {

// One page of records as a read-only table: a column per field name (schema order), a row per
// record. Cells show strings as they are, numbers and bools as text, arrays comma-separated and
// objects as compact JSON; the whole record is under Qt::UserRole of every cell.
class RecordsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RecordsModel)

public:
    explicit RecordsModel(QObject *parent = nullptr);

    void setRecords(const QStringList &columns, const QList<QJsonObject> &records);
    const QStringList &columns() const { return m_columns; }
    QJsonObject record(int row) const { return m_records.value(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString displayText(const QJsonValue &value);

private:
    QStringList m_columns;
    QList<QJsonObject> m_records;
};

// The "Collections" page: the collections on the left (new, delete), the records of the selected
// one on the right, 50 a page, with a PocketBase filter, a sort by clicking a column header, and
// new/edit/delete through RecordDialog. Uses the services in-process as a superuser.
//
// Every backend call runs on server.blockingPool(); meanwhile a busy indicator shows and the
// buttons are disabled. Results for an older request than the newest (a filter typed while a page
// loads) and results arriving after the page is gone are dropped. Backend errors go to a message
// box (collections) or the red label under the filter (records).
//
// Thread: GUI thread only. `server` must be running and outlive the page.
class CollectionsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CollectionsPage)

public:
    static constexpr int kPerPage = 50;

    explicit CollectionsPage(Server &server, QWidget *parent = nullptr);
    ~CollectionsPage() override;

    bool isBusy() const { return m_pending > 0; }
    QString currentCollection() const { return m_collection.name; }
    int currentPage() const { return m_page; }
    QString sort() const { return m_sort; }
    RecordsModel *model() const { return m_model; }

    // Reloads the list of collections, keeping the selection when it still exists.
    void refreshCollections();
    // Reloads the current page of records of the selected collection.
    void refreshRecords();

Q_SIGNALS:
    // After every load of the list or of a page of records, successful or not.
    void collectionsLoaded();
    void recordsLoaded();

private:
    QWidget *makeCollectionsPane();
    QWidget *makeRecordsPane();
    void selectCollection(const QString &name);
    void showCollections(const Result<QList<Data::Collection>> &result);
    void showRecords(const Result<QJsonObject> &result);
    void applyFilter();
    void sortBy(int column);
    void goToPage(int page);
    void newCollection();
    void deleteCollection();
    void newRecord();
    void editRecord();
    void deleteRecord();
    void openRecordDialog(const QJsonObject &record);
    void showError(const QString &title, const QString &message);
    void confirm(const QString &text, std::function<void()> onYes);
    void beginWork();
    void endWork();
    void updateButtons();

    Server &m_server;
    QList<Data::Collection> m_collections;
    Data::Collection m_collection; // the selected one; empty name when none
    QString m_filter;
    QString m_sort;
    int m_page = 1;
    int m_totalPages = 0;
    int m_pending = 0;
    quint64 m_recordsGeneration = 0;

    QListWidget *m_list = nullptr;
    QPushButton *m_newCollection = nullptr;
    QPushButton *m_deleteCollection = nullptr;
    QLineEdit *m_filterEdit = nullptr;
    QLabel *m_filterError = nullptr;
    QTableView *m_table = nullptr;
    RecordsModel *m_model = nullptr;
    QPushButton *m_newRecord = nullptr;
    QPushButton *m_editRecord = nullptr;
    QPushButton *m_deleteRecord = nullptr;
    QPushButton *m_previous = nullptr;
    QPushButton *m_next = nullptr;
    QLabel *m_pageLabel = nullptr;
    QWidget *m_busyIndicator = nullptr;
};

} // namespace Outpost::Console
