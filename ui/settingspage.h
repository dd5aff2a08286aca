#pragma once

#include <QWidget>

#include "core/config.h"

class QLabel;
class QTableWidget;

namespace Outpost::Console {

// The effective configuration of this run, read-only: every key with its value and where the value
// came from (command line, environment, config file with line, or default), and the config file if
// one was read. Settings are read once at start-up; this page does not change them.
//
// Thread: GUI thread only. Keeps a copy of `config`.
class SettingsPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsPage)

public:
    enum Column { KeyColumn, ValueColumn, SourceColumn, ColumnCount };

    explicit SettingsPage(const Config &config, QWidget *parent = nullptr);
    ~SettingsPage() override;

    // "command line (--listen)", "environment (OUTPOST_LISTEN)", "config file (/etc/outpost.conf:3)",
    // "default".
    static QString sourceText(const Config::Entry &entry);

private:
    QLabel *createConfigFileLabel(const Config &config);
    QTableWidget *createTable(const Config &config);
};

} // namespace Outpost::Console
