#include "requestlogmodel.h"

#include <QBrush>
#include <QColor>
#include <QDateTime>
#include <QLocale>

#include "store/store.h"

namespace Outpost::Console {

RequestLogModel::RequestLogModel(Store::Store &store, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
    m_pool.setMaxThreadCount(1); // one load at a time, in the order they were started
}

RequestLogModel::~RequestLogModel()
{
    // Its task posts to this object: it must be done before QObject's destructor drops the posts.
    m_pool.waitForDone();
}

void RequestLogModel::setFilter(const RequestLogFilter &filter)
{
    m_filter = filter;
    reload();
}

void RequestLogModel::reload()
{
    ++m_generation;
    load(true);
}

void RequestLogModel::setCallerNames(const QHash<QString, QString> &names)
{
    m_callerNames = names;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, Caller), index(int(m_rows.size()) - 1, Caller), {Qt::DisplayRole});
}

bool RequestLogModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_loading && !m_atEnd && m_rows.size() < kMaxRows;
}

void RequestLogModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        load(false);
}

void RequestLogModel::load(bool first)
{
    m_loading = true;
    std::optional<RequestLogCursor> after;
    if (!first && !m_rows.isEmpty())
        after = RequestLogCursor {m_rows.last().timeMs, m_rows.last().id};
    Store::Store *store = &m_store;
    m_pool.start([this, store, generation = m_generation, first, filter = m_filter, after] {
        Page page;
        const Outpost::Status read = store->readLog([&](Store::Database &db) -> Outpost::Status {
            page.rows = readRequestLogPage(db, filter, after, kPageSize);
            if (!page.rows)
                return page.rows.error();
            if (!first)
                return {};
            auto count = countRequestLog(db, filter, kCountCap);
            if (!count)
                return count.error();
            page.count = *count;
            return {};
        });
        if (!read)
            page.rows = read.error();
        QMetaObject::invokeMethod(
            this, [this, generation, first, page] { apply(generation, first, page); }, Qt::QueuedConnection);
    });
}

void RequestLogModel::apply(quint64 generation, bool first, const Page &page)
{
    if (generation != m_generation)
        return; // a reload started since: its own load is under way
    m_loading = false;
    if (!page.rows) {
        m_error = page.rows.error().message;
        m_atEnd = true;
        if (first) {
            beginResetModel();
            m_rows.clear();
            m_matchCount = -1;
            endResetModel();
        }
        Q_EMIT loaded();
        return;
    }
    m_error.clear();
    const QList<RequestLogEntry> &rows = *page.rows;
    m_atEnd = rows.size() < kPageSize;
    if (first) {
        beginResetModel();
        m_rows = rows;
        m_matchCount = page.count;
        endResetModel();
    } else if (!rows.isEmpty()) {
        const int room = int(qMin<qsizetype>(rows.size(), kMaxRows - m_rows.size()));
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size()) + room - 1);
        m_rows.append(rows.first(room));
        endInsertRows();
    }
    Q_EMIT loaded();
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString RequestLogModel::callerText(const QString &caller) const
{
    const auto name = m_callerNames.constFind(caller);
    return name == m_callerNames.constEnd() ? caller : QStringLiteral("%1 (%2)").arg(*name, caller);
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const RequestLogEntry &e = m_rows.at(index.row());
    if (role == Qt::DisplayRole) {
        const QLocale locale;
        switch (Column(index.column())) {
        case Time:
            return QDateTime::fromMSecsSinceEpoch(e.timeMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
        case Method:
            return e.method;
        case Status:
            return e.status;
        case Path:
            return e.path;
        case Route:
            return e.route;
        case Duration:
            return formatDuration(e.durationUs);
        case Caller:
            return callerText(e.caller);
        case Client:
            return e.client;
        case BytesIn:
            return locale.toString(e.bytesIn);
        case BytesOut:
            return locale.toString(e.bytesOut);
        case RequestId:
            return e.requestId;
        case ColumnCount:
            break;
        }
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == Status && e.status >= 400)
        return QBrush(e.status >= 500 ? QColor(0xc6, 0x28, 0x28) : QColor(0xb2, 0x6a, 0x00));
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Status:
        case Duration:
        case BytesIn:
        case BytesOut:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role == Qt::ToolTipRole)
        return tr("%1 %2\nRequest id %3").arg(e.method, e.path, e.requestId);
    if (role == Qt::UserRole)
        return e.id;
    return {};
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Time:
        return tr("Time");
    case Method:
        return tr("Method");
    case Status:
        return tr("Status");
    case Path:
        return tr("Path");
    case Route:
        return tr("Route");
    case Duration:
        return tr("Duration");
    case Caller:
        return tr("Caller");
    case Client:
        return tr("Client");
    case BytesIn:
        return tr("Bytes in");
    case BytesOut:
        return tr("Bytes out");
    case RequestId:
        return tr("Request id");
    case ColumnCount:
        break;
    }
    return {};
}

QString RequestLogModel::formatDuration(qint64 micros)
{
    const QLocale locale;
    if (micros < 1000)
        return tr("%1 µs").arg(qMax<qint64>(0, micros));
    if (micros < 1'000'000) {
        const double ms = double(micros) / 1000;
        return tr("%1 ms").arg(locale.toString(ms, 'f', ms < 10 ? 2 : (ms < 100 ? 1 : 0)));
    }
    return tr("%1 s").arg(locale.toString(double(micros) / 1e6, 'f', 2));
}

} // namespace Outpost::Console
