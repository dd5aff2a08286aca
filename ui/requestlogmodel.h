#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QThreadPool>

#include "core/result.h"
#include "requestlogquery.h"

namespace Outpost::Store {
class Store;
}

namespace Outpost::Console {

// logs.db's request log as a read-only table, newest first, loaded lazily: kPageSize rows at a
// time as the view scrolls to the bottom (canFetchMore/fetchMore), keyset-paged along the
// `requests_time` index, never the whole table, and at most kMaxRows rows in memory (past that,
// narrowing the filter is the way to older rows). How many rows match is counted up to
// kCountCap only.
//
// Every query runs on the model's own one-thread pool, never on the GUI thread: a page query is
// cheap, but a filter that matches little walks much of the table. One load runs at a time;
// results of a load started before the latest reload() are dropped. A reload keeps the rows
// shown until the first page of the new ones arrives, then resets the model.
//
// Thread: GUI thread only. `store` must outlive the model; the destructor waits for the query in
// flight.
class RequestLogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RequestLogModel)

public:
    enum Column {
        Time,
        Method,
        Status,
        Path,
        Route,
        Duration,
        Caller,
        Client,
        BytesIn,
        BytesOut,
        RequestId,
        ColumnCount
    };
    static constexpr int kPageSize = 200;
    static constexpr int kMaxRows = 100'000;
    static constexpr qint64 kCountCap = 100'000;

    explicit RequestLogModel(Store::Store &store, QObject *parent = nullptr);
    ~RequestLogModel() override;

    // Sets the filter and reloads from the newest row.
    void setFilter(const RequestLogFilter &filter);
    const RequestLogFilter &filter() const { return m_filter; }
    // Loads the newest rows matching the filter again (new requests appear).
    void reload();
    // Names shown next to callers, e.g. "apikey:ID" → the key's name.
    void setCallerNames(const QHash<QString, QString> &names);

    bool isLoading() const { return m_loading; }
    // Rows matching the filter when the last reload ran: -1 before the first count; kCountCap + 1
    // means "more than kCountCap".
    qint64 matchCount() const { return m_matchCount; }
    // Empty, or why the last load failed (e.g. logs.db has no request log yet).
    QString errorText() const { return m_error; }
    const RequestLogEntry &entry(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    static QString formatDuration(qint64 micros); // "412 µs", "12.3 ms", "1.24 s"

Q_SIGNALS:
    // After every load (a reload's first page or a further page), successful or not.
    void loaded();

private:
    struct Page
    {
        Result<QList<RequestLogEntry>> rows = QList<RequestLogEntry> {};
        qint64 count = -1; // with a reload only
    };
    void load(bool first);
    void apply(quint64 generation, bool first, const Page &page);
    QString callerText(const QString &caller) const;

    Store::Store &m_store;
    QThreadPool m_pool;
    RequestLogFilter m_filter;
    QList<RequestLogEntry> m_rows;
    QHash<QString, QString> m_callerNames;
    quint64 m_generation = 0;
    bool m_loading = false;
    bool m_atEnd = true;
    qint64 m_matchCount = -1;
    QString m_error;
};

} // namespace Outpost::Console
