#include "settingspage.h"

#include <QFontDatabase>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Outpost::Console {

namespace {

constexpr int kColumnPadding = 28;

QTableWidgetItem *makeItem(const QString &text, bool monospace)
{
    auto *item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    item->setToolTip(text);
    if (monospace)
        item->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    return item;
}

} // namespace

SettingsPage::SettingsPage(const Config &config, QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("settingsPage"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);
    layout->addWidget(createConfigFileLabel(config));
    layout->addWidget(createTable(config));
    auto *hint = new QLabel(tr("Settings are read once at start-up. To change one, pass a command-line flag, set "
                               "its OUTPOST_* environment variable or edit the config file, then restart. A flag "
                               "wins over the environment, which wins over the file."));
    hint->setObjectName(QStringLiteral("settingsHint"));
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);
    layout->addStretch(1);
}

SettingsPage::~SettingsPage() = default;

QString SettingsPage::sourceText(const Config::Entry &entry)
{
    const QString name = configSourceName(entry.source);
    return entry.origin.isEmpty() ? name : name + QStringLiteral(" (") + entry.origin + u')';
}

QLabel *SettingsPage::createConfigFileLabel(const Config &config)
{
    auto *label = new QLabel;
    label->setObjectName(QStringLiteral("configFileLabel"));
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (config.configFile.isEmpty()) {
        label->setText(tr("No config file was read (name one with --config FILE or OUTPOST_CONFIG)."));
    } else {
        label->setTextFormat(Qt::RichText);
        label->setText(tr("Config file: <code>%1</code>").arg(config.configFile.toHtmlEscaped()));
    }
    return label;
}

QTableWidget *SettingsPage::createTable(const Config &config)
{
    auto *table = new QTableWidget(int(config.entries.size()), ColumnCount);
    table->setObjectName(QStringLiteral("settingsTable"));
    table->setHorizontalHeaderLabels({tr("Key"), tr("Value"), tr("Where it came from")});
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setAlternatingRowColors(true);
    table->setShowGrid(false);
    table->setWordWrap(false);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    table->horizontalHeader()->setSectionResizeMode(ValueColumn, QHeaderView::Stretch);
    // Only as tall as its rows, so the explanation below stays next to it.
    table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    table->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // long values elide; the tooltip has them
    table->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Maximum);
    for (int row = 0; row < config.entries.size(); ++row) {
        const Config::Entry &entry = config.entries.at(row);
        table->setItem(row, KeyColumn, makeItem(entry.key, true));
        QTableWidgetItem *value = makeItem(entry.value.isEmpty() ? tr("(not set)") : entry.value, true);
        value->setData(Qt::UserRole, entry.value); // the raw value, for copying and tests
        if (entry.value.isEmpty())
            value->setForeground(table->palette().brush(QPalette::PlaceholderText));
        table->setItem(row, ValueColumn, value);
        table->setItem(row, SourceColumn, makeItem(sourceText(entry), false));
    }
    for (int column : {KeyColumn, SourceColumn}) {
        table->resizeColumnToContents(column);
        table->setColumnWidth(column, table->columnWidth(column) + kColumnPadding);
    }
    return table;
}

} // namespace Outpost::Console
