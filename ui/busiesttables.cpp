#include "busiesttables.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

#include "auth/apikeys.h"
#include "background.h"
#include "cards.h"
#include "server/server.h"

namespace Outpost::Console {

namespace {

constexpr int kVisibleRows = 6; // the rest scrolls

QTableWidget *makeTable(const QString &objectName, const QStringList &headers)
{
    auto *table = new QTableWidget(0, int(headers.size()));
    table->setObjectName(objectName);
    table->setHorizontalHeaderLabels(headers);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    table->setFocusPolicy(Qt::NoFocus);
    table->setAlternatingRowColors(true);
    table->setShowGrid(false);
    table->setWordWrap(false);
    table->verticalHeader()->hide();
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    QHeaderView *header = table->horizontalHeader();
    header->setHighlightSections(false);
    for (int c = 0; c < headers.size(); ++c) // the first column (the name) takes what is left
        header->setSectionResizeMode(c, c == 0 ? QHeaderView::Stretch : QHeaderView::ResizeToContents);
    table->setFixedHeight(header->sizeHint().height() + kVisibleRows * table->verticalHeader()->defaultSectionSize()
                          + 4);
    return table;
}

void setCell(QTableWidget *table, int row, int column, const QString &text, bool number = false)
{
    QTableWidgetItem *item = table->item(row, column);
    if (!item) {
        item = new QTableWidgetItem;
        item->setTextAlignment(number ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
        table->setItem(row, column, item);
    }
    if (item->text() != text)
        item->setText(text);
}

// `table` in a card under `title`, with the note shown instead of it when it is empty.
QWidget *tableSection(const QString &title, QTableWidget *table, QLabel **empty, const QString &emptyText)
{
    QFrame *card = makeCard();
    auto *inner = new QVBoxLayout(card);
    inner->setContentsMargins(1, 1, 1, 1);
    inner->addWidget(table);
    *empty = new QLabel(emptyText);
    (*empty)->setObjectName(table->objectName() + QStringLiteral("Empty"));
    (*empty)->setAlignment(Qt::AlignCenter);
    (*empty)->setForegroundRole(QPalette::PlaceholderText);
    (*empty)->setFixedHeight(table->height());
    inner->addWidget(*empty);
    return makeSection(title, card);
}

} // namespace

BusiestTables::BusiestTables(Server &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
{
    setObjectName(QStringLiteral("busiestTables"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);
    m_routes = makeTable(QStringLiteral("topRoutesTable"),
                         {tr("Route"), tr("Method"), tr("Requests"), tr("4xx"), tr("5xx")});
    layout->addWidget(tableSection(tr("Busiest routes"), m_routes, &m_noRoutes, tr("No requests in this window yet.")),
                      3);
    m_keys = makeTable(QStringLiteral("topKeysTable"), {tr("API key"), tr("Id"), tr("Requests"), tr("Share")});
    layout->addWidget(
        tableSection(tr("Busiest API keys"), m_keys, &m_noKeys, tr("No requests with an API key in this window.")), 2);
    showSummary(m_summary);
}

BusiestTables::~BusiestTables() = default;

void BusiestTables::showSummary(const Observe::MetricsSummary &summary)
{
    m_summary = summary;
    showRoutes();
    showKeys();
}

void BusiestTables::showRoutes()
{
    const QLocale locale;
    const auto &routes = m_summary.topRoutes;
    m_routes->setRowCount(int(routes.size()));
    for (int row = 0; row < routes.size(); ++row) {
        setCell(m_routes, row, 0, routes[row].route);
        setCell(m_routes, row, 1, routes[row].method);
        setCell(m_routes, row, 2, locale.toString(routes[row].requests), true);
        setCell(m_routes, row, 3, locale.toString(routes[row].clientErrors), true);
        setCell(m_routes, row, 4, locale.toString(routes[row].serverErrors), true);
    }
    m_routes->setVisible(!routes.isEmpty());
    m_noRoutes->setVisible(routes.isEmpty());
}

void BusiestTables::showKeys()
{
    const QLocale locale;
    const auto &keys = m_summary.topApiKeys;
    bool unknown = false;
    m_keys->setRowCount(int(keys.size()));
    for (int row = 0; row < keys.size(); ++row) {
        const Observe::MetricsSummary::ApiKey &k = keys[row];
        const bool other = k.key == u"_other"; // keys past the metrics' capacity, counted together
        const auto name = m_keyNames.constFind(k.key);
        unknown = unknown || (!other && name == m_keyNames.constEnd());
        setCell(m_keys, row, 0, other ? tr("(other keys)") : name != m_keyNames.constEnd() ? *name : tr("(unknown)"));
        setCell(m_keys, row, 1, other ? QString() : k.key);
        setCell(m_keys, row, 2, locale.toString(k.requests), true);
        const double share = m_summary.requests ? double(k.requests) / double(m_summary.requests) : 0;
        setCell(m_keys, row, 3, formatPercent(share), true);
    }
    m_keys->setVisible(!keys.isEmpty());
    m_noKeys->setVisible(keys.isEmpty());
    if (unknown && !m_loadingKeyNames && (!m_keyNamesLoaded.isValid() || m_keyNamesLoaded.hasExpired(kKeyNamesMs)))
        loadKeyNames();
}

void BusiestTables::loadKeyNames()
{
    m_loadingKeyNames = true;
    Auth::ApiKeys *keys = &m_server.apiKeys();
    runInBackground(
        m_server, this, [keys] { return keys->list(); },
        [this](const Result<QList<Auth::ApiKey>> &list) {
            m_loadingKeyNames = false;
            m_keyNamesLoaded.start();
            if (!list)
                return; // the ids still tell the keys apart; the next unknown key tries again
            for (const Auth::ApiKey &key : *list)
                m_keyNames.insert(key.id, key.name);
            showKeys();
        });
}

} // namespace Outpost::Console
