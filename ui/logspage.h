#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QPushButton;
class QTableView;
class QTimer;

namespace Outpost {
class Server;
}

namespace Outpost::Console {

class RequestLogModel;

// The "Logs" page: logs.db's request log, newest first, in a table that loads pages as it is
// scrolled (RequestLogModel), with filters for the status (any, a class such as 4xx, or a code),
// the route template, the caller ("apikey" for every key, "apikey:ID" for one) and a time range.
// Filters apply a moment after the last change (typing does not start a query per key); Refresh
// loads the newest rows again, and "Follow" does so every kFollowMs while the newest row is in view.
//
// Thread: GUI thread only. `server` must be running and outlive the page.
class LogsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogsPage)

public:
    static constexpr int kFollowMs = 2000;
    static constexpr int kFilterDelayMs = 300;

    explicit LogsPage(Server &server, QWidget *parent = nullptr);
    ~LogsPage() override;

    RequestLogModel *model() const { return m_model; }
    // Reads the filter controls into the model now (a changed filter reloads).
    void applyFilters();
    // Loads the newest rows matching the filters again.
    void refresh();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QWidget *createFilterBar();
    void fillRouteChoices();
    void loadKeyNames();
    void scheduleFilters();
    void showLoaded();
    void follow();

    Server &m_server;
    RequestLogModel *m_model = nullptr;
    QComboBox *m_status = nullptr;
    QComboBox *m_route = nullptr;
    QComboBox *m_caller = nullptr;
    QCheckBox *m_fromEnabled = nullptr;
    QDateTimeEdit *m_from = nullptr;
    QCheckBox *m_toEnabled = nullptr;
    QDateTimeEdit *m_to = nullptr;
    QPushButton *m_refresh = nullptr;
    QCheckBox *m_follow = nullptr;
    QLabel *m_filterError = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_summary = nullptr;
    QTimer *m_filterTimer = nullptr;
    QTimer *m_followTimer = nullptr;
    bool m_loadedOnce = false;
};

} // namespace Outpost::Console
