#include "mainwindow.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QStackedWidget>
#include <QStatusBar>
#include <QVBoxLayout>

#include "collectionspage.h"
#include "dashboardpage.h"
#include "logspage.h"
#include "server/server.h"
#include "settingspage.h"

namespace Outpost::Console {

namespace {

constexpr int kSidebarWidth = 180;
constexpr int kPageMargin = 28;

QListWidget *makeSidebar()
{
    auto *sidebar = new QListWidget;
    sidebar->setObjectName(QStringLiteral("sidebar"));
    sidebar->setFixedWidth(kSidebarWidth);
    sidebar->setFrameShape(QFrame::NoFrame);
    sidebar->setSelectionMode(QAbstractItemView::SingleSelection);
    sidebar->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    sidebar->setStyleSheet(QStringLiteral(
        "QListWidget#sidebar { background: palette(window); border-right: 1px solid palette(mid);"
        " padding: 10px 8px; outline: 0; }"
        "QListWidget#sidebar::item { padding: 7px 8px; margin-bottom: 2px; border-radius: 5px; }"
        "QListWidget#sidebar::item:selected { background: palette(highlight); color: palette(highlighted-text); }"));
    return sidebar;
}

// Each page under a heading and a one-line explanation, with the same margins.
QWidget *wrapPage(QWidget *page, const QString &title, const QString &subtitle)
{
    auto *frame = new QWidget;
    auto *layout = new QVBoxLayout(frame);
    layout->setContentsMargins(kPageMargin, kPageMargin - 6, kPageMargin, kPageMargin);
    layout->setSpacing(4);
    auto *heading = new QLabel(title);
    heading->setObjectName(QStringLiteral("pageTitle"));
    QFont font = heading->font();
    font.setPointSizeF(font.pointSizeF() * 1.6);
    font.setWeight(QFont::DemiBold);
    heading->setFont(font);
    auto *explanation = new QLabel(subtitle);
    explanation->setObjectName(QStringLiteral("pageSubtitle"));
    explanation->setWordWrap(true);
    explanation->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(heading);
    layout->addWidget(explanation);
    layout->addSpacing(14);
    layout->addWidget(page, 1);
    return frame;
}

} // namespace

MainWindow::MainWindow(Server &server, QWidget *parent)
    : QMainWindow(parent)
    , m_sidebar(makeSidebar())
    , m_pages(new QStackedWidget)
    , m_dashboard(new DashboardPage(server))
    , m_collections(new CollectionsPage(server))
    , m_logs(new LogsPage(server))
    , m_settings(new SettingsPage(server.config()))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("Outpost — %1").arg(server.baseUrl()));
    m_pages->setObjectName(QStringLiteral("pages"));
    addPage(m_dashboard, tr("Dashboard"), tr("This server at a glance. Counters and charts update every second."));
    addPage(m_collections, tr("Collections"), tr("Collections and their records, edited in-process as a superuser."));
    addPage(m_logs, tr("Logs"), tr("Every request the server answered, newest first."));
    addPage(m_settings, tr("Settings"), tr("The effective configuration of this run and where each value came from."));
    connect(m_sidebar, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    m_sidebar->setCurrentRow(0);

    auto *central = new QWidget;
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    statusBar()->setSizeGripEnabled(true);
    resize(1200, 760); // room for the Dashboard's charts side by side
}

MainWindow::~MainWindow() = default;

void MainWindow::addPage(QWidget *page, const QString &title, const QString &subtitle)
{
    auto *item = new QListWidgetItem(title, m_sidebar);
    item->setSizeHint(QSize(0, 34));
    m_pages->addWidget(wrapPage(page, title, subtitle));
}

} // namespace Outpost::Console
