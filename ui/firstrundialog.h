#pragma once

#include <QDialog>

#include "core/result.h"

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QWidget;

namespace Outpost {
class Server;
}
namespace Outpost::Auth {
struct Superuser;
}

namespace Outpost::Console {

// Shown when the install has no superuser yet: asks for an email and a password (twice) and creates
// the superuser. The repeated password is compared here; everything else (email shape, password
// length, a taken email) is the backend's to decide, and its per-field errors are shown under the
// field they concern, with the focus moved there.
//
// Creating hashes a password (tens of ms), so it runs on server.blockingPool(); meanwhile the form
// is disabled and a busy indicator shows, and the dialog cannot be dismissed. On success it emits
// superuserCreated() and accepts; "Skip" rejects (a superuser can be created later with
// `outpostd superuser create`).
//
// Thread: GUI thread only. `server` must be running and outlive the dialog; the dialog may be
// deleted while a creation is under way (the result is then dropped).
class FirstRunDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FirstRunDialog)

public:
    explicit FirstRunDialog(Server &server, QWidget *parent = nullptr);
    ~FirstRunDialog() override;

    bool isBusy() const { return m_busy; }

    // Ignored while a creation is under way.
    void reject() override;

Q_SIGNALS:
    void superuserCreated(const QString &email);

private:
    void createButtons();
    void submit();
    void finish(const Result<Auth::Superuser> &result);
    void setBusy(bool busy);
    void clearErrors();
    void showFieldErrors(const Error &error);
    void showError(QLabel *label, QLineEdit *edit, const QString &message);

    Server &m_server;
    bool m_busy = false;
    QLineEdit *m_email = nullptr;
    QLineEdit *m_password = nullptr;
    QLineEdit *m_repeatPassword = nullptr;
    QLabel *m_emailError = nullptr;
    QLabel *m_passwordError = nullptr;
    QLabel *m_repeatPasswordError = nullptr;
    QLabel *m_formError = nullptr;
    QWidget *m_busyIndicator = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QPushButton *m_createButton = nullptr;
    QPushButton *m_skipButton = nullptr;
};

} // namespace Outpost::Console
