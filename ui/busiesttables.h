#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QWidget>

#include "observe/metricssummary.h"

class QLabel;
class QTableWidget;

namespace Outpost {
class Server;
}

namespace Outpost::Console {

// The Dashboard's two tables of a window: the busiest routes (route, method, requests, 4xx, 5xx)
// and the busiest API keys (name, id, requests, share of the window's requests), each replaced by
// a short note when it would be empty. Cells are updated in place, not re-created.
//
// Keys are named from ApiKeys::list(), read on server.blockingPool() when a key without a known
// name shows up, at most every kKeyNamesMs; until then a key shows as "(unknown)" with its id.
// Thread: GUI thread only. `server` must be running and outlive the widget.
class BusiestTables final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BusiestTables)

public:
    static constexpr int kKeyNamesMs = 10'000;

    explicit BusiestTables(Server &server, QWidget *parent = nullptr);
    ~BusiestTables() override;

    void showSummary(const Observe::MetricsSummary &summary);

private:
    void showRoutes();
    void showKeys();
    void loadKeyNames();

    Server &m_server;
    Observe::MetricsSummary m_summary; // as last shown
    QTableWidget *m_routes = nullptr;
    QLabel *m_noRoutes = nullptr;
    QTableWidget *m_keys = nullptr;
    QLabel *m_noKeys = nullptr;
    QHash<QString, QString> m_keyNames; // API key id → name
    QElapsedTimer m_keyNamesLoaded; // invalid: never loaded
    bool m_loadingKeyNames = false;
};

} // namespace Outpost::Console
