#pragma once

#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace Outpost {
class Server;
}

namespace Outpost::Console {

class CollectionsPage;
class DashboardPage;
class LogsPage;
class SettingsPage;

// The console's window: a sidebar of pages on the left ("Dashboard", "Collections", "Logs",
// "Settings"), the
// selected page with its heading on the right. Titled "Outpost — <base URL>".
//
// Reads the server in-process through its accessors, never through the HTTP API. Closing the
// window does not stop the server: app/outpost.cpp owns both and stops the server after the event
// loop ends. Thread: GUI thread only. `server` must be running and outlive the window.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(Server &server, QWidget *parent = nullptr);
    ~MainWindow() override;

    DashboardPage *dashboardPage() const { return m_dashboard; }
    CollectionsPage *collectionsPage() const { return m_collections; }
    LogsPage *logsPage() const { return m_logs; }
    SettingsPage *settingsPage() const { return m_settings; }

private:
    void addPage(QWidget *page, const QString &title, const QString &subtitle);

    QListWidget *m_sidebar = nullptr;
    QStackedWidget *m_pages = nullptr;
    DashboardPage *m_dashboard = nullptr;
    CollectionsPage *m_collections = nullptr;
    LogsPage *m_logs = nullptr;
    SettingsPage *m_settings = nullptr;
};

} // namespace Outpost::Console
