#include "dashboardpage.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QTimer>
#include <QVBoxLayout>

#include "server/server.h"
#include "store/store.h"

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

QFrame *makeCard()
{
    auto *card = new QFrame;
    card->setObjectName(QStringLiteral("card"));
    card->setStyleSheet(QStringLiteral("QFrame#card { background: palette(base); border: 1px solid palette(mid);"
                                       " border-radius: 6px; }"));
    return card;
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

QWidget *makeSection(const QString &title, QWidget *content)
{
    auto *section = new QWidget;
    auto *layout = new QVBoxLayout(section);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    auto *heading = new QLabel(title);
    QFont font = heading->font();
    font.setWeight(QFont::DemiBold);
    heading->setFont(font);
    layout->addWidget(heading);
    layout->addWidget(content);
    return section;
}

} // namespace

DashboardPage::DashboardPage(Server &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_timer(new QTimer(this))
{
    setObjectName(QStringLiteral("dashboardPage"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(20);
    layout->addWidget(createServerSection());
    layout->addWidget(createRequestSection());
    layout->addWidget(createDatabaseSection());
    layout->addStretch(1);

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
