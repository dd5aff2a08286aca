#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <optional>

namespace Outpost::Auth {

// The rules every new password must pass (app users and superusers alike), following OWASP's
// Authentication Cheat Sheet and NIST SP 800-63B §5.1.1.2: at least `minLength` characters (code
// points, as PocketBase counts them; never less than 8), at most kMaxPasswordBytes bytes (bounds the
// hashing work a request can ask for), and not one of the most common passwords (Openwall's
// public-domain list of 3,546, built in at compile time; compared case-insensitively). No
// composition rules: they make passwords weaker, not stronger.
constexpr int kMinPasswordLength = 8;
constexpr int kMaxPasswordBytes = 1024;

// PocketBase's field problem {code, message} for a password that breaks a rule, or nullopt.
// Codes: validation_min_text_constraint, validation_max_text_constraint, validation_common_password.
// Thread-safe (the list is built on first use).
std::optional<QJsonObject> passwordProblem(const QByteArray &password, int minLength = kMinPasswordLength);

// Whether `password` is on the built-in list (exposed for tests).
bool isCommonPassword(const QByteArray &password);

} // namespace Outpost::Auth
