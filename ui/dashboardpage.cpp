#include "dashboardpage.h"

#include <QButtonGroup>
#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "busiesttables.h"
#include "cards.h"
#include "observe/metricssummary.h"
#include "server/server.h"
#include "server/servermetrics.h"
#include "store/store.h"
#include "trafficcharts.h"

namespace Outpost::Console {

namespace {

constexpr int kFormLabelWidth = 140; // the same in every card, so their value columns line up

// Paths and addresses are copied into terminals and config files: fixed-width and selectable.
QLabel *makeValueLabel(const QString &objectName, bool monospace)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (monospace)
        label->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    return label;
}

QFormLayout *makeForm(QFrame *card)
{
    auto *form = new QFormLayout(card);
    form->setContentsMargins(16, 12, 16, 12);
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->setHorizontalSpacing(16);
    form->setVerticalSpacing(8);
    return form;
}

void addFormRow(QFormLayout *form, const QString &text, QLabel *value)
{
    auto *label = new QLabel(text);
    label->setFixedWidth(kFormLabelWidth);
    label->setForegroundRole(QPalette::PlaceholderText);
    form->addRow(label, value);
}

QString milliseconds(double ms)
{
    return DashboardPage::tr("%1 ms").arg(QLocale().toString(ms, 'f', ms < 10 ? 2 : (ms < 100 ? 1 : 0)));
}

QString windowText(Observe::Window window)
{
    switch (window) {
    case Observe::Window::FiveMinutes:
        return DashboardPage::tr("the last 5 minutes");
    case Observe::Window::Hour:
        return DashboardPage::tr("the last hour");
    case Observe::Window::Day:
        return DashboardPage::tr("the last 24 hours");
    case Observe::Window::Week:
        break;
    }
    return DashboardPage::tr("the last 7 days");
}

} // namespace

DashboardPage::DashboardPage(Server &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_timer(new QTimer(this))
{
    setObjectName(QStringLiteral("dashboardPage"));
    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->setSpacing(16);
    auto *top = new QHBoxLayout;
    top->setSpacing(12);
    top->addWidget(createServerSection(), 1);
    top->addWidget(createDatabaseSection(), 1);
    layout->addLayout(top);
    layout->addWidget(createRequestSection());
    layout->addWidget(createTrafficSection());
    m_busiest = new BusiestTables(server);
    layout->addWidget(m_busiest);
    layout->addStretch(1);

    // The page scrolls when the window is smaller than the charts and tables need.
    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("dashboardScroll"));
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(content);
    content->setAutoFillBackground(false);
    scroll->viewport()->setAutoFillBackground(false);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    m_timer->setInterval(kRefreshMs);
    connect(m_timer, &QTimer::timeout, this, &DashboardPage::refresh);
    refresh();
}

DashboardPage::~DashboardPage() = default;

QWidget *DashboardPage::createServerSection()
{
    QFrame *card = makeCard();
    QFormLayout *form = makeForm(card);
    m_listenAddress = makeValueLabel(QStringLiteral("listenAddressLabel"), true);
    m_listenAddress->setToolTip(tr("The HTTP API of this Outpost instance"));
    m_uptime = makeValueLabel(QStringLiteral("uptimeLabel"), false);
    m_threads = makeValueLabel(QStringLiteral("threadsLabel"), false);
    addFormRow(form, tr("API address"), m_listenAddress);
    addFormRow(form, tr("Uptime"), m_uptime);
    addFormRow(form, tr("Network threads"), m_threads);
    return makeSection(tr("Server"), card);
}

QWidget *DashboardPage::createTile(const QString &caption, const QString &objectName, QLabel **value)
{
    QFrame *tile = makeCard();
    auto *layout = new QVBoxLayout(tile);
    layout->setContentsMargins(16, 10, 16, 12);
    layout->setSpacing(2);
    *value = makeValueLabel(objectName, false);
    QFont big = (*value)->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setWeight(QFont::DemiBold);
    (*value)->setFont(big);
    auto *captionLabel = new QLabel(caption);
    captionLabel->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(*value);
    layout->addWidget(captionLabel);
    return tile;
}

QWidget *DashboardPage::createRequestSection()
{
    auto *tiles = new QWidget;
    auto *row = new QHBoxLayout(tiles);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(12);
    row->addWidget(createTile(tr("Total"), QStringLiteral("requestCountLabel"), &m_requestCount), 1);
    row->addWidget(createTile(tr("Success (2xx)"), QStringLiteral("successCountLabel"), &m_success), 1);
    row->addWidget(createTile(tr("Client errors (4xx)"), QStringLiteral("clientErrorCountLabel"), &m_clientErrors), 1);
    row->addWidget(createTile(tr("Server errors (5xx)"), QStringLiteral("serverErrorCountLabel"), &m_serverErrors), 1);
    row->addWidget(createTile(tr("Refused by the guard"), QStringLiteral("rejectedCountLabel"), &m_rejected), 1);
    m_rejected->setToolTip(tr("Malformed, oversized or too slow requests refused before routing"));
    return makeSection(tr("Requests since start"), tiles);
}

QWidget *DashboardPage::createDatabaseSection()
{
    QFrame *card = makeCard();
    QFormLayout *form = makeForm(card);
    m_databasePath = makeValueLabel(QStringLiteral("databasePathLabel"), true);
    m_databasePath->setText(m_server.store().dataPath());
    m_databaseSize = makeValueLabel(QStringLiteral("databaseSizeLabel"), false);
    m_databaseSize->setToolTip(tr("data.db including its write-ahead log"));
    addFormRow(form, tr("File"), m_databasePath);
    addFormRow(form, tr("Size"), m_databaseSize);
    return makeSection(tr("Database"), card);
}

QWidget *DashboardPage::createTrafficSection()
{
    auto *section = new QWidget;
    auto *layout = new QVBoxLayout(section);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);

    auto *header = new QHBoxLayout;
    header->setSpacing(4);
    auto *heading = new QLabel(tr("Traffic"));
    QFont font = heading->font();
    font.setWeight(QFont::DemiBold);
    heading->setFont(font);
    header->addWidget(heading);
    header->addSpacing(12);
    m_windowSummary = new QLabel;
    m_windowSummary->setObjectName(QStringLiteral("windowSummaryLabel"));
    m_windowSummary->setForegroundRole(QPalette::PlaceholderText);
    header->addWidget(m_windowSummary, 1);
    m_windowButtons = new QButtonGroup(this);
    m_windowButtons->setExclusive(true);
    const std::pair<Observe::Window, QString> windows[] = {{Observe::Window::FiveMinutes, tr("5 min")},
                                                           {Observe::Window::Hour, tr("1 h")},
                                                           {Observe::Window::Day, tr("24 h")},
                                                           {Observe::Window::Week, tr("7 d")}};
    for (const auto &[window, text] : windows) {
        auto *button = new QToolButton;
        button->setObjectName(QStringLiteral("window") + QString::fromLatin1(Observe::windowName(window)));
        button->setText(text);
        button->setCheckable(true);
        button->setChecked(window == m_window);
        button->setToolButtonStyle(Qt::ToolButtonTextOnly);
        button->setMinimumWidth(52);
        m_windowButtons->addButton(button, int(window));
        header->addWidget(button);
    }
    connect(m_windowButtons, &QButtonGroup::idClicked, this,
            [this](int id) { setWindow(static_cast<Observe::Window>(id)); });
    layout->addLayout(header);

    m_charts = new TrafficCharts;
    layout->addWidget(m_charts);
    return section;
}

void DashboardPage::setWindow(Observe::Window window)
{
    m_window = window;
    if (QAbstractButton *button = m_windowButtons->button(int(window)); button && !button->isChecked())
        button->setChecked(true);
    refresh();
}

void DashboardPage::refreshTraffic()
{
    const ServerMetrics &metrics = m_server.metrics();
    const Observe::MetricsSeries &series = metrics.series();
    const Observe::MetricsSummary summary
        = Observe::summarizeMetrics(series.summarize(m_window), m_window, metrics.metrics(), kTopRows);
    QList<Observe::SeriesPoint> points;
    qint64 stepMs = 60'000;
    switch (m_window) {
    case Observe::Window::FiveMinutes:
        points = series.seconds(300);
        stepMs = 1000;
        break;
    case Observe::Window::Hour:
        points = series.minutes(60);
        break;
    case Observe::Window::Day:
        points = series.minutes(24 * 60);
        break;
    case Observe::Window::Week:
        points = series.minutes(Observe::MetricsSeries::kMinutes);
        break;
    }
    // Before the first tick there are no points: the axis still shows the window up to now.
    const qint64 toMs = points.isEmpty() ? m_server.clock().nowMs() : points.last().startMs + stepMs;
    m_charts->plot(points, stepMs, toMs, m_window);
    showSummary(summary);
    m_busiest->showSummary(summary);
}

void DashboardPage::showSummary(const Observe::MetricsSummary &s)
{
    const QLocale locale;
    if (s.requests == 0) {
        m_windowSummary->setText(tr("No requests in %1 yet.").arg(windowText(s.window)));
        return;
    }
    const QString requests = s.requests == 1 ? tr("1 request") : tr("%1 requests").arg(locale.toString(s.requests));
    m_windowSummary->setText(tr("%1 · %2/s · p50 %3 · p95 %4 · p99 %5 · 4xx %6 · 5xx %7")
                                 .arg(requests, locale.toString(s.requestsPerSecond, 'f', 1), milliseconds(s.p50Ms),
                                      milliseconds(s.p95Ms), milliseconds(s.p99Ms), formatPercent(s.clientErrorRate),
                                      formatPercent(s.errorRate)));
}

void DashboardPage::refresh()
{
    const QLocale locale;
    const Observe::RequestStats &stats = m_server.stats();
    m_listenAddress->setText(m_server.baseUrl());
    m_uptime->setText(formatUptime(m_server.uptimeSeconds()));
    m_threads->setText(locale.toString(m_server.config().threads));
    m_requestCount->setText(locale.toString(stats.total()));
    m_success->setText(locale.toString(stats.byClass(2)));
    m_clientErrors->setText(locale.toString(stats.byClass(4)));
    m_serverErrors->setText(locale.toString(stats.byClass(5)));
    m_rejected->setText(locale.toString(stats.rejected()));
    m_databaseSize->setText(formatSize(m_server.store().dataSizeBytes()));
    refreshTraffic();
}

void DashboardPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_timer->start();
}

void DashboardPage::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_timer->stop();
}

QString DashboardPage::formatUptime(qint64 seconds)
{
    const qint64 s = seconds % 60;
    const qint64 m = seconds / 60 % 60;
    const qint64 h = seconds / 3600 % 24;
    const qint64 d = seconds / 86400;
    auto two = [](qint64 v) { return QStringLiteral("%1").arg(v, 2, 10, QChar(u'0')); };
    if (d > 0)
        return tr("%1 d %2 h").arg(d).arg(h);
    if (h > 0)
        return tr("%1 h %2 min").arg(h).arg(two(m));
    if (m > 0)
        return tr("%1 min %2 s").arg(m).arg(two(s));
    return tr("%1 s").arg(s);
}

QString DashboardPage::formatSize(qint64 bytes)
{
    if (bytes < 1024)
        return tr("%1 bytes").arg(qMax<qint64>(0, bytes));
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = double(bytes) / 1024;
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    // As precise as a glance needs: "4.5 KiB", "48 KiB", "310 MiB".
    return QLocale().toString(value, 'f', value < 10 ? 1 : 0) + u' ' + QLatin1String(units[unit]);
}

} // namespace Outpost::Console
