#include "logspage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "auth/apikeys.h"
#include "background.h"
#include "http/router.h"
#include "requestlogmodel.h"
#include "server/server.h"

namespace Outpost::Console {

namespace {

constexpr qint64 kHourMs = 3600 * 1000;

QComboBox *makeFilterCombo(const QString &objectName, const QString &anyText, int minimumWidth)
{
    auto *combo = new QComboBox;
    combo->setObjectName(objectName);
    combo->setEditable(true);
    combo->setInsertPolicy(QComboBox::NoInsert);
    combo->setMinimumWidth(minimumWidth);
    combo->addItem(anyText);
    return combo;
}

QDateTimeEdit *makeTimeEdit(const QString &objectName)
{
    auto *edit = new QDateTimeEdit;
    edit->setObjectName(objectName);
    edit->setCalendarPopup(true);
    edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    edit->setEnabled(false);
    return edit;
}

// "Any …" means no filter; otherwise the first word, so that "apikey:ID (name)" filters by the id.
QString firstWord(const QString &text)
{
    const QString t = text.trimmed();
    if (t.isEmpty() || t.startsWith(u"Any ", Qt::CaseInsensitive))
        return {};
    return t.section(u' ', 0, 0);
}

} // namespace

LogsPage::LogsPage(Server &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_model(new RequestLogModel(server.store(), this))
    , m_filterTimer(new QTimer(this))
    , m_followTimer(new QTimer(this))
{
    setObjectName(QStringLiteral("logsPage"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(8);
    layout->addWidget(createFilterBar());
    m_filterError = new QLabel;
    m_filterError->setObjectName(QStringLiteral("filterErrorLabel"));
    m_filterError->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_filterError->hide();
    layout->addWidget(m_filterError);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("requestTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    // Fixed row heights: the view never measures rows, however many are loaded.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(true);
    const int digit = m_table->fontMetrics().horizontalAdvance(u'0');
    const std::pair<int, int> widths[]
        = {{RequestLogModel::Time, 25},    {RequestLogModel::Method, 9},  {RequestLogModel::Status, 7},
           {RequestLogModel::Path, 34},    {RequestLogModel::Route, 30},  {RequestLogModel::Duration, 10},
           {RequestLogModel::Caller, 24},  {RequestLogModel::Client, 15}, {RequestLogModel::BytesIn, 9},
           {RequestLogModel::BytesOut, 10}};
    for (const auto &[column, chars] : widths)
        header->resizeSection(column, chars * digit);
    layout->addWidget(m_table, 1);

    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("logSummaryLabel"));
    m_summary->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_summary);

    m_filterTimer->setSingleShot(true);
    m_filterTimer->setInterval(kFilterDelayMs);
    connect(m_filterTimer, &QTimer::timeout, this, &LogsPage::applyFilters);
    m_followTimer->setInterval(kFollowMs);
    connect(m_followTimer, &QTimer::timeout, this, &LogsPage::follow);
    connect(m_model, &RequestLogModel::loaded, this, &LogsPage::showLoaded);
    // A reload starts at the newest row; left scrolled down, the view would fetch the next page at once.
    connect(m_model, &QAbstractItemModel::modelReset, m_table, &QAbstractItemView::scrollToTop);
    fillRouteChoices();
}

LogsPage::~LogsPage() = default;

QWidget *LogsPage::createFilterBar()
{
    // Two rows, so that the page fits a 1280-pixel-wide window next to the sidebar.
    auto *bar = new QWidget;
    auto *rows = new QVBoxLayout(bar);
    rows->setContentsMargins(0, 0, 0, 0);
    rows->setSpacing(6);
    auto *row = new QHBoxLayout;
    row->setSpacing(8);
    auto *timeRow = new QHBoxLayout;
    timeRow->setSpacing(8);
    rows->addLayout(row);
    rows->addLayout(timeRow);

    m_status = makeFilterCombo(QStringLiteral("statusFilter"), tr("Any status"), 110);
    m_status->addItems({QStringLiteral("2xx"), QStringLiteral("3xx"), QStringLiteral("4xx"), QStringLiteral("5xx")});
    m_status->setToolTip(tr("A status class such as 4xx, or a code such as 404"));
    m_route = makeFilterCombo(QStringLiteral("routeFilter"), tr("Any route"), 220);
    m_caller = makeFilterCombo(QStringLiteral("callerFilter"), tr("Any caller"), 180);
    m_caller->addItems({QStringLiteral("guest"), tr("apikey (every API key)"), tr("superuser (every superuser)"),
                        tr("user (every app user)")});
    m_caller->setToolTip(tr("guest, apikey, apikey:ID, superuser:ID, user:COLLECTION or user:COLLECTION:ID"));
    for (QComboBox *combo : {m_status, m_route, m_caller}) {
        connect(combo, &QComboBox::currentTextChanged, this, &LogsPage::scheduleFilters);
        connect(combo->lineEdit(), &QLineEdit::returnPressed, this, &LogsPage::applyFilters);
    }

    m_fromEnabled = new QCheckBox(tr("From"));
    m_fromEnabled->setObjectName(QStringLiteral("fromEnabled"));
    m_from = makeTimeEdit(QStringLiteral("fromFilter"));
    m_toEnabled = new QCheckBox(tr("to"));
    m_toEnabled->setObjectName(QStringLiteral("toEnabled"));
    m_to = makeTimeEdit(QStringLiteral("toFilter"));
    for (auto [check, edit, offsetMs] :
         {std::tuple {m_fromEnabled, m_from, -kHourMs}, std::tuple {m_toEnabled, m_to, qint64(0)}}) {
        connect(check, &QCheckBox::toggled, this, [this, edit = edit, offsetMs = offsetMs](bool on) {
            if (on && !edit->property("touched").toBool()) // a first use starts at a useful time
                edit->setDateTime(QDateTime::fromMSecsSinceEpoch(m_server.clock().nowMs() + offsetMs));
            edit->setProperty("touched", true);
            edit->setEnabled(on);
            scheduleFilters();
        });
        edit->setDateTime(QDateTime::fromMSecsSinceEpoch(m_server.clock().nowMs() + offsetMs));
        connect(edit, &QDateTimeEdit::dateTimeChanged, this, &LogsPage::scheduleFilters);
    }

    m_refresh = new QPushButton(tr("Refresh"));
    m_refresh->setObjectName(QStringLiteral("refreshButton"));
    connect(m_refresh, &QPushButton::clicked, this, &LogsPage::refresh);
    m_follow = new QCheckBox(tr("Follow"));
    m_follow->setObjectName(QStringLiteral("followCheck"));
    m_follow->setToolTip(tr("Load new requests every %1 s while the newest one is in view").arg(kFollowMs / 1000));

    row->addWidget(m_status, 1);
    row->addWidget(m_route, 3);
    row->addWidget(m_caller, 2);
    timeRow->addWidget(m_fromEnabled);
    timeRow->addWidget(m_from);
    timeRow->addWidget(m_toEnabled);
    timeRow->addWidget(m_to);
    timeRow->addStretch(1);
    timeRow->addWidget(m_follow);
    timeRow->addWidget(m_refresh);
    return bar;
}

void LogsPage::fillRouteChoices()
{
    QStringList patterns;
    for (const Http::Router::RouteInfo &route : m_server.router().routes())
        patterns.append(QString::fromUtf8(route.pattern));
    patterns.removeDuplicates();
    std::sort(patterns.begin(), patterns.end());
    const QSignalBlocker quiet(m_route);
    m_route->addItems(patterns);
}

void LogsPage::loadKeyNames()
{
    Auth::ApiKeys *keys = &m_server.apiKeys();
    runInBackground(
        m_server, this, [keys] { return keys->list(); },
        [this](const Result<QList<Auth::ApiKey>> &list) {
            if (!list)
                return; // the ids alone still tell the keys apart
            QHash<QString, QString> names;
            const QSignalBlocker quiet(m_caller);
            for (const Auth::ApiKey &key : *list) {
                const QString caller = QStringLiteral("apikey:") + key.id;
                names.insert(caller, key.name);
                if (m_caller->findText(caller, Qt::MatchStartsWith) < 0)
                    m_caller->addItem(QStringLiteral("%1 (%2)").arg(caller, key.name));
            }
            m_model->setCallerNames(names);
        });
}

void LogsPage::scheduleFilters()
{
    m_filterTimer->start();
}

void LogsPage::applyFilters()
{
    m_filterTimer->stop();
    RequestLogFilter filter;
    const auto status = RequestLogFilter::parseStatus(m_status->currentText());
    if (!status) {
        m_filterError->setText(tr("Status: a class such as 4xx or a code such as 404."));
        m_filterError->show();
        return;
    }
    m_filterError->hide();
    std::tie(filter.statusMin, filter.statusMax) = *status;
    filter.route = firstWord(m_route->currentText());
    filter.caller = firstWord(m_caller->currentText());
    if (m_fromEnabled->isChecked())
        filter.fromMs = m_from->dateTime().toMSecsSinceEpoch();
    if (m_toEnabled->isChecked())
        filter.toMs = m_to->dateTime().toMSecsSinceEpoch();
    if (!m_loadedOnce || filter != m_model->filter()) {
        m_loadedOnce = true;
        m_model->setFilter(filter);
    }
}

void LogsPage::refresh()
{
    if (!m_loadedOnce)
        return applyFilters();
    m_model->reload();
}

void LogsPage::follow()
{
    if (m_follow->isChecked() && !m_model->isLoading() && m_table->verticalScrollBar()->value() == 0)
        m_model->reload();
}

void LogsPage::showLoaded()
{
    const QLocale locale;
    if (!m_model->errorText().isEmpty()) {
        m_summary->setText(tr("The request log cannot be read: %1").arg(m_model->errorText()));
        return;
    }
    const qint64 rows = m_model->rowCount();
    const qint64 matches = m_model->matchCount();
    if (matches == 0) {
        m_summary->setText(m_model->filter().isEmpty() ? tr("No requests logged yet.")
                                                       : tr("No requests match these filters."));
        return;
    }
    const QString total = matches > RequestLogModel::kCountCap
        ? tr("more than %1").arg(locale.toString(RequestLogModel::kCountCap))
        : locale.toString(matches);
    if (rows >= matches) {
        m_summary->setText(tr("%1 matching requests.").arg(locale.toString(rows)));
        return;
    }
    QString text = tr("The newest %1 of %2 matching requests.").arg(locale.toString(rows), total);
    if (rows >= RequestLogModel::kMaxRows)
        text += u' ' + tr("Narrow the filters to see older ones.");
    else
        text += u' ' + tr("Scroll down for older ones.");
    m_summary->setText(text);
}

void LogsPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_loadedOnce) {
        applyFilters();
        loadKeyNames();
    }
    m_followTimer->start();
}

void LogsPage::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_followTimer->stop();
}

} // namespace Outpost::Console
