#include "firstrundialog.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QThreadPool>
#include <QVBoxLayout>

#include "auth/superusers.h"
#include "server/server.h"

namespace Outpost::Console {

namespace {

QLineEdit *makeEdit(const QString &objectName, QLineEdit::EchoMode echo)
{
    auto *edit = new QLineEdit;
    edit->setObjectName(objectName);
    edit->setEchoMode(echo);
    edit->setMinimumWidth(300);
    return edit;
}

QLabel *makeErrorLabel(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setStyleSheet(QStringLiteral("color: #c62828;"));
    label->hide();
    return label;
}

QWidget *makeBusyIndicator()
{
    auto *busy = new QWidget;
    busy->setObjectName(QStringLiteral("busyIndicator"));
    auto *row = new QHBoxLayout(busy);
    row->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QProgressBar;
    bar->setRange(0, 0); // indeterminate
    bar->setTextVisible(false);
    bar->setMaximumHeight(8);
    row->addWidget(new QLabel(FirstRunDialog::tr("Creating the superuser…")));
    row->addWidget(bar, 1);
    busy->hide();
    return busy;
}

QLabel *makeHeading(const QString &text)
{
    auto *heading = new QLabel(text);
    QFont font = heading->font();
    font.setPointSizeF(font.pointSizeF() * 1.4);
    font.setWeight(QFont::DemiBold);
    heading->setFont(font);
    return heading;
}

QLabel *makeIntro()
{
    auto *intro = new QLabel(FirstRunDialog::tr("A superuser manages everything in this Outpost instance, here and "
                                                "through the API. You can skip this and create one later with "
                                                "<code>outpostd&nbsp;superuser&nbsp;create&nbsp;EMAIL</code>."));
    intro->setTextFormat(Qt::RichText);
    intro->setWordWrap(true);
    return intro;
}

// Label and field share a row; the field's error has the row below, empty (and so taking no
// space) while the error is hidden.
void addField(QGridLayout *grid, const QString &text, QLineEdit *edit, QLabel *error)
{
    const int row = grid->rowCount();
    auto *label = new QLabel(text);
    label->setBuddy(edit);
    grid->addWidget(label, row, 0);
    grid->addWidget(edit, row, 1);
    grid->addWidget(error, row + 1, 1);
}

} // namespace

FirstRunDialog::FirstRunDialog(Server &server, QWidget *parent)
    : QDialog(parent)
    , m_server(server)
    , m_email(makeEdit(QStringLiteral("emailEdit"), QLineEdit::Normal))
    , m_password(makeEdit(QStringLiteral("passwordEdit"), QLineEdit::Password))
    , m_repeatPassword(makeEdit(QStringLiteral("repeatPasswordEdit"), QLineEdit::Password))
    , m_emailError(makeErrorLabel(QStringLiteral("emailError")))
    , m_passwordError(makeErrorLabel(QStringLiteral("passwordError")))
    , m_repeatPasswordError(makeErrorLabel(QStringLiteral("repeatPasswordError")))
    , m_formError(makeErrorLabel(QStringLiteral("formError")))
    , m_busyIndicator(makeBusyIndicator())
    , m_buttons(new QDialogButtonBox)
{
    setObjectName(QStringLiteral("firstRunDialog"));
    setWindowTitle(tr("Welcome to Outpost"));
    m_email->setPlaceholderText(tr("you@example.com"));
    createButtons();

    auto *form = new QGridLayout;
    form->setHorizontalSpacing(12);
    form->setVerticalSpacing(8);
    addField(form, tr("&Email"), m_email, m_emailError);
    addField(form, tr("&Password"), m_password, m_passwordError);
    addField(form, tr("&Repeat password"), m_repeatPassword, m_repeatPasswordError);

    auto *layout = new QVBoxLayout(this);
    layout->setSpacing(12);
    layout->addWidget(makeHeading(tr("Create the first superuser")));
    layout->addWidget(makeIntro());
    layout->addLayout(form);
    layout->addWidget(m_formError);
    layout->addWidget(m_busyIndicator);
    layout->addWidget(m_buttons);
    // Always its natural size: it grows when an error appears instead of squeezing the fields.
    layout->setSizeConstraint(QLayout::SetFixedSize);
}

FirstRunDialog::~FirstRunDialog() = default;

void FirstRunDialog::createButtons()
{
    m_createButton = m_buttons->addButton(tr("Create superuser"), QDialogButtonBox::AcceptRole);
    m_createButton->setObjectName(QStringLiteral("createButton"));
    m_createButton->setDefault(true);
    m_skipButton = m_buttons->addButton(tr("Skip"), QDialogButtonBox::RejectRole);
    m_skipButton->setObjectName(QStringLiteral("skipButton"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &FirstRunDialog::submit);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &FirstRunDialog::reject);
}

void FirstRunDialog::reject()
{
    if (!m_busy)
        QDialog::reject();
}

void FirstRunDialog::submit()
{
    if (m_busy)
        return;
    clearErrors();
    if (m_password->text() != m_repeatPassword->text()) {
        showError(m_repeatPasswordError, m_repeatPassword, tr("The passwords do not match."));
        m_repeatPassword->setFocus();
        m_repeatPassword->selectAll();
        return;
    }
    setBusy(true);
    const QString email = m_email->text();
    const QByteArray password = m_password->text().toUtf8();
    Auth::Superusers *superusers = &m_server.superusers();
    Server *server = &m_server;
    QPointer<FirstRunDialog> self(this);
    // The server is the context object: it outlives every task of its pool (stop() waits for
    // them), whereas this dialog may be gone by the time the hash is done. `self` is only read on
    // the GUI thread.
    m_server.blockingPool()->start([superusers, server, self, email, password] {
        Result<Auth::Superuser> result = superusers->create(email, password);
        QMetaObject::invokeMethod(
            server,
            [self, result] {
                if (self)
                    self->finish(result);
            },
            Qt::QueuedConnection);
    });
}

void FirstRunDialog::finish(const Result<Auth::Superuser> &result)
{
    setBusy(false);
    if (result) {
        Q_EMIT superuserCreated(result->email);
        accept();
        return;
    }
    showFieldErrors(result.error());
}

void FirstRunDialog::setBusy(bool busy)
{
    m_busy = busy;
    for (QWidget *w : {static_cast<QWidget *>(m_email), static_cast<QWidget *>(m_password),
                       static_cast<QWidget *>(m_repeatPassword), static_cast<QWidget *>(m_buttons)})
        w->setEnabled(!busy);
    m_busyIndicator->setVisible(busy);
}

void FirstRunDialog::clearErrors()
{
    for (QLabel *label : {m_emailError, m_passwordError, m_repeatPasswordError, m_formError}) {
        label->clear();
        label->hide();
    }
    for (QLineEdit *edit : {m_email, m_password, m_repeatPassword})
        edit->setAccessibleDescription(QString());
}

void FirstRunDialog::showError(QLabel *label, QLineEdit *edit, const QString &message)
{
    label->setText(message);
    label->show();
    if (edit)
        edit->setAccessibleDescription(message); // screen readers announce it with the field
}

void FirstRunDialog::showFieldErrors(const Error &error)
{
    const QJsonObject fields = error.details.value(QStringLiteral("fields")).toObject();
    QLineEdit *first = nullptr;
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const QString message = it.value().toObject().value(QStringLiteral("message")).toString();
        QLineEdit *edit = it.key() == u"email" ? m_email : it.key() == u"password" ? m_password : nullptr;
        if (!edit)
            continue;
        showError(edit == m_email ? m_emailError : m_passwordError, edit, message);
        if (!first)
            first = edit;
    }
    if (!first) {
        showError(m_formError, nullptr, tr("Could not create the superuser: %1").arg(error.message));
        return;
    }
    first->setFocus();
    first->selectAll();
}

} // namespace Outpost::Console
